//! # evil
//!
//! A Sluice test plugin that misbehaves on purpose, one way per `mode` in its config, so
//! the host's tests can pin a clean, typed error for every attack. `process` attacks
//! only batches holding a point of the `trigger` measurement (default `evil`) and passes
//! every other batch through unchanged, so a test can show that the next batch goes
//! through again, and one chain can hold several attacks with different triggers:
//!
//! | mode | does |
//! | --- | --- |
//! | `loop` | `process` never returns |
//! | `alloc` | `process` allocates until the memory limit |
//! | `panic` | `process` panics (message on stderr) |
//! | `invalid-output` | `process` returns text that is not line protocol |
//! | `amplify` | `process` returns its input `factor` times (default 100) |
//! | `sleep` | `process` sleeps for 30 s (past any sane timeout) |
//! | `chatty` | `process` floods stderr and the log, then passes the batch on |
//! | `unavailable` | `process` returns an `unavailable` plugin error |
//! | `reject-config` | `init` rejects its config |
//! | `init-loop` | `init` never returns |
//! | `probe` | well-behaved: calls every host import (see [`Evil::probe`]) |
//! | `escape` | tries the filesystem, environment, arguments, network and clock-free sleep, and reports what it reached (see [`Evil::escape`]) |
//!
//! Anything else in `mode` is rejected by `init`.
//!
//! # Layout
//!
//! One file: [`Mode`], [`Config`], [`Evil`] and its [`Plugin`] implementation.

use std::hint::black_box;

use serde::Deserialize;
use sluice_plugin_sdk::{Batch, Context, Host, Level, LineWriter, Plugin, PluginError};

/// How to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `process` never returns.
    Loop,
    /// `process` allocates until the memory limit.
    Alloc,
    /// `process` panics.
    Panic,
    /// `process` returns text that is not line protocol.
    InvalidOutput,
    /// `process` returns its input `factor` times.
    Amplify,
    /// `process` sleeps for 30 s.
    Sleep,
    /// `process` floods stderr and the log, then passes the batch on.
    Chatty,
    /// `process` fails with an `unavailable` error.
    Unavailable,
    /// `init` rejects its config.
    RejectConfig,
    /// `init` never returns.
    InitLoop,
    /// Calls every host import.
    Probe,
    /// Tries to reach outside its sandbox and reports what it got.
    Escape,
}

/// The configuration: which attack, and the `amplify` factor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The attack.
    pub mode: Mode,
    /// Copies of the input `amplify` returns.
    #[serde(default = "default_factor")]
    pub factor: usize,
    /// The measurement that triggers the attack.
    #[serde(default = "default_trigger")]
    pub trigger: String,
}

fn default_trigger() -> String {
    "evil".to_owned()
}

fn default_factor() -> usize {
    100
}

/// The misbehaving plugin.
#[derive(Debug)]
pub struct Evil {
    mode: Mode,
    factor: usize,
    trigger: String,
}

/// Spins forever without being optimised away.
fn spin() -> ! {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

impl Plugin for Evil {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        match config.mode {
            Mode::RejectConfig => Err("evil plugin rejects its config on purpose".into()),
            Mode::InitLoop => spin(),
            mode => Ok(Self {
                mode,
                factor: config.factor,
                trigger: config.trigger,
            }),
        }
    }

    fn process<H: Host>(
        &mut self,
        ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        if self.mode == Mode::Probe {
            return Self::probe(ctx, batch, out, host);
        }
        if self.mode == Mode::Escape {
            Self::escape(out);
            return Ok(());
        }
        let triggered = batch
            .points()
            .any(|p| p.is_ok_and(|p| p.measurement() == self.trigger.as_str()));
        if !triggered {
            *out = LineWriter::from_vec(batch.as_bytes().to_vec());
            return Ok(());
        }
        match self.mode {
            Mode::Loop => spin(),
            Mode::Alloc => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            Mode::Panic => panic!("evil plugin panicked on purpose"),
            Mode::InvalidOutput => {
                *out = LineWriter::from_vec(b"this is not line protocol\n".to_vec());
            }
            Mode::Amplify => {
                let mut bytes = Vec::with_capacity(batch.len() * self.factor);
                for _ in 0..self.factor {
                    bytes.extend_from_slice(batch.as_bytes());
                }
                *out = LineWriter::from_vec(bytes);
            }
            Mode::Sleep => std::thread::sleep(std::time::Duration::from_secs(30)),
            Mode::Chatty => {
                for i in 0..10_000 {
                    eprintln!("evil stderr line {i}");
                    host.log(Level::Info, &format!("evil log line {i}"));
                }
                *out = LineWriter::from_vec(batch.as_bytes().to_vec());
            }
            Mode::Unavailable => {
                return Err(PluginError::Unavailable(
                    "evil backend is down on purpose".into(),
                ));
            }
            Mode::RejectConfig | Mode::InitLoop | Mode::Probe | Mode::Escape => {}
        }
        Ok(())
    }
}

