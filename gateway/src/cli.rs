//! The command line (DESIGN §4).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Sluice: an InfluxDB-compatible metrics gateway with WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (relay or edge, by config).
    Run {
        /// Configuration file.
        #[arg(short, long, default_value = "sluice.toml")]
        config: PathBuf,
    },
    /// Validate a configuration; exit 1 with a clear message on error.
    Check {
        /// Configuration file.
        #[arg(short, long, default_value = "sluice.toml")]
        config: PathBuf,
    },
    /// Load generator that behaves like N load-test nodes (loopback targets only).
    Bench {
        /// Target base URL (a Sluice or an InfluxDB).
        #[arg(long, default_value = "http://127.0.0.1:8086")]
        url: String,
        /// Database to write to.
        #[arg(long, default_value = "flood")]
        db: String,
        /// Simulated nodes writing concurrently.
        #[arg(long, default_value_t = 8)]
        nodes: usize,
        /// Total points per second to aim for; 0 = as fast as accepted.
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Points per request.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
        /// Allow a target that is not on loopback.
        #[arg(long)]
        allow_remote: bool,
    },
}
