//! The `huddle` binary as a developer runs it (`serve`, `replay`, `cost`): a child process against this test
//! process's moto server, its output captured. Each test names its own resource prefix, so the
//! tests share the server without sharing a system.

use huddle_runner::cost::workload::Action;
use huddle_test_support::{moto, unique_name};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strum::VariantArray;

/// A running `huddle serve`, its stdout and stderr in files.
struct Served {
    child: Child,
    url: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Served {
    /// Starts `huddle serve --port 0 <args>` and waits (60 s at most) for it to listen.
    fn start(args: &[&str], env: &[(&str, &str)], logs: &Path) -> Self {
        let name = unique_name("serve");
        let (stdout, stderr) = (logs.join(format!("{name}.out")), logs.join(format!("{name}.err")));
        let child = Command::new(env!("CARGO_BIN_EXE_huddle"))
            .args(["serve", "--port", "0"])
            .args(args)
            .env_remove("HUDDLE_LOG_LEVEL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("start huddle serve");
        let mut served = Self { child, url: String::new(), stdout, stderr };
        let deadline = Instant::now() + Duration::from_secs(60);
        served.url = loop {
            let printed = std::fs::read_to_string(&served.stdout).unwrap_or_default();
            if let Some(url) = printed.lines().find_map(|line| line.strip_prefix("listening on ")) {
                break url.to_owned();
            }
            if let Ok(Some(status)) = served.child.try_wait() {
                panic!("huddle serve exited with {status}:\n{}", served.output());
            }
            assert!(Instant::now() < deadline, "huddle serve never listened:\n{}", served.output());
            std::thread::sleep(Duration::from_millis(50));
        };
        served
    }

    /// Everything it printed so far, stdout then stderr.
    fn output(&self) -> String {
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }

    /// The line of stdout that starts with `prefix`, without it.
    fn printed(&self, prefix: &str) -> String {
        let stdout = std::fs::read_to_string(&self.stdout).unwrap();
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("huddle serve printed no line starting {prefix:?}:\n{stdout}"))
    }

    /// Stops the process (as a crash would: nothing may depend on a clean exit) and returns its output.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.output()
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("huddle serve answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Client::new().post(format!("{}{path}", self.url)).json(&body)).await
    }

    /// `GET /v1/me` until the profile is projected (20 s at most); a refused token fails at once.
    async fn me(&self, token: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) =
                self.send(Client::new().get(format!("{}/v1/me", self.url)).bearer_auth(token)).await;
            match status {
                StatusCode::OK => return body,
                StatusCode::NOT_FOUND if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => panic!("GET /v1/me answered {other} {body}"),
            }
        }
    }
}

