//! The command line (DESIGN §4).

use clap::{Args, Parser, Subcommand};
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
    /// Inspect and replay dead-lettered batches.
    Dlq {
        /// What to do.
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Write, build and try plugins.
    Plugin {
        /// What to do.
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Load generator that behaves like N load-test nodes (loopback targets only).
    Bench(BenchArgs),
}

/// `sluice dlq …`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Show the dead-lettered batches as a table.
    List {
        /// Configuration file (names the dead-letter directory).
        #[arg(short, long, default_value = "sluice.toml")]
        config: PathBuf,
    },
    /// Run entries through the current plugin chain into the buffer, removing each only
    /// once it is there. Stop the gateway first: the buffer is locked while it runs.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "all"])))]
    Replay {
        /// Configuration file (chain, buffer, dead-letter directory).
        #[arg(short, long, default_value = "sluice.toml")]
        config: PathBuf,
        /// Entry to replay (repeatable).
        #[arg(long = "id", value_name = "ID")]
        ids: Vec<String>,
        /// Replay every entry, oldest first.
        #[arg(long)]
        all: bool,
    },
}

/// `sluice plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin crate that uses plugin-sdk; its test passes as generated.
    New {
        /// Crate name (letters, digits, '-', '_'); also the directory created.
        name: String,
        /// Path of the plugin-sdk crate to depend on; by default the SDK of the source
        /// tree this sluice was built from, or $SLUICE_SDK_PATH.
        #[arg(long, env = "SLUICE_SDK_PATH")]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin crate as a component (cargo build --release --target wasm32-wasip2)
    /// and print the component's path and size.
    Build {
        /// The plugin crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run one plugin over line protocol and print its output, its kv/blob writes and the
    /// time it took per point.
    Test(PluginTestArgs),
}

/// `sluice plugin test …`.
#[derive(Debug, Args)]
pub struct PluginTestArgs {
    /// The component.
    pub wasm: PathBuf,
    /// A config entry, `key=value`; the value is read as JSON when it parses
    /// (`tags=["node"]`, `n=3`), as a string otherwise (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// Line protocol to run, a file or `-` for stdin.
    #[arg(long, default_value = "-")]
    pub input: String,
    /// Database in the plugin's context.
    #[arg(long, default_value = "test")]
    pub db: String,
    /// Run the batch this many times and report the fastest (output and effects are
    /// those of the first run).
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Longest one run may take; the default is a `[[plugins]]` entry's default
    /// `timeout`, so a plugin too slow for the gateway fails here too.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

/// `sluice bench`: the load generator's options, or `sluice bench sink`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// `sink`: a counting store instead of a load.
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// Target base URL (a Sluice or an InfluxDB).
    #[arg(long, default_value = "http://127.0.0.1:8086")]
    pub url: String,
    /// Database (v1) or bucket (v2) to write to.
    #[arg(long, default_value = "flood")]
    pub db: String,
    /// Simulated nodes writing concurrently (at most 100,000).
    #[arg(long, default_value_t = 8)]
    pub nodes: usize,
    /// Total points per second to aim for; 0 = as fast as accepted.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Seconds to run (at most 3600).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Points per request.
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
    /// Distinct transaction labels (series cardinality per node).
    #[arg(long, default_value_t = 8)]
    pub labels: usize,
    /// Bytes of an error trace (string field) on one point in 100; 0 = none.
    #[arg(long, default_value_t = 0)]
    pub trace_bytes: usize,
    /// Write API.
    #[arg(long, value_enum, default_value = "v1")]
    pub api: crate::loadgen::Api,
    /// Gzip the request bodies.
    #[arg(long)]
    pub gzip: bool,
    /// Give each node its own phase (arrivals spread evenly) instead of ticking together.
    #[arg(long)]
    pub spread: bool,
    /// Print one JSON object last (acked, errors, points_per_s, p50_ms, p99_ms, …).
    #[arg(long)]
    pub json: bool,
    /// Allow a target that is not on loopback.
    #[arg(long)]
    pub allow_remote: bool,
}

/// `sluice bench …` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// An InfluxDB-compatible endpoint that counts points and answers 204 (GET /stats).
    Sink {
        /// Address to listen on (port 0: any free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:8087")]
        listen: std::net::SocketAddr,
        /// Seconds to run before stopping by itself.
        #[arg(long, default_value_t = 3600)]
        duration: u64,
        /// Allow listening on an address that is not loopback.
        #[arg(long)]
        allow_remote: bool,
    },
}
