//! SNS filter policies on message attributes, evaluated the way SNS evaluates them.
//!
//! Supported: exact strings, `prefix`, `suffix`, `anything-but` (a string, a list, or a
//! `prefix`), `exists`, and `equals-ignore-case`. Every key of the policy must match (AND); the
//! values listed under one key are alternatives (OR).

use crate::Attributes;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    source: Value,
    rules: Vec<(String, Vec<Matcher>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<String>),
    AnythingButPrefix(String),
    Exists(bool),
}

#[derive(Debug, thiserror::Error)]
#[error("unsupported filter policy: {0}")]
pub struct FilterPolicyError(String);

impl FilterPolicy {
    /// The policy that lets through exactly the messages whose `attribute` is one of `values`.
    pub fn attribute_in(attribute: &str, values: &[&str]) -> Self {
        Self::all_of(&[(attribute, values)])
    }

    /// The policy that lets through exactly the messages whose every listed attribute is one of
    /// its values, e.g. a stream type and an event type: two domains may then reuse an event
    /// name without receiving each other's events.
    pub fn all_of(rules: &[(&str, &[&str])]) -> Self {
        let source: serde_json::Map<String, Value> =
            rules.iter().map(|(attribute, values)| ((*attribute).to_owned(), Value::from(*values))).collect();
        Self::parse(Value::Object(source)).expect("lists of strings make a valid policy")
    }

    pub fn parse(source: Value) -> Result<Self, FilterPolicyError> {
        let object = source.as_object().ok_or_else(|| FilterPolicyError("not a JSON object".into()))?;
        let mut rules = Vec::new();
        for (attribute, alternatives) in object {
            let alternatives = alternatives
                .as_array()
                .ok_or_else(|| FilterPolicyError(format!("{attribute}: expected a list")))?;
            let matchers = alternatives.iter().map(Matcher::parse).collect::<Result<Vec<_>, _>>()?;
            rules.push((attribute.clone(), matchers));
        }
        Ok(Self { source, rules })
    }

    /// The policy as SNS takes it (the `FilterPolicy` subscription attribute).
    pub fn to_json(&self) -> String {
        self.source.to_string()
    }

    /// Whether a message whose `attribute` is `value` can match, whatever its other attributes:
    /// false only when the policy's rule for `attribute` refuses `value`. Lets a reader that
    /// knows one attribute (a stream's type) skip what the subscription never delivers.
    pub fn may_match(&self, attribute: &str, value: &str) -> bool {
        self.rules
            .iter()
            .filter(|(name, _)| name == attribute)
            .all(|(_, matchers)| matchers.iter().any(|matcher| matcher.matches(Some(value))))
    }

    pub fn matches(&self, attributes: &Attributes) -> bool {
        self.rules.iter().all(|(attribute, matchers)| {
            let value = attributes.get(attribute).map(String::as_str);
            matchers.iter().any(|matcher| matcher.matches(value))
        })
    }
}

impl Matcher {
    fn parse(value: &Value) -> Result<Self, FilterPolicyError> {
        let unsupported = || FilterPolicyError(value.to_string());
        if let Some(exact) = value.as_str() {
            return Ok(Matcher::Exact(exact.to_owned()));
        }
        let object = value.as_object().filter(|o| o.len() == 1).ok_or_else(unsupported)?;
        let (operator, operand) = object.iter().next().expect("one entry");
        let text = || operand.as_str().map(str::to_owned).ok_or_else(unsupported);
        Ok(match operator.as_str() {
            "prefix" => Matcher::Prefix(text()?),
            "suffix" => Matcher::Suffix(text()?),
            "equals-ignore-case" => Matcher::EqualsIgnoreCase(text()?),
            "exists" => Matcher::Exists(operand.as_bool().ok_or_else(unsupported)?),
            "anything-but" => match operand {
                Value::String(one) => Matcher::AnythingBut(vec![one.clone()]),
                Value::Array(many) => Matcher::AnythingBut(
                    many.iter()
                        .map(|v| v.as_str().map(str::to_owned).ok_or_else(unsupported))
                        .collect::<Result<_, _>>()?,
                ),
                Value::Object(inner) if inner.len() == 1 && inner.contains_key("prefix") => {
                    Matcher::AnythingButPrefix(inner["prefix"].as_str().ok_or_else(unsupported)?.to_owned())
                }
                _ => return Err(unsupported()),
            },
            _ => return Err(unsupported()),
        })
    }

