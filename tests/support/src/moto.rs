//! One moto server per test process, started on first use on a free loopback port.
//!
//! The server runs from the project's virtualenv (`.venv`, made by `scripts/test`); a missing
//! virtualenv fails the test with the command that makes it, it never skips the test.
//!
//! With [`EXTERNAL_ENDPOINT`] set, every test uses the AWS-compatible emulator already running
//! there instead (to run the AWS family on another emulator, e.g. fakecloud); no moto starts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// Names an already running emulator, e.g. `http://127.0.0.1:4566`, for the tests to use.
pub const EXTERNAL_ENDPOINT: &str = "HUDDLE_TEST_AWS_ENDPOINT";

/// A running moto server; it stops when this is dropped (the shared one lives as long as the
/// process).
pub struct MotoServer {
    endpoint: String,
    /// Its standard input is the server's lifeline: the server stops when it closes. `None` for
    /// the emulator at [`EXTERNAL_ENDPOINT`], which is not the tests' to stop.
    process: Option<Child>,
}

impl MotoServer {
    /// The endpoint URL, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(process) = &mut self.process {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

static SERVER: OnceLock<MotoServer> = OnceLock::new();

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    if let Some(explicit) = std::env::var_os("HUDDLE_PYTHON") {
        return PathBuf::from(explicit);
    }
    let venv = workspace_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no virtualenv at {}: run `scripts/test` (it installs moto into .venv) or set HUDDLE_PYTHON",
        venv.display()
    );
    venv
}

/// The endpoint URL of this process's moto server, e.g. `http://127.0.0.1:41234`.
pub fn endpoint() -> &'static str {
    &SERVER.get_or_init(start).endpoint
}

/// A moto server of its own, for a test whose load would starve the others: moto serves
/// DynamoDB one request at a time (see `moto_launcher.py`), so a test that queues hundreds of
/// them delays every other test's DynamoDB calls on a shared server. The emulator at
/// [`EXTERNAL_ENDPOINT`] is shared instead; every test names its resources afresh anyway.
pub fn private_server() -> MotoServer {
    start()
}

fn start() -> MotoServer {
    match external_endpoint() {
        Some(endpoint) => MotoServer { endpoint, process: None },
        None => launch_moto(),
    }
}

/// The value of [`EXTERNAL_ENDPOINT`]; unset or empty means "start moto".
fn external_endpoint() -> Option<String> {
    let value = std::env::var_os(EXTERNAL_ENDPOINT)?;
    let endpoint =
        value.into_string().unwrap_or_else(|value| panic!("{EXTERNAL_ENDPOINT} is not UTF-8: {value:?}"));
    if endpoint.is_empty() {
        return None;
    }
    if let Err(error) = url::Url::parse(&endpoint) {
        panic!("{EXTERNAL_ENDPOINT}={endpoint:?} is not a URL such as http://127.0.0.1:4566: {error}");
    }
    Some(endpoint)
}

fn launch_moto() -> MotoServer {
    let launcher = workspace_root().join("tests/support/moto_launcher.py");
    let mut process = Command::new(python())
        .arg(&launcher)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start moto server");
    let mut first_line = String::new();
    BufReader::new(process.stdout.take().expect("piped stdout"))
        .read_line(&mut first_line)
        .expect("read moto port");
    let port: u16 = first_line.trim().parse().unwrap_or_else(|_| {
        panic!("moto server did not start (printed {first_line:?}); is moto[server] installed?")
    });
    MotoServer { endpoint: format!("http://127.0.0.1:{port}"), process: Some(process) }
}

/// The SDK configuration that points at this process's moto server.
pub async fn sdk_config() -> aws_config::SdkConfig {
    huddle_aws::sdk_config(Some(endpoint())).await
}

/// The messages the moto server at `moto_endpoint` recorded as sent to one SNS platform
/// endpoint. moto delivers nothing to APNs or FCM; it keeps each endpoint's messages, and its
/// `/moto-api/data.json` back door lists every model instance with its public fields.
pub async fn platform_endpoint_messages(moto_endpoint: &str, endpoint_arn: &str) -> Vec<String> {
    // The back door walks moto's live models: a request changing them meanwhile (other tests
    // share the server) makes it answer 500, so it is asked again.
    let mut attempts = 0;
    let models: serde_json::Value = loop {
        attempts += 1;
        let answer = reqwest::get(format!("{moto_endpoint}/moto-api/data.json"))
            .await
            .and_then(|response| response.error_for_status());
        match answer {
            Ok(response) => break response.json().await.expect("moto model data is JSON"),
            Err(error) if attempts < 10 => {
                eprintln!("moto model data, attempt {attempts}: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(error) => panic!("moto model data: {error}"),
        }
    };
    let endpoints = models["sns"]["PlatformEndpoint"].as_array().expect("moto lists SNS platform endpoints");
    let endpoint = endpoints
        .iter()
        .find(|endpoint| endpoint["arn"] == endpoint_arn)
        .unwrap_or_else(|| panic!("moto knows no endpoint {endpoint_arn}"));
    let messages = endpoint["messages"].as_object().expect("moto records an endpoint's messages");
    messages.values().map(|message| message.as_str().expect("messages are strings").to_owned()).collect()
}
