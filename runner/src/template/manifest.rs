//! A domain's `deploy.toml`: what its block of template.yaml needs beyond the declaration
//! (`Domain::name`, `routes`, `consumes`). Only what differs from domain to domain: sizes,
//! extra environment variables and IAM statements per role, and the text that explains them.
//! Values are written as template.yaml takes them (`!Ref LegacyIssuer`), so what a reader sees
//! here is what lands there.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployManifest {
    /// Lines after the domain's heading: what it is for.
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub command: RoleManifest,
    #[serde(default)]
    pub query: RoleManifest,
    #[serde(default)]
    pub projector: RoleManifest,
    #[serde(default)]
    pub operator: RoleManifest,
    /// The function that deals with uploads, for a domain with an upload prefix.
    #[serde(default)]
    pub uploads: RoleManifest,
}

/// One role's function and IAM role, beyond what every domain's function of that role gets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleManifest {
    /// Lines after the generated comment above the function.
    #[serde(default)]
    pub comment: Option<String>,
    /// MemorySize in MB, with why (the Globals' value otherwise).
    #[serde(default)]
    pub memory: Option<Setting>,
    /// Timeout in seconds, with why.
    #[serde(default)]
    pub timeout: Option<Setting>,
    #[serde(default)]
    pub environment: Vec<Variable>,
    #[serde(default)]
    pub statements: Vec<Statement>,
}

/// A figure that differs from the Globals, and why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub value: u32,
    pub why: String,
}

/// An environment variable: a template value, or a Secrets Manager secret of the template,
/// passed as a dynamic reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    /// The logical id of an `AWS::SecretsManager::Secret`.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// An IAM statement allowing `actions` on `resource`, to the partition keys `leading_keys` only
/// when given; or on the media bucket's objects under the key prefix `objects` (the bucket's
/// logical id is the platform's, so a manifest names only the prefix).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub objects: Option<String>,
    #[serde(default)]
    pub leading_keys: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

impl DeployManifest {
    /// The manifest in `text`, refused when one of its statements would grant more than it
    /// could mean to (see [`Statement::check`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        let manifest: Self = toml::from_str(text).map_err(|error| error.to_string())?;
        let roles =
            [&manifest.command, &manifest.query, &manifest.projector, &manifest.operator, &manifest.uploads];
        for role in roles {
            role.statements.iter().try_for_each(Statement::check)?;
        }
        Ok(manifest)
    }
}

impl Statement {
    /// A statement goes into template.yaml as it is written, so one slip would grant silently:
    /// no wildcard action or resource, nothing that could break out of its YAML line, and the
    /// shared events table only by the partition keys it names (every domain's streams, keys
    /// and idempotency records live there).
    fn check(&self) -> Result<(), String> {
        let refuse = |why: &str| Err(format!("statement {}: {why}", self.sid));
        let resource = [&self.resource].into_iter().filter(|resource| !resource.is_empty());
        let texts = std::iter::once(&self.sid)
            .chain(&self.actions)
            .chain(resource)
            .chain(&self.objects)
            .chain(&self.leading_keys);
        if texts.clone().any(|text| text.is_empty() || text.chars().any(char::is_control)) {
            return refuse("empty values and control characters (line breaks) are refused");
        }
        if self.actions.is_empty() || self.actions.iter().any(|action| action.contains('*')) {
            return refuse("name each action; wildcards are refused");
        }
        if self.resource.contains('*') {
            return refuse("name the resource; wildcards are refused");
        }
        match &self.objects {
            None if self.resource.is_empty() => return refuse("name a `resource` or the bucket's `objects`"),
            Some(_) if !self.resource.is_empty() => return refuse("a `resource` or `objects`, not both"),
            Some(prefix)
                if !prefix.ends_with('/')
                    || prefix.starts_with('/')
                    || prefix.contains(['*', '?', '$', '"'])
                    || prefix.chars().any(char::is_control) =>
            {
                return refuse("`objects` is a key prefix ending in `/`, without wildcards or quotes")
            }
            _ => {}
        }
        if self.resource.contains("EventsTable") && self.leading_keys.is_empty() {
            return refuse("the events table is shared: name the partition keys (`leading_keys`)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_would_grant_more_than_they_name_are_refused() {
        let statement =
            |body: &str| DeployManifest::parse(&format!("[[command.statements]]\nsid = \"S\"\n{body}"));
        let events = "resource = \"!GetAtt EventsTable.Arn\"\n";
        assert!(
            statement(&format!("actions = [\"dynamodb:Query\"]\n{events}leading_keys = [\"pin#*\"]")).is_ok()
        );
        assert!(statement("actions = [\"s3:GetObject\"]\nobjects = \"media/\"").is_ok());
        for (body, why) in [
            (format!("actions = [\"dynamodb:Query\"]\n{events}"), "leading_keys"),
            (format!("actions = [\"dynamodb:*\"]\n{events}leading_keys = [\"pin#*\"]"), "wildcards"),
            ("actions = [\"dynamodb:Query\"]\nresource = \"*\"".to_owned(), "wildcards"),
            (format!("actions = []\n{events}leading_keys = [\"pin#*\"]"), "each action"),
            ("actions = [\"s3:GetObject\"]".to_owned(), "name a `resource`"),
            ("actions = [\"s3:GetObject\"]\nobjects = \"media\"".to_owned(), "ending in `/`"),
            ("actions = [\"s3:GetObject\"]\nobjects = \"media/*\"".to_owned(), "without wildcards"),
            ("actions = [\"s3:GetObject\"]\nobjects = \"a\\\"/\"".to_owned(), "quotes"),
            (format!("actions = [\"s3:GetObject\"]\n{events}objects = \"media/\""), "not both"),
            (
                format!(
                    "actions = [\"dynamodb:Query\\n  - Effect: Allow\"]\n{events}leading_keys = [\"pin#*\"]"
                ),
                "control characters",
            ),
        ] {
            let error = statement(&body).unwrap_err();
            assert!(error.contains(why), "{body}: {error}");
        }
    }

    #[test]
    fn a_misspelt_key_is_refused_rather_than_ignored() {
        let error =
            DeployManifest::parse("[command]\nmemroy = { value = 1024, why = \"argon2\" }\n").unwrap_err();
        assert!(error.to_string().contains("memroy"), "{error}");
        let manifest =
            DeployManifest::parse("[command]\nmemory = { value = 1024, why = \"argon2\" }\n").unwrap();
        assert_eq!(manifest.command.memory.map(|memory| memory.value), Some(1024));
    }
}