impl Evil {
    /// Tries every way out of the sandbox a WASI program has and writes one point,
    /// `escape root=<listed /?>,file=<read /etc/hostname?>,cwd=<listed .?>,env=<vars>i,
    /// args=<args>i,tcp=<connected?>,dns=<resolved?> 1`: a sealed sandbox gives all
    /// `false` and `0i`.
    fn escape(out: &mut LineWriter) {
        let root = std::fs::read_dir("/").is_ok();
        let file = std::fs::read("/etc/hostname").is_ok();
        let cwd = std::fs::read_dir(".").is_ok();
        let env = std::env::vars_os().count();
        let args = std::env::args_os().count();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", 80)).is_ok();
        let dns = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 80)).is_ok();
        let mut point = out.point("escape");
        point
            .field_bool("root", root)
            .field_bool("file", file)
            .field_bool("cwd", cwd)
            .field_i64("env", i64::try_from(env).unwrap_or(i64::MAX))
            .field_i64("args", i64::try_from(args).unwrap_or(i64::MAX))
            .field_bool("tcp", tcp)
            .field_bool("dns", dns);
        // Writing a fixed, valid point cannot fail.
        let _written = point.finish(1);
    }

    /// Uses every import once: assigns each point's measurement an id in namespace
    /// `probe` and writes the point with tags `id=<id>,db=<ctx.db>`; counts batches in
    /// `probe-batches`; stores the database name at `probe-db` and reads it back;
    /// stores the batch as blob `probe/batch-<n>`; logs one line; and appends a point
    /// `probe batches=<n>i,db="<read back>",url="<blob url>" <last timestamp>`.
    fn probe<H: Host>(
        ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        host: &mut H,
    ) -> Result<(), PluginError> {
        let points = batch.points().collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = points.iter().map(|p| p.measurement().to_string()).collect();
        let ids = host.kv_assign_ids("probe", &names)?;
        let batches = host.kv_incr("probe-batches", 1)?;
        host.kv_set_many(&[("probe-db".to_owned(), ctx.db.clone().into_bytes())])?;
        let db = host.kv_get_many(&["probe-db".to_owned()])?;
        let db = db
            .first()
            .and_then(|v| v.as_deref())
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned();
        let url = host.blob_put(&format!("probe/batch-{batches}"), batch.as_bytes())?;
        host.log(
            Level::Info,
            &format!("probe batch {batches}: {} points", points.len()),
        );
        let mut last = 0;
        for (point, id) in points.iter().zip(ids) {
            let mut p = out.point_raw(point.measurement());
            p.tags_raw(point.tags_raw())
                .tag("id", &id.to_string())
                .tag("db", &ctx.db)
                .fields_raw(point.fields_raw());
            p.finish(point.timestamp())?;
            last = point.timestamp();
        }
        let mut p = out.point("probe");
        p.field_i64("batches", batches)
            .field_str("db", &db)
            .field_str("url", &url);
        p.finish(last)?;
        Ok(())
    }
}

sluice_plugin_sdk::export!(Evil);