    fn matches(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (Matcher::Exists(wanted), value) => *wanted == value.is_some(),
            (_, None) => false,
            (Matcher::Exact(expected), Some(v)) => v == expected,
            (Matcher::Prefix(prefix), Some(v)) => v.starts_with(prefix.as_str()),
            (Matcher::Suffix(suffix), Some(v)) => v.ends_with(suffix.as_str()),
            (Matcher::EqualsIgnoreCase(expected), Some(v)) => v.eq_ignore_ascii_case(expected),
            (Matcher::AnythingBut(excluded), Some(v)) => !excluded.iter().any(|e| e == v),
            (Matcher::AnythingButPrefix(prefix), Some(v)) => !v.starts_with(prefix.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_key_must_match_and_alternatives_are_ored() {
        let policy = FilterPolicy::parse(json!({
            "event_type": ["PostCreated", {"prefix": "Like"}],
            "stream": [{"anything-but": {"prefix": "test#"}}]
        }))
        .unwrap();
        assert!(policy.matches(&attrs(&[("event_type", "PostCreated"), ("stream", "post#1")])));
        assert!(policy.matches(&attrs(&[("event_type", "LikeAdded"), ("stream", "post#1")])));
        assert!(!policy.matches(&attrs(&[("event_type", "LikeAdded"), ("stream", "test#1")])));
        assert!(!policy.matches(&attrs(&[("event_type", "Other"), ("stream", "post#1")])));
        assert!(!policy.matches(&attrs(&[("stream", "post#1")])));
    }

    #[test]
    fn may_match_judges_one_attribute_and_leaves_the_others_open() {
        let policy = FilterPolicy::all_of(&[("stream_type", &["account"]), ("event_type", &["A", "B"])]);
        assert!(policy.may_match("stream_type", "account"));
        assert!(!policy.may_match("stream_type", "username"));
        assert!(policy.may_match("stream_id", "anything"), "no rule for it");
        let open = FilterPolicy::parse(json!({})).unwrap();
        assert!(open.may_match("stream_type", "username"));
    }

    #[test]
    fn anything_but_and_exists_treat_missing_attributes_as_sns_does() {
        let but = FilterPolicy::parse(json!({"kind": [{"anything-but": ["a", "b"]}]})).unwrap();
        assert!(but.matches(&attrs(&[("kind", "c")])));
        assert!(!but.matches(&attrs(&[("kind", "a")])));
        assert!(!but.matches(&attrs(&[])), "anything-but needs the attribute to be present");

        let absent = FilterPolicy::parse(json!({"kind": [{"exists": false}]})).unwrap();
        assert!(absent.matches(&attrs(&[])));
        assert!(!absent.matches(&attrs(&[("kind", "a")])));
    }

    #[test]
    fn all_of_needs_every_attribute_to_be_one_of_its_values() {
        let policy =
            FilterPolicy::all_of(&[("stream_type", &["account"]), ("event_type", &["Created", "Erased"])]);
        assert_eq!(
            policy,
            FilterPolicy::parse(json!({"stream_type": ["account"], "event_type": ["Created", "Erased"]}))
                .unwrap()
        );
        assert!(policy.matches(&attrs(&[("stream_type", "account"), ("event_type", "Erased")])));
        assert!(!policy.matches(&attrs(&[("stream_type", "post"), ("event_type", "Created")])));
        assert!(!policy.matches(&attrs(&[("event_type", "Created")])));
    }

    #[test]
    fn unsupported_operators_are_refused() {
        assert!(FilterPolicy::parse(json!({"n": [{"numeric": [">", 1]}]})).is_err());
        assert!(FilterPolicy::parse(json!(["not", "an", "object"])).is_err());
    }
}
