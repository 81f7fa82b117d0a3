use clap::{Parser, Subcommand};
use huddle_accounts::ThrottleSettings;
use huddle_domain::throttle::Limit;
use huddle_runner::{LocalSecrets, Settings, Storage};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "huddle", about = "Huddle's local runner: the whole backend in one process")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1 with every function, stream and queue behind it.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Keep state in this folder (default: ./.huddle).
        #[arg(long, conflicts_with_all = ["memory", "aws_endpoint"])]
        data: Option<PathBuf>,
        /// Keep nothing: state lives in memory and ends with the process.
        #[arg(long, conflicts_with = "aws_endpoint")]
        memory: bool,
        /// Run on the AWS adapters against this endpoint (an emulator such as moto).
        #[arg(long, value_name = "URL")]
        aws_endpoint: Option<String>,
        /// Failed logins allowed per source address, as MAX/SECONDS.
        #[arg(long, value_name = "MAX/SECONDS", default_value_t = LOCAL.login_failures_per_ip)]
        login_failures_per_ip: Limit,
        /// Failed logins allowed per login name, as MAX/SECONDS.
        #[arg(long, value_name = "MAX/SECONDS", default_value_t = LOCAL.login_failures_per_name)]
        login_failures_per_name: Limit,
        /// Sign-ups allowed per source address, as MAX/SECONDS.
        #[arg(long, value_name = "MAX/SECONDS", default_value_t = LOCAL.sign_ups_per_ip)]
        sign_ups_per_ip: Limit,
        /// Take the client's address from X-Forwarded-For (to play several clients from one
        /// machine); never behind a port others can reach.
        #[arg(long)]
        trust_forwarded_for: bool,
    },
}

const LOCAL: ThrottleSettings = ThrottleSettings::LOCAL;

#[tokio::main]
async fn main() -> ExitCode {
    huddle_http::init_logging();
    let Command::Serve {
        port,
        data,
        memory,
        aws_endpoint,
        login_failures_per_ip,
        login_failures_per_name,
        sign_ups_per_ip,
        trust_forwarded_for,
    } = Cli::parse().command;
    let throttles = ThrottleSettings { login_failures_per_ip, login_failures_per_name, sign_ups_per_ip };
    let storage = match (aws_endpoint, memory) {
        (Some(endpoint), _) => Storage::Aws { endpoint, prefix: "huddle-local-".into() },
        (None, true) => Storage::Memory,
        (None, false) => Storage::Folder(data.unwrap_or_else(|| PathBuf::from(".huddle"))),
    };
    match &storage {
        Storage::Memory => println!("data in memory only"),
        Storage::Folder(path) => {
            println!("data in {}", std::path::absolute(path).unwrap_or(path.clone()).display())
        }
        Storage::Aws { endpoint, prefix } => println!("data on {endpoint} (resources named {prefix}*)"),
    }
    let secrets = match &storage {
        Storage::Folder(path) => match LocalSecrets::in_folder(path) {
            Ok(secrets) => secrets,
            Err(error) => {
                eprintln!("huddle: cannot use data folder {error}");
                return ExitCode::FAILURE;
            }
        },
        _ => LocalSecrets::fresh(),
    };
    let domains = huddle_runner::domains(&secrets, throttles);
    let mut settings = Settings::new(storage, port);
    settings.trust_forwarded_for = trust_forwarded_for;
    let running = match huddle_runner::start(settings, domains).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("huddle: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", running.url());
    let _ = tokio::signal::ctrl_c().await;
    println!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}
