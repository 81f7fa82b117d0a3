mod dead_letters;

use clap::{Parser, Subcommand};
use huddle_accounts::ThrottleSettings;
use huddle_domain::throttle::Limit;
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
    Serve(Serve),
    /// List a domain's parked streams and dead-lettered messages, or retry or skip them.
    DeadLetters(dead_letters::DeadLetters),
    /// Rebuild or first populate one domain's read model from the events table.
    Replay(huddle_runner::replay::ReplayCommand),
    /// Measure what each user action costs on AWS over a day of a small network, and price it.
    Cost(huddle_runner::cost::command::CostCommand),
    /// Write the generated files (template.yaml's per-domain blocks) from the domains'
    /// declarations and deploy.toml files, or with --check only say whether they are current.
    Template(Template),
}

#[derive(clap::Args)]
struct Template {
    /// Change nothing: exit 1, naming each file and its first difference, when one is stale.
    #[arg(long)]
    check: bool,
    /// The repository's root folder.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

#[derive(clap::Args)]
struct Serve {
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
    /// Origins whose web pages may call the API (CORS), comma-separated: exact, a prefix ending
    /// in `*`, or `*` for any; template.yaml's AllowedOrigins.
    #[arg(long, value_name = "ORIGINS", value_delimiter = ',', default_value = "*")]
    allowed_origins: Vec<String>,
    /// Reuse an authorizer answer for the same Authorization header this long, as API Gateway
    /// does for template.yaml's ReauthorizeEvery (300): a revoked token then keeps passing
    /// until its answer expires. 0 asks the authorizer on every request.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    authorizer_cache_seconds: u64,
}

const LOCAL: ThrottleSettings = ThrottleSettings::LOCAL;

#[tokio::main]
async fn main() -> ExitCode {
    huddle_http::init_logging();
    match Cli::parse().command {
        Command::Serve(arguments) => serve(arguments).await,
        Command::DeadLetters(arguments) => dead_letters::run(arguments).await,
        Command::Replay(replay) => replay.run().await,
        Command::Cost(cost) => cost.run().await,
        Command::Template(arguments) => template(arguments),
    }
}

/// `huddle template [--check]`.
fn template(Template { check, root }: Template) -> ExitCode {
    use huddle_runner::template;
    let files = match template::generated_files(&root, &huddle_runner::domains_as_declared()) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("huddle template: {error}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        return match template::check(&root, &files) {
            Ok(stale) if stale.is_empty() => ExitCode::SUCCESS,
            Ok(stale) => {
                eprint!("huddle template --check: {}", stale.join(""));
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("huddle template --check: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match template::write(&root, &files) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("huddle template: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(arguments: Serve) -> ExitCode {
    let Serve {
        port,
        data,
        memory,
        aws_endpoint,
        aws_prefix,
        login_failures_per_ip,
        login_failures_per_name,
        sign_ups_per_ip,
        trust_forwarded_for,
        allowed_origins,
        authorizer_cache_seconds,
    } = arguments;
    let throttles = ThrottleSettings { login_failures_per_ip, login_failures_per_name, sign_ups_per_ip };
    let data = data.unwrap_or_else(|| PathBuf::from(".huddle"));
    let shown = |path: &Path| std::path::absolute(path).unwrap_or(path.to_owned()).display().to_string();
    let storage = match (aws_endpoint, memory) {
        (Some(endpoint), _) => Storage::Aws { endpoint, prefix: aws_prefix },
        (None, true) => Storage::Memory,
        (None, false) => Storage::Folder(data.clone()),
    };
    match &storage {
        Storage::Memory => println!("data in memory only"),
        Storage::Folder(path) => println!("data in {}", shown(path)),
        Storage::Aws { endpoint, prefix } => {
            let folder = LocalSecrets::endpoint_folder(&data, endpoint, prefix);
            println!("data on {endpoint} (resources named {prefix}*), its secrets in {}", shown(&folder));
        }
    }
    let secrets = match secrets_of(&storage, &data) {
        Ok(secrets) => secrets,
        Err(error) => {
            eprintln!("huddle: {error}");
            return ExitCode::FAILURE;
        }
    };
    let domains = huddle_runner::domains(&secrets, throttles);
    let stream_positions = match &storage {
        Storage::Aws { endpoint, prefix } => {
            Some(LocalSecrets::endpoint_folder(&data, endpoint, prefix).join("stream-positions.json"))
        }
        _ => None,
    };
    let mut settings = Settings::new(storage, port);
    settings.stream_positions = stream_positions;
    settings.trust_forwarded_for = trust_forwarded_for;
    settings.allowed_origins = allowed_origins;
    settings.authorizer_cache_ttl = std::time::Duration::from_secs(authorizer_cache_seconds);
    settings.request_secret = secrets.request_secret.clone();
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

/// The secrets of the system on `storage` (`data` keeps those of an AWS endpoint's systems).
fn secrets_of(storage: &Storage, data: &Path) -> Result<LocalSecrets, String> {
    match storage {
        Storage::Memory => Ok(LocalSecrets::fresh()),
        Storage::Folder(path) => LocalSecrets::in_folder(path),
        Storage::Aws { endpoint, prefix } => LocalSecrets::for_endpoint(data, endpoint, prefix),
    }
    .map_err(|error| format!("cannot use data folder {error}"))
}
