//! The `sluice` binary: parses the command line and runs the gateway or one of the
//! tools (`commands`).

mod commands;

use anyhow::Context as _;
use clap::Parser;
use sluice::cli::{Cli, Command, DlqCommand, PluginCommand};
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
        Command::Bench {
            url,
            db,
            nodes,
            rate,
            duration,
            batch,
            allow_remote,
        } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let report = runtime.block_on(sluice::loadgen::run(sluice::loadgen::BenchSpec {
                url,
                db,
                nodes,
                rate,
                duration: std::time::Duration::from_secs(duration),
                batch,
                allow_remote,
            }))?;
            println!(
                "points_ok={} requests_ok={} requests_failed={} elapsed_s={:.2} points_per_s={:.0} p50_ms={:.1} p99_ms={:.1}",
                report.points_ok,
                report.requests_ok,
                report.requests_failed,
                report.elapsed.as_secs_f64(),
                report.points_per_second(),
                report.p50.as_secs_f64() * 1e3,
                report.p99.as_secs_f64() * 1e3
            );
            Ok(())
        }
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
