//! What the runner meters as Lambda and API Gateway would bill it: each function invocation with
//! its template.yaml memory (GB-seconds and the request charge), each HttpApi request, and the
//! attribution every call inside an invocation is charged to.

use huddle_metering::{units, Attribution, Line, Meter, Service, Tally, Unit};
use std::future::Future;
use std::time::Instant;

/// A function as template.yaml deploys it: its logical id and configured memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedFunction {
    pub id: String,
    pub memory_mb: u32,
}

impl DeployedFunction {
    /// The function with logical id `id` in template.yaml (compiled in); its `MemorySize`, or the
    /// Globals' when it sets none or is not in the template yet (a domain `huddle template` has
    /// not written, a test's domain), as a generated block without a memory setting would get.
    pub fn named(id: &str) -> Self {
        Self { id: id.to_owned(), memory_mb: memory_size(crate::TEMPLATE, id) }
    }

    /// A domain's function in `role` (`Command`, `Query`, `Projector`): see
    /// [`crate::template::function_id`].
    pub fn of_domain(domain: &str, role: &str) -> Self {
        Self::named(&crate::template::function_id(domain, role))
    }
}

/// What Lambda gives a function that sets no memory.
const LAMBDA_DEFAULT_MEMORY_MB: u32 = 128;

/// The configured memory of function `id` in `template`: its own `MemorySize`, else the
/// Globals', else Lambda's default. A value that is no plain number (a `!Ref`) counts as unset:
/// the runner starts whatever the template says, and the tests below pin today's values.
fn memory_size(template: &str, id: &str) -> u32 {
    let setting = |block: &str, indent: &str| {
        block
            .lines()
            .find_map(|line| line.strip_prefix(indent)?.strip_prefix("MemorySize: "))
            .and_then(|value| value.trim().parse().ok())
    };
    let block_after = |start: &str, indent: &str| {
        template.split_once(start).map(|(_, rest)| {
            let end = rest.lines().position(|line| !line.is_empty() && !line.starts_with(indent));
            rest.lines().take(end.unwrap_or(usize::MAX)).collect::<Vec<_>>().join("\n")
        })
    };
    block_after(&format!("\n  {id}:\n"), "   ")
        .filter(|block| block.contains("Type: AWS::Serverless::Function"))
        .and_then(|function| setting(&function, "      "))
        .or_else(|| {
            block_after("\nGlobals:\n  Function:\n", "   ").and_then(|globals| setting(&globals, "    "))
        })
        .unwrap_or(LAMBDA_DEFAULT_MEMORY_MB)
}

/// A function as a mapping or schedule invokes it, metered when there is a meter.
#[derive(Clone)]
pub struct Invoker {
    function: DeployedFunction,
    meter: Option<Meter>,
}

impl Invoker {
    pub fn new(function: DeployedFunction, meter: Option<Meter>) -> Self {
        Self { function, meter }
    }

    /// One invocation: see [`invoke`].
    pub async fn run<F: Future>(&self, attribution: Attribution, work: F) -> F::Output {
        invoke(self.meter.as_ref(), &self.function, attribution, work).await
    }
}

/// Runs one invocation of `function` under `attribution`, and meters it when there is a meter.
pub async fn invoke<F: Future>(
    meter: Option<&Meter>,
    function: &DeployedFunction,
    attribution: Attribution,
    work: F,
) -> F::Output {
    let Some(meter) = meter else { return work.await };
    let started = Instant::now();
    let output = attribution.clone().in_function(&function.id).scope(work).await;
    meter.record_invocation(&attribution, &function.id, function.memory_mb, started.elapsed());
    output
}

/// One HttpApi request of `bytes` (its body and the response's) charged to the attribution in
/// scope.
pub fn record_http_api_request(meter: Option<&Meter>, bytes: usize) {
    if let Some(meter) = meter {
        let line = Line::new(Service::ApiGateway, "HttpApi request", Unit::HttpApiRequests);
        meter.record(line, Tally { calls: 1.0, billed: units::http_api_requests(bytes), stored_bytes: 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_comes_from_the_function_or_the_globals() {
        assert_eq!(DeployedFunction::of_domain("accounts", "Command").memory_mb, 1024);
        let globals = memory_size(crate::TEMPLATE, "NotFoundFunction");
        assert_eq!(globals, 256, "NotFound sets none of its own, so the Globals' applies");
        assert_eq!(DeployedFunction::named("FanoutFunction").id, "FanoutFunction");
    }

    #[test]
    fn a_function_the_template_lacks_yet_gets_the_globals_memory() {
        assert_eq!(DeployedFunction::of_domain("scratch", "Command").memory_mb, 256);
    }

    #[test]
    fn a_memory_that_is_no_number_falls_back_and_no_setting_at_all_is_lambdas_default() {
        let template = "Globals:\n  Function:\n    MemorySize: !Ref Memory\n\nResources:\n  OneFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      MemorySize: 512\n";
        assert_eq!(memory_size(template, "OneFunction"), 512);
        assert_eq!(memory_size(template, "OtherFunction"), LAMBDA_DEFAULT_MEMORY_MB);
    }
}
