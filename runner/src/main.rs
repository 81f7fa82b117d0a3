use clap::{Parser, Subcommand};
use huddle_runner::{LocalSecrets, Settings, Storage};
use std::path::{Path, PathBuf};
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
        /// Keep state in this folder (default: ./.huddle). With --aws-endpoint the endpoint keeps
        /// the state and this folder only its secrets.
        #[arg(long, conflicts_with = "memory")]
        data: Option<PathBuf>,
        /// Keep nothing: state lives in memory and ends with the process.
        #[arg(long, conflicts_with = "aws_endpoint")]
        memory: bool,
        /// Run on the AWS adapters against this endpoint (an emulator such as moto).
        #[arg(long, value_name = "URL")]
        aws_endpoint: Option<String>,
        /// Name the endpoint's resources with this prefix, so that several systems share one
        /// endpoint; each has secrets of its own.
        #[arg(long, value_name = "PREFIX", default_value = "huddle-local-", requires = "aws_endpoint")]
        aws_prefix: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    huddle_http::init_logging();
    let Command::Serve { port, data, memory, aws_endpoint, aws_prefix } = Cli::parse().command;
    let data = data.unwrap_or_else(|| PathBuf::from(".huddle"));
    let shown = |path: &Path| std::path::absolute(path).unwrap_or(path.to_owned()).display().to_string();
    let storage = match (aws_endpoint, memory) {
        (Some(endpoint), _) => Storage::Aws { endpoint, prefix: aws_prefix },
        (None, true) => Storage::Memory,
        (None, false) => Storage::Folder(data.clone()),
    };
    let secrets = match &storage {
        Storage::Memory => {
            println!("data in memory only");
            Ok(LocalSecrets::fresh())
        }
        Storage::Folder(path) => {
            println!("data in {}", shown(path));
            LocalSecrets::in_folder(path)
        }
        Storage::Aws { endpoint, prefix } => {
            let folder = LocalSecrets::endpoint_folder(&data, endpoint, prefix);
            println!("data on {endpoint} (resources named {prefix}*), its secrets in {}", shown(&folder));
            LocalSecrets::for_endpoint(&data, endpoint, prefix)
        }
    };
    let secrets = match secrets {
        Ok(secrets) => secrets,
        Err(error) => {
            eprintln!("huddle: cannot use data folder {error}");
            return ExitCode::FAILURE;
        }
    };
    let domains = huddle_runner::domains(&secrets);
    let running = match huddle_runner::start(Settings::new(storage, port), domains).await {
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
