//! The `plenum` binary.

use std::io::IsTerminal;
use std::process::ExitCode;

use futures_util::StreamExt;
use plenum_signaling::cluster::Role;
use plenum_signaling::config::{Command, ConfigCommand, LogFormat};
use plenum_signaling::config_file::{self, CliError, parse_cli_with_file};
use plenum_signaling::{ServerConfig, admin_cli, run_server, token};

fn main() -> ExitCode {
    let cli = match parse_cli_with_file(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(CliError::Clap(e)) => e.exit(),
        Err(e @ CliError::File(_)) => {
            eprintln!("plenum: the configuration file has problems:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    if cli_role_without_redis(&cli.command) {
        eprintln!("plenum: --role signaling needs --redis-url (PLENUM_REDIS_URL): a signaling-only node uses SFU nodes");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Serve(mut args) => {
            init_logging(args.log_format, &args.log_level);
            args.common
                .read_secret_file()
                .and_then(|()| args.connectivity.read_secret_file())
                .and_then(|()| serve(ServerConfig::from(args)))
        }
        Command::Token(mut args) => {
            init_logging(LogFormat::Text, "warn");
            args.common
                .read_secret_file()
                .and_then(|()| token::join_url(&args).map(|url| println!("{url}")).map_err(|e| e.to_string()))
        }
        Command::Config(ConfigCommand::Check { file }) => check_config(&file),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config_file::example());
            Ok(())
        }
        Command::Sfu(args) => {
            init_logging(args.log_format, &args.log_level);
            run_async(async { plenum_signaling::cluster::sfu_main::run(args, stop_signals()).await })
        }
        Command::Admin(command) => {
            init_logging(LogFormat::Text, "warn");
            admin_cli::run(command)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plenum: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `RUST_LOG`, when set, wins over `filter`.
fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|e| {
            eprintln!("plenum: bad log filter {filter:?} ({e}); using info");
            "info".into()
        });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
    }
}

fn check_config(file: &std::path::Path) -> Result<(), String> {
    match config_file::check(file) {
        Ok(config) => {
            println!("{}: ok ({} settings)", file.display(), config.entries.len());
            Ok(())
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            Err(format!("{} problem(s) in {}", errors.len(), file.display()))
        }
    }
}

fn serve(config: ServerConfig) -> Result<(), String> {
    // The signal handlers need the runtime, and must be in place before the server says it runs.
    run_async(async { run_server(config, stop_signals()).await })
}

fn cli_role_without_redis(command: &Command) -> bool {
    matches!(command, Command::Serve(args) if args.redis_url.is_none() && args.role == Role::Signaling)
}

fn run_async<E: std::fmt::Display>(work: impl Future<Output = Result<(), E>>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("plenum-http")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(work).map_err(|e| e.to_string())
}

/// One item per Ctrl-C or SIGTERM.
fn stop_signals() -> impl futures_util::Stream<Item = ()> + Unpin {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    futures_util::stream::unfold(
        #[cfg(unix)]
        terminate,
        #[cfg(not(unix))]
        (),
        |mut state| async move {
            #[cfg(unix)]
            let terminate = async {
                match state.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::select! {
                result = tokio::signal::ctrl_c() => {
                    if result.is_err() {
                        std::future::pending::<()>().await;
                    }
                    tracing::info!("interrupt received");
                }
                () = terminate => tracing::info!("SIGTERM received"),
            }
            Some(((), state))
        },
    )
    .boxed()
}
