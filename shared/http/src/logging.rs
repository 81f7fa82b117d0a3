//! JSON log lines on stderr; CloudWatch and the local runner's console keep them as structured
//! fields.
//!
//! `HUDDLE_LOG_LEVEL` (`off`, `error`, `warn`, `info`, `debug` or `trace`; `info` when unset) is
//! the level of Huddle's own code: every crate is `huddle_*` and the runner's binary is `huddle`,
//! so every target of ours starts with `huddle`. Libraries log at `warn` at most, whatever the
//! level, because at `debug` and `trace` they write what passes through them: lambda_runtime the
//! raw event (a sign-up's password), the AWS SDK request and response bodies (items, keys). The
//! one exception is lambda_runtime at `info`, whose span carries the Lambda request id into each
//! line. `RUST_LOG` is not read, so no setting brings those libraries' bodies back into a log.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The variable naming the level of Huddle's own code.
pub const LOG_LEVEL_VARIABLE: &str = "HUDDLE_LOG_LEVEL";

/// Start logging as `HUDDLE_LOG_LEVEL` says. Safe to call more than once.
pub fn init_logging() {
    let requested = std::env::var(LOG_LEVEL_VARIABLE).ok();
    let parsed = requested.as_deref().map(str::parse::<LevelFilter>);
    let level = match parsed {
        Some(Ok(level)) => level,
        _ => LevelFilter::INFO,
    };
    let installed = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(std::io::stderr)
                .with_filter(log_filter(level)),
        )
        .try_init();
    if installed.is_ok() && matches!(parsed, Some(Err(_))) {
        tracing::warn!(value = requested, "{LOG_LEVEL_VARIABLE} is not a log level; logging at info");
    }
}

/// `level` for Huddle's targets, at most `warn` for every other (at most `info` for
/// lambda_runtime's request span).
fn log_filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::WARN))
        .with_target("lambda_runtime", level.min(LevelFilter::INFO))
        .with_target("huddle", level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn enabled(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn huddle_targets_follow_the_level_and_libraries_stay_at_warn() {
        let trace = log_filter(LevelFilter::TRACE);
        for ours in ["huddle", "huddle_http::error", "huddle_accounts::command", "huddle_runner::gateway"] {
            assert!(enabled(&trace, ours, Level::TRACE), "{ours}");
        }
        for library in ["aws_smithy_runtime::client::orchestrator", "hyper::proto", "aws_config", "reqwest"] {
            assert!(!enabled(&trace, library, Level::INFO), "{library}");
            assert!(enabled(&trace, library, Level::WARN), "{library} warnings still show");
        }
        assert!(!enabled(&trace, "lambda_runtime::layers::api_response", Level::TRACE), "the raw event");
        assert!(!enabled(&trace, "lambda_runtime::layers::api_response", Level::DEBUG));
        assert!(enabled(&trace, "lambda_runtime::layers::trace", Level::INFO), "the request id span");

        let error = log_filter(LevelFilter::ERROR);
        assert!(!enabled(&error, "hyper", Level::WARN), "never more than asked for");
        assert!(!enabled(&error, "huddle_http", Level::WARN));
        assert!(enabled(&error, "huddle_http", Level::ERROR));
        assert!(!enabled(&log_filter(LevelFilter::OFF), "huddle_http", Level::ERROR));
    }
}
