//! [`State`]: what one plugin instance's store holds — its WASI context (with nothing
//! granted), its resource table, its memory limiter, its capabilities and log budget —
//! and the implementations of the `kv`, `blob` and `log` imports over them.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::sluice::plugin::{blob, kv, log, types};
use crate::caps::Capabilities;
use crate::caps::log::{Level, LogBudget};
use crate::limits::MemoryLimiter;
use crate::sleep::GuestClock;
use crate::stdio::CapturedOutput;

/// The data of one instance's `Store`.
pub(crate) struct State {
    /// The plugin's name, for the log.
    pub(crate) plugin: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    caps: Capabilities,
    pub(crate) log: LogBudget,
    /// When the running call must end (set before each call into the guest).
    pub(crate) call_deadline: Option<std::time::Instant>,
}

impl State {
    /// A state for `plugin` with WASI granting nothing: no preopened directories, no
    /// environment, no arguments, no network (TCP, UDP and name lookup denied), stdin
    /// closed, stdout and stderr captured.
    pub(crate) fn new(
        plugin: Arc<str>,
        caps: Capabilities,
        max_memory: u64,
        stdout: &CapturedOutput,
        stderr: &CapturedOutput,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .monotonic_clock(GuestClock)
            .build();
        Self {
            plugin,
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(max_memory),
            caps,
            log: LogBudget::default(),
            call_deadline: None,
        }
    }
}

impl State {
    /// The instance's resource table.
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for State {}

impl kv::Host for State {
    fn get_many(&mut self, keys: Vec<String>) -> Result<Vec<Option<Vec<u8>>>, String> {
        self.caps.kv.get_many(&keys).map_err(|e| e.to_string())
    }

    fn set_many(&mut self, entries: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        self.caps.kv.set_many(entries).map_err(|e| e.to_string())
    }

    fn incr(&mut self, key: String, delta: i64) -> Result<i64, String> {
        self.caps.kv.incr(&key, delta).map_err(|e| e.to_string())
    }

    fn assign_ids(&mut self, namespace: String, keys: Vec<String>) -> Result<Vec<u64>, String> {
        self.caps
            .kv
            .assign_ids(&namespace, &keys)
            .map_err(|e| e.to_string())
    }
}

impl blob::Host for State {
    fn put(&mut self, key: String, data: Vec<u8>) -> Result<String, String> {
        let mut urls = self
            .caps
            .blob
            .put_many(vec![(key, data)])
            .map_err(|e| e.to_string())?;
        urls.pop()
            .ok_or_else(|| "blob backend returned no URL".to_owned())
    }

    fn put_many(&mut self, objects: Vec<(String, Vec<u8>)>) -> Result<Vec<String>, String> {
        self.caps.blob.put_many(objects).map_err(|e| e.to_string())
    }
}

impl log::Host for State {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        self.log.log(&self.plugin, level, &message);
    }
}
