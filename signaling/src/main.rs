//! The `plenum` binary.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use futures_util::StreamExt;
use plenum_signaling::config::{Cli, Command};
use plenum_signaling::{ServerConfig, run_server, token};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(ServerConfig::from(args)),
        Command::Token(args) => token::join_url(&args).map(|url| println!("{url}")).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plenum: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: ServerConfig) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("plenum-http")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    // The signal handlers need the runtime, and must be in place before the server says it runs.
    runtime.block_on(async { run_server(config, stop_signals()).await }).map_err(|e| e.to_string())
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
