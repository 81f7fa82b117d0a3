//! Public on-demand prices in us-east-1, in US dollars, the one place they are kept. Free tiers
//! are left out: they matter to a hobby project, not to what a user costs at scale.

use crate::{Service, Tally, Unit, Usage};
use serde::{Deserialize, Serialize};

/// When these prices were last checked against AWS's pricing pages (the latest change among
/// them: DynamoDB on-demand throughput halved on 2024-11-01). Override any with
/// `huddle cost --price NAME=USD` before a budget decision.
pub const PRICES_AS_OF: &str = "2024-11-01";

/// One price per billed unit, by the name `--price` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub as_of: String,
    /// HTTP API, per request (first 300 million a month).
    pub http_api_request: f64,
    /// Lambda, per invocation.
    pub lambda_request: f64,
    /// Lambda on arm64 (template.yaml's default architecture), per GB-second.
    pub lambda_gb_second: f64,
    /// DynamoDB on-demand, per read request unit.
    pub dynamodb_read_request_unit: f64,
    /// DynamoDB on-demand, per write request unit.
    pub dynamodb_write_request_unit: f64,
    /// DynamoDB Standard table class, per GB stored a month.
    pub dynamodb_gb_month: f64,
    /// SNS standard topics, per request (64 KB); deliveries to SQS are free.
    pub sns_request: f64,
    /// SNS mobile push, per notification delivered.
    pub mobile_push_delivery: f64,
    /// SQS standard queues, per request (64 KB).
    pub sqs_request: f64,
    /// S3 Standard, per PUT, COPY, POST or LIST request.
    pub s3_write_request: f64,
    /// S3 Standard, per GET or HEAD request.
    pub s3_read_request: f64,
    /// S3 Standard, per GB stored a month.
    pub s3_gb_month: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            as_of: PRICES_AS_OF.to_owned(),
            http_api_request: 1.00 / 1e6,
            lambda_request: 0.20 / 1e6,
            lambda_gb_second: 0.000_013_333_4,
            dynamodb_read_request_unit: 0.125 / 1e6,
            dynamodb_write_request_unit: 0.625 / 1e6,
            dynamodb_gb_month: 0.25,
            sns_request: 0.50 / 1e6,
            mobile_push_delivery: 0.50 / 1e6,
            sqs_request: 0.40 / 1e6,
            s3_write_request: 0.005 / 1e3,
            s3_read_request: 0.0004 / 1e3,
            s3_gb_month: 0.023,
        }
    }
}

const GB: f64 = 1024.0 * 1024.0 * 1024.0;

impl Prices {
    /// The names [`Prices::set`] takes: the fields' own.
    pub fn names() -> Vec<String> {
        match serde_json::to_value(Prices::default()) {
            Ok(serde_json::Value::Object(fields)) => {
                fields.keys().filter(|name| *name != "as_of").cloned().collect()
            }
            _ => unreachable!("Prices serializes to an object"),
        }
    }

    /// Override one price, by its name (see [`Prices::names`]).
    pub fn set(&mut self, name: &str, usd: f64) -> Result<(), String> {
        if !usd.is_finite() || usd < 0.0 {
            return Err(format!("price {name}={usd}: a price is a finite number of dollars, at least 0"));
        }
        if !Self::names().iter().any(|known| known == name) {
            return Err(format!("no price is named {name:?}; the names are {}", Self::names().join(", ")));
        }
        let mut fields = serde_json::to_value(&*self).expect("prices serialize");
        fields[name] = serde_json::json!(usd);
        fields["as_of"] = serde_json::json!(format!("{PRICES_AS_OF}, with overrides"));
        *self = serde_json::from_value(fields).expect("the same fields read back");
        Ok(())
    }

    fn per_unit(&self, unit: Unit) -> f64 {
        match unit {
            Unit::HttpApiRequests => self.http_api_request,
            Unit::LambdaGbSeconds => self.lambda_gb_second,
            Unit::ReadRequestUnits => self.dynamodb_read_request_unit,
            Unit::WriteRequestUnits => self.dynamodb_write_request_unit,
            Unit::SnsRequests => self.sns_request,
            Unit::SqsRequests => self.sqs_request,
            Unit::S3WriteRequests => self.s3_write_request,
            Unit::S3ReadRequests => self.s3_read_request,
            Unit::MobilePushDeliveries => self.mobile_push_delivery,
        }
    }

    /// What one line's requests cost (Lambda's invocations included); storage apart.
    pub fn requests(&self, service: Service, unit: Unit, tally: &Tally) -> f64 {
        let invocations = if service == Service::Lambda { tally.calls * self.lambda_request } else { 0.0 };
        tally.billed * self.per_unit(unit) + invocations
    }

    /// What keeping one line's stored bytes costs for a month.
    pub fn storage_month(&self, service: Service, tally: &Tally) -> f64 {
        let per_gb = match service {
            Service::DynamoDB => self.dynamodb_gb_month,
            Service::S3 => self.s3_gb_month,
            _ => 0.0,
        };
        tally.stored_bytes / GB * per_gb
    }

    /// What `usage`'s requests cost.
    pub fn usage(&self, usage: &Usage) -> f64 {
        usage.iter().map(|(line, tally)| self.requests(line.service, line.unit, tally)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Line;

    #[test]
    fn lambda_lines_pay_for_invocations_and_gigabyte_seconds_and_overrides_apply() {
        let mut prices = Prices::default();
        let mut usage = Usage::new();
        let lambda = Line::new(Service::Lambda, "FanoutFunction", Unit::LambdaGbSeconds);
        usage.insert(lambda, Tally { calls: 2.0, billed: 0.5, stored_bytes: 0.0 });
        let expected = 2.0 * 0.20 / 1e6 + 0.5 * 0.000_013_333_4;
        assert!((prices.usage(&usage) - expected).abs() < 1e-15);

        prices.set("lambda_request", 0.0).unwrap();
        assert!((prices.usage(&usage) - 0.5 * 0.000_013_333_4).abs() < 1e-15);
        assert!(prices.as_of.contains("overrides"));
        assert!(prices.set("lambda_requests", 1.0).is_err());
        assert!(prices.set("lambda_request", -1.0).is_err());
        assert!(prices.set("lambda_request", f64::NAN).is_err());
    }
}
