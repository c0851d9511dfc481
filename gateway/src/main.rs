//! The `sluice` binary: parses the command line and runs the gateway or one of the
//! tools (`commands`).

mod commands;

use anyhow::Context as _;
use clap::Parser;
use sluice::cli::{BenchArgs, BenchCommand, Cli, Command, DlqCommand, PluginCommand};
use sluice::config::Config;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined with ": ", leaving out a cause whose text the
/// message already quotes (many errors print their source as part of their own text).
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Command::Run { .. } | Command::Bench(_)) {
        raise_open_files_limit();
    }
    match cli.command {
        Command::Run { config } => {
            let path = config;
            let config = Config::load(&path)?;
            sluice::telemetry::init_logging(&config.log);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("sluice")
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async {
                let shutdown = sluice::shutdown::on_signal();
                sluice::app::run(config, Some(&path), shutdown).await
            })?;
            Ok(())
        }
        Command::Bench(args) => bench(args),
        Command::Check { config } => commands::check::run(&config),
        Command::Dlq { command } => match command {
            DlqCommand::List { config } => commands::dlq::list(&config),
            DlqCommand::Replay { config, ids, all } => commands::dlq::replay(&config, ids, all),
        },
        Command::Plugin { command } => match command {
            PluginCommand::New { name, sdk } => commands::plugin_new::run(&name, sdk),
            PluginCommand::Build { dir } => commands::plugin_build::run(&dir).map(|_| ()),
            PluginCommand::Test(args) => commands::plugin_test::run(&args),
        },
    }
}

/// `sluice bench` and `sluice bench sink`.
fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    if let Some(BenchCommand::Sink {
        listen,
        duration,
        allow_remote,
    }) = args.command
    {
        return runtime
            .block_on(sluice::loadgen::sink::serve(
                listen,
                std::time::Duration::from_secs(duration),
                allow_remote,
            ))
            .map_err(Into::into);
    }
    let report = runtime.block_on(sluice::loadgen::run(sluice::loadgen::BenchSpec {
        url: args.url,
        db: args.db,
        nodes: args.nodes,
        rate: args.rate,
        duration: std::time::Duration::from_secs(args.duration),
        shape: sluice::loadgen::BatchShape {
            points: args.batch,
            labels: args.labels,
            trace_bytes: args.trace_bytes,
        },
        api: args.api,
        gzip: args.gzip,
        spread: args.spread,
        progress: true,
        allow_remote: args.allow_remote,
    }))?;
    print!("{}", report.table());
    if args.json {
        println!("{}", report.json());
    }
    Ok(())
}

/// Raises the soft limit on open files to the hard limit: a relay (or a bench) with
/// thousands of concurrent clients needs a descriptor per connection, and the usual soft
/// limit (1,024) is far below the usual hard one. A failure leaves the limit as it was.
fn raise_open_files_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("warning: cannot raise the open-files limit: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_already_quoted_are_not_repeated() {
        let io = std::io::Error::other("disk gone");
        let quoted = anyhow::Error::new(io).context("write failed: disk gone");
        assert_eq!(describe(&quoted), "write failed: disk gone");
        let plain = anyhow::anyhow!("root").context("outer");
        assert_eq!(describe(&plain), "outer: root");
    }
}