fn aws_args<'a>(prefix: &'a str, data: &'a Path) -> Vec<&'a str> {
    vec!["--aws-endpoint", moto::endpoint(), "--aws-prefix", prefix, "--data", data.to_str().unwrap()]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_system_on_an_aws_endpoint_keeps_its_secrets_across_restarts() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let prefix = format!("{}-", unique_name("restart"));
    let args = aws_args(&prefix, data.path());
    let first = Served::start(&args, &[], logs.path());
    let folder = PathBuf::from(
        first.printed(&format!("data on {} (resources named {prefix}*), its secrets in ", moto::endpoint())),
    );
    let secrets_file = folder.join("secrets.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets_file).expect("secrets.json is written").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}: mode {mode:o}", secrets_file.display());
    }
    let secrets = std::fs::read_to_string(&secrets_file).unwrap();
    let sign_up = json!({"username": "ana", "email": "ana@example.com", "password": "correct horse"});
    let (status, signed_up) = first.post("/v1/accounts", sign_up).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let token = signed_up["token"].as_str().unwrap().to_owned();
    first.me(&token).await;
    first.stop();

    let again = Served::start(&args, &[], logs.path());
    assert_eq!(std::fs::read_to_string(&secrets_file).unwrap(), secrets, "the same secrets, unchanged");
    assert_eq!(again.me(&token).await["username"], "ana", "a token from before the restart still works");
    let (status, body) = again
        .post(
            "/v1/accounts",
            json!({"username": "bea", "email": "ANA@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::CONFLICT, &json!("email_taken")), "{body}");
    let (status, body) =
        again.post("/v1/sessions", json!({"login": "ana@example.com", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK, "the address still finds its account: {body}");
    again.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_level_run_logs_no_password_token_or_email() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let prefix = format!("{}-", unique_name("trace"));
    let served =
        Served::start(&aws_args(&prefix, data.path()), &[("HUDDLE_LOG_LEVEL", "trace")], logs.path());
    let (email, password) = ("trace.me@example.com", "a password only this test knows 7351");
    let (status, signed_up) =
        served.post("/v1/accounts", json!({"username": "tracy", "email": email, "password": password})).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let (status, session) = served.post("/v1/sessions", json!({"login": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    // The profile's projection sends the sealed event through the queue, the SDK and the projector.
    served.me(&token).await;
    let output = served.stop();

    for (secret, what) in [(password, "the password"), (&token, "the token"), (email, "the email address")] {
        assert!(!output.contains(secret), "the trace-level output holds {what}");
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(!output.contains(signature), "the trace-level output holds the token's signature");

    let lines: Vec<Value> = output.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let requests = lines.iter().filter(|line| line["target"] == "huddle_runner::gateway").count();
    assert!(requests >= 3, "the run logged its requests (so it did log):\n{output}");
    let below_warn = |line: &&Value| !matches!(line["level"].as_str(), Some("WARN" | "ERROR"));
    let chatty_libraries: Vec<&Value> = lines
        .iter()
        .filter(below_warn)
        .filter(|line| !line["target"].as_str().is_some_and(|target| target.starts_with("huddle")))
        .collect();
    assert!(chatty_libraries.is_empty(), "libraries logged below warn: {chatty_libraries:?}");
}

/// Runs `huddle <args>` to its end: its exit status, stdout and stderr.
fn run_huddle(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_huddle"))
        .args(args)
        .env_remove("HUDDLE_LOG_LEVEL")
        .stdin(Stdio::null())
        .output()
        .expect("run huddle");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (output.status, text(output.stdout), text(output.stderr))
}

#[tokio::test(flavor = "multi_thread")]
async fn huddle_replay_rebuilds_a_data_folders_read_model_beside_the_running_system() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let folder = data.path().to_str().unwrap();
    let served = Served::start(&["--data", folder], &[], logs.path());
    let mut tokens = Vec::new();
    for name in ["ana", "bea"] {
        let sign_up =
            json!({"username": name, "email": format!("{name}@example.com"), "password": "correct horse"});
        let (status, signed_up) = served.post("/v1/accounts", sign_up).await;
        assert_eq!(status, StatusCode::CREATED, "{signed_up}");
        let token = signed_up["token"].as_str().unwrap().to_owned();
        served.me(&token).await;
        tokens.push(token);
    }

    let (status, stdout, stderr) = run_huddle(&["replay", "accounts", "--data", folder, "--rebuild"]);
    assert!(status.success(), "huddle replay failed:\n{stdout}{stderr}");
    let summary = stdout
        .lines()
        .find_map(|line| line.strip_prefix("replayed accounts: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    let counts: Vec<u64> =
        summary.split([' ', ',']).filter_map(|word| word.parse().ok()).take(4).collect::<Vec<_>>();
    let [visited, applied, streams, segments] = counts[..] else { panic!("unreadable summary {summary:?}") };
    assert_eq!((streams, segments), (2, 1), "two account streams, one segment on a data folder: {summary}");
    assert!(applied >= 2 && visited > applied, "reservation streams visited, not applied: {summary}");
    // Rebuilt under the running system, the read model answers again.
    assert_eq!(served.me(&tokens[0]).await["username"], "ana");
    assert_eq!(served.me(&tokens[1]).await["username"], "bea");

    let (status, _, stderr) = run_huddle(&["replay", "feeds", "--data", folder]);
    assert!(!status.success());
    assert!(stderr.contains("no domain \"feeds\"; the domains are accounts"), "{stderr}");
    let empty = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run_huddle(&["replay", "accounts", "--data", empty.path().to_str().unwrap()]);
    assert!(!status.success());
    assert!(stderr.contains("holds no huddle system"), "{stderr}");
    served.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn huddle_replay_runs_parallel_segments_on_an_aws_endpoint() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let prefix = format!("{}-", unique_name("replay"));
    let args = aws_args(&prefix, data.path());
    let served = Served::start(&args, &[], logs.path());
    let sign_up = json!({"username": "dee", "email": "dee@example.com", "password": "correct horse"});
    let (status, signed_up) = served.post("/v1/accounts", sign_up).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let token = signed_up["token"].as_str().unwrap().to_owned();
    served.me(&token).await;

    let replay_args: Vec<&str> =
        ["replay", "accounts", "--rebuild"].into_iter().chain(args.iter().copied()).collect();
    let (status, stdout, stderr) = run_huddle(&replay_args);
    assert!(status.success(), "huddle replay failed:\n{stdout}{stderr}");
    let summary = stdout
        .lines()
        .find_map(|line| line.strip_prefix("replayed accounts: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    assert!(summary.contains(" events applied to 1 streams, 4 segments"), "{summary}");
    assert_eq!(served.me(&token).await["username"], "dee", "the rebuilt read model answers");
    served.stop();
}

/// `--allowed-origins` and `--authorizer-cache-seconds` reach the gateway: a listed origin's
/// preflight is answered for it, another's is not, and a revoked token passes while its
/// authorizer answer is cached.
#[tokio::test(flavor = "multi_thread")]
async fn huddle_serve_takes_the_gateways_cors_origins_and_authorizer_cache() {
    let logs = tempfile::tempdir().unwrap();
    let served = Served::start(
        &[
            "--memory",
            "--allowed-origins",
            "https://a.example,https://b.example",
            "--authorizer-cache-seconds",
            "600",
        ],
        &[],
        logs.path(),
    );
    let client = Client::new();
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{}/v1/me", served.url))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .send()
    };
    let answered = preflight("https://b.example").await.unwrap();
    assert_eq!(answered.status(), StatusCode::NO_CONTENT);
    assert_eq!(answered.headers()["access-control-allow-origin"], "https://b.example");
    let refused = preflight("https://c.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "{:?}", refused.headers());

    let (status, body) = served
        .post(
            "/v1/accounts",
            json!({"username": "ana", "email": "ana@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap();
    served.me(token).await;
    let revoke = client.post(format!("{}/v1/me/sessions/revoke", served.url)).bearer_auth(token);
    assert_eq!(served.send(revoke).await.0, StatusCode::NO_CONTENT);
    let (status, _) = served.send(client.get(format!("{}/v1/me", served.url)).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::OK, "the cached answer outlives the revocation:\n{}", served.output());
    served.stop();
}

/// `huddle cost --json <args>`'s report; the run must succeed.
fn cost_report(args: &[&str]) -> Value {
    let (status, stdout, stderr) = run_huddle(&[&["cost", "--json", "--users", "3"], args].concat());
    assert!(status.success(), "huddle cost failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}): {stdout}"))
}

/// One line's operation, the function that made it, and its calls.
type LineCalls = (String, String, f64);

/// Each action's calls by line, without the durations (which differ run to run).
fn calls_by_action(report: &Value) -> Vec<(String, Vec<LineCalls>)> {
    let lines = |action: &Value| {
        let text = |line: &Value, name: &str| line[name].as_str().unwrap_or_default().to_owned();
        let lines = action["lines"].as_array().unwrap().iter();
        lines
            .map(|line| (text(line, "operation"), text(line, "by"), line["calls"].as_f64().unwrap()))
            .collect()
    };
    let actions = report["actions"].as_array().unwrap().iter();
    actions.map(|action| (action["action"].as_str().unwrap().to_owned(), lines(action))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn huddle_cost_measures_every_action_of_the_day_the_same_on_both_families() {
    let embedded = cost_report(&[]);
    let on_moto = cost_report(&["--aws-endpoint", moto::endpoint()]);
    let measured = calls_by_action(&embedded);
    let actions: Vec<Value> = measured.iter().map(|(action, _)| json!(action)).collect();
    let declared: Vec<Value> = Action::VARIANTS.iter().map(|action| json!(action)).collect();
    assert_eq!(actions, declared, "the day makes every declared action");
    assert_eq!(measured, calls_by_action(&on_moto), "the same requests on moto as embedded");
    let total = embedded["monthly_per_1000_daily_active_users"].as_f64().unwrap();
    assert!(total > 0.0 && total.is_finite(), "a month of the mix costs something: {total}");
    assert!(embedded["stored_bytes_a_month"].as_f64().unwrap() > 0.0, "events are stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn huddle_cost_takes_price_overrides_and_refuses_unknown_ones() {
    let free = ["http_api_request", "lambda_request", "lambda_gb_second", "dynamodb_read_request_unit"]
        .into_iter()
        .chain(["dynamodb_write_request_unit", "sns_request", "sqs_request", "s3_write_request"])
        .map(|name| format!("--price={name}=0"))
        .collect::<Vec<_>>();
    let report = cost_report(&free.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        report["monthly_per_1000_daily_active_users"].as_f64(),
        Some(0.0),
        "every request priced at 0"
    );
    assert!(report["prices"]["as_of"].as_str().unwrap().ends_with("with overrides"));

    let (status, _, stderr) = run_huddle(&["cost", "--price", "dynamodb_reads=1"]);
    assert!(!status.success());
    assert!(
        stderr.contains("no price is named \"dynamodb_reads\"") && stderr.contains("sqs_request"),
        "{stderr}"
    );
    let (status, _, stderr) = run_huddle(&["cost", "--price", "sqs_request=-1"]);
    assert!(!status.success() && stderr.contains("at least 0"), "{stderr}");
}
