//! The gateway's configuration file (DESIGN §6): TOML, human units for sizes and
//! durations, `${ENV}` in any string, and an error naming the key and line for anything
//! unknown.

mod env;
mod error;
mod plugins;
mod size;
mod stages;

pub use error::ConfigError;
pub use plugins::{BlobConfig, BlobKind, KvConfig, KvKind, OnError, PluginConfig};
pub use size::ByteSize;
pub use stages::{EdgeConfig, MergeConfig};

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole configuration of one gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP ingest settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// UDP line-protocol listeners.
    #[serde(default)]
    pub udp: Vec<UdpConfig>,
    /// The plugin chain, in order.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// The key-value store plugins share.
    #[serde(default)]
    pub kv: KvConfig,
    /// Where plugins put blobs.
    #[serde(default)]
    pub blob: BlobConfig,
    /// The durable queue between ingest and the forwarders.
    #[serde(default)]
    pub buffer: BufferConfig,
    /// Where batches that cannot be delivered or transformed are kept for replay.
    #[serde(default)]
    pub dead_letter: DeadLetterConfig,
    /// The stores every batch is forwarded to (fan-out).
    #[serde(default)]
    pub outputs: Vec<OutputConfig>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Edge mode: aggregate windows of points into sketches before the buffer.
    #[serde(default)]
    pub edge: Option<EdgeConfig>,
    /// Relay side of edge mode: merge the edges' sketches before the buffer.
    #[serde(default)]
    pub merge: Option<MergeConfig>,
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address; InfluxDB's own default port so clients need no change.
    pub http: SocketAddr,
    /// Largest request body accepted, after gzip decoding too (413 above it).
    pub max_body: ByteSize,
    /// Accepted tokens; empty means no authentication, like a default InfluxDB.
    #[serde(deserialize_with = "env::expand_list")]
    pub tokens: Vec<String>,
    /// How long shutdown waits for in-flight requests before giving up on them.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Accept `u` unsigned integer fields (`v=5u`) on HTTP and UDP. Off by default: a
    /// stock InfluxDB 1.x answers `invalid number` for them, and an acknowledged line the
    /// store refuses is lost. Turn it on when every output is InfluxDB 2.x (the
    /// counterpart of Telegraf's `influx_uint_support`).
    pub accept_unsigned: bool,
}

impl ServerConfig {
    /// The line-protocol rules ingest applies: InfluxDB 1.x's, plus `u` integers when
    /// `accept_unsigned` is set.
    pub fn lineproto(&self) -> sluice_lineproto::Options {
        sluice_lineproto::Options::v1().with_unsigned(self.accept_unsigned)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            http: SocketAddr::from(([127, 0, 0, 1], 8086)),
            max_body: ByteSize(32 * 1024 * 1024),
            tokens: Vec::new(),
            shutdown_timeout: Duration::from_secs(30),
            accept_unsigned: false,
        }
    }
}

/// `[[udp]]`: one UDP line-protocol listener, routed to a fixed database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpConfig {
    /// Bind address.
    pub bind: SocketAddr,
    /// Database every datagram is written to.
    #[serde(deserialize_with = "env::expand")]
    pub db: String,
    /// Retention policy; empty means the database's default.
    #[serde(default, deserialize_with = "env::expand")]
    pub rp: String,
    /// Timestamp precision of the datagrams, InfluxDB 1.x spelling.
    #[serde(default = "default_precision", deserialize_with = "env::expand")]
    pub precision: String,
}

fn default_precision() -> String {
    "n".to_owned()
}

/// Which queue implementation holds accepted batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BufferKind {
    /// Embedded on-disk segment log; survives `kill -9`.
    Disk,
    /// In memory; for tests and edge nodes that accept loss on a crash.
    Memory,
    /// Redis Streams shared by the gateways of a region (scale-out).
    Redis,
}

impl BufferKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disk => "disk",
            Self::Memory => "memory",
            Self::Redis => "redis",
        }
    }
}

/// `[buffer]`: a tagged section, each `kind` with its own keys (a key of another kind is
/// an error): `disk` takes `dir`, `max_size`, `segment_size`; `memory` takes `max_size`;
/// `redis` takes `url`, `stream`, `group`, `consumer`, `max_len`, `shards`,
/// `wait_replicas`, `timeout`, `claim_idle`, `max_deliveries`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BufferConfig {
    /// Queue implementation.
    pub kind: BufferKind,
    /// Directory of the disk queue (default `data/buffer`).
    #[serde(deserialize_with = "env::expand_opt_path")]
    pub dir: Option<PathBuf>,
    /// Cap on retained bytes (disk, memory; default 1 GiB); writes beyond it get 503.
    pub max_size: Option<ByteSize>,
    /// Size at which the disk queue starts a new segment file (default 64 MiB).
    pub segment_size: Option<ByteSize>,
    /// Redis: `redis://[user:password@]host:port[/db]`.
    #[serde(deserialize_with = "env::expand_opt")]
    pub url: Option<String>,
    /// Redis: the stream key (default `sluice`); with `shards > 1`, `{stream}:0` … .
    #[serde(deserialize_with = "env::expand_opt")]
    pub stream: Option<String>,
    /// Redis: prefix of the consumer groups, one per output: `{group}:{output}` (default
    /// `sluice`).
    #[serde(deserialize_with = "env::expand_opt")]
    pub group: Option<String>,
    /// Redis: this gateway's consumer name (default `{hostname}-{pid}`); must be unique
    /// among the gateways sharing the stream.
    #[serde(deserialize_with = "env::expand_opt")]
    pub consumer: Option<String>,
    /// Redis: most entries one stream holds; writes beyond it get 503 (default 100,000).
    pub max_len: Option<u64>,
    /// Redis: streams batches are spread over (default 1).
    pub shards: Option<usize>,
    /// Redis: replicas that must have a batch (`WAIT`) before it is acknowledged (default 0).
    pub wait_replicas: Option<u32>,
    /// Redis: longest one command may take (default 2 s).
    #[serde(with = "humantime_serde::option")]
    pub timeout: Option<Duration>,
    /// Redis: how long an entry may stay unacknowledged with one gateway before another
    /// takes it over (default 15 s).
    #[serde(with = "humantime_serde::option")]
    pub claim_idle: Option<Duration>,
    /// Redis: an entry handed out more often than this goes to the dead-letter store
    /// (default 5).
    pub max_deliveries: Option<u32>,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self {
            kind: BufferKind::Disk,
            dir: None,
            max_size: None,
            segment_size: None,
            url: None,
            stream: None,
            group: None,
            consumer: None,
            max_len: None,
            shards: None,
            wait_replicas: None,
            timeout: None,
            claim_idle: None,
            max_deliveries: None,
        }
    }
}

impl BufferConfig {
    /// The disk queue's directory (and where other state defaults to live beside).
    pub fn dir(&self) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data/buffer"))
    }

    /// Cap on retained bytes of the disk and memory queues.
    pub fn max_size(&self) -> ByteSize {
        self.max_size.unwrap_or(ByteSize(1024 * 1024 * 1024))
    }

    /// The disk queue's segment size.
    pub fn segment_size(&self) -> ByteSize {
        self.segment_size.unwrap_or(ByteSize(64 * 1024 * 1024))
    }

    /// The Redis queue's options for `consumers` (`url` checked by `validate`).
    pub fn redis_options(&self, consumers: &[String]) -> sluice_buffer::RedisOptions {
        sluice_buffer::RedisOptions {
            url: self.url.clone().unwrap_or_default(),
            stream: self.stream.clone().unwrap_or_else(|| "sluice".to_owned()),
            group: self.group.clone().unwrap_or_else(|| "sluice".to_owned()),
            consumer: self.consumer.clone().unwrap_or_else(default_consumer),
            max_len: self.max_len.unwrap_or(100_000),
            shards: self.shards.unwrap_or(1),
            wait_replicas: self.wait_replicas.unwrap_or(0),
            timeout: self.timeout.unwrap_or(Duration::from_secs(2)),
            claim_idle: self.claim_idle.unwrap_or(Duration::from_secs(15)),
            max_deliveries: self.max_deliveries.unwrap_or(5),
            consumers: consumers.to_vec(),
        }
    }

    /// The keys set that `kind` does not take.
    fn foreign_keys(&self) -> Vec<&'static str> {
        let disk = [
            ("dir", self.dir.is_some()),
            ("segment_size", self.segment_size.is_some()),
        ];
        let sized = [("max_size", self.max_size.is_some())];
        let redis = [
            ("url", self.url.is_some()),
            ("stream", self.stream.is_some()),
            ("group", self.group.is_some()),
            ("consumer", self.consumer.is_some()),
            ("max_len", self.max_len.is_some()),
            ("shards", self.shards.is_some()),
            ("wait_replicas", self.wait_replicas.is_some()),
            ("timeout", self.timeout.is_some()),
            ("claim_idle", self.claim_idle.is_some()),
            ("max_deliveries", self.max_deliveries.is_some()),
        ];
        let foreign: Vec<(&'static str, bool)> = match self.kind {
            BufferKind::Disk => redis.to_vec(),
            BufferKind::Memory => disk.iter().chain(&redis).copied().collect(),
            BufferKind::Redis => disk.iter().chain(&sized).copied().collect(),
        };
        foreign
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(key, _)| key)
            .collect()
    }
}

/// `{hostname}-{pid}`: unique among gateways sharing a stream.
fn default_consumer() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sluice".to_owned());
    format!("{host}-{}", std::process::id())
}

/// `[dead_letter]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadLetterConfig {
    /// Directory of the dead-letter store; by default `dead-letter` beside the buffer dir.
    #[serde(deserialize_with = "env::expand_opt_path")]
    pub dir: Option<PathBuf>,
}

/// The write API an output speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// InfluxDB 1.x `/write?db=&rp=`.
    V1,
    /// InfluxDB 2.x `/api/v2/write?org=&bucket=`.
    V2,
}

/// `[[outputs]]`: one store that receives every batch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Unique name, used for the buffer cursor, logs and metrics.
    #[serde(deserialize_with = "env::expand")]
    pub name: String,
    /// Base URL of the store, e.g. `http://127.0.0.1:8086`.
    #[serde(deserialize_with = "env::expand")]
    pub url: String,
    /// Write API to use.
    #[serde(default = "default_api")]
    pub api: Api,
    /// v1: user name, sent with `password` as HTTP Basic auth (InfluxDB 1.x reads it as
    /// it reads `u` and `p`; never put in the URL, which logs and `/health` quote).
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub username: Option<String>,
    /// v1: password (see `username`).
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub password: Option<String>,
    /// v2: organisation.
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub org: Option<String>,
    /// v2: bucket; by default `db/rp` (or `db`) of each batch.
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub bucket: Option<String>,
    /// v2: API token (`Authorization: Token …`).
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub token: Option<String>,
    /// Most points coalesced into one request.
    #[serde(default = "default_batch_points")]
    pub batch_points: usize,
    /// Most bytes (uncompressed) coalesced into one request.
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: ByteSize,
    /// Requests in flight at once (acknowledged in order); a store like InfluxDB
    /// accepts several concurrent writes far faster than one after the other.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// First retry delay; doubles per failure.
    #[serde(default = "default_retry_initial", with = "humantime_serde")]
    pub retry_initial: Duration,
    /// Longest retry delay.
    #[serde(default = "default_retry_max", with = "humantime_serde")]
    pub retry_max: Duration,
    /// How request bodies are compressed: `"gzip"` (the default, as Telegraf sends) or
    /// `"none"` (a store on the same host or a fast link: compressing only costs CPU).
    #[serde(default)]
    pub compression: Option<Compression>,
    /// gzip level, 1 (fastest, the default) to 9 (smallest); 0 stores without
    /// compressing (gzip framing only).
    #[serde(default = "default_compression_level")]
    pub compression_level: u32,
    /// Older spelling of `compression`: `gzip = false` is `compression = "none"`. Only
    /// one of the two may be given.
    #[serde(default)]
    pub gzip: Option<bool>,
    /// v1: when the store answers `404 database not found`, create the database
    /// (`CREATE DATABASE` on `/query`) and send again, as Telegraf does with
    /// `skip_database_creation = false`. Off, such a batch is dead-lettered.
    #[serde(default = "default_true")]
    pub create_database: bool,
    /// A batch the store keeps failing with a 5xx while it accepts other batches is
    /// batch-specific, not an outage: it is dead-lettered once it has failed this many
    /// times (or for [`OutputConfig::max_batch_age`]), so it never holds the cursor. While
    /// the store refuses every batch, nothing is dead-lettered: that is an outage, and
    /// the buffer holds the data until it ends.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// How long a batch may keep failing (see [`OutputConfig::max_attempts`]) before it
    /// is dead-lettered, while the output accepts other batches.
    #[serde(default = "default_max_batch_age", with = "humantime_serde")]
    pub max_batch_age: Duration,
}

/// How an output compresses request bodies (`compression`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip (`Content-Encoding: gzip`) at `compression_level`.
    #[default]
    Gzip,
    /// Bodies sent as they are.
    None,
}

impl OutputConfig {
    /// The gzip level to compress bodies with, or `None` to send them uncompressed
    /// (`compression`, or the older `gzip = false`).
    pub fn gzip_level(&self) -> Option<u32> {
        let gzip = match (self.compression, self.gzip) {
            (Some(compression), _) => compression == Compression::Gzip,
            (None, Some(gzip)) => gzip,
            (None, None) => true,
        };
        gzip.then_some(self.compression_level)
    }
}

fn default_compression_level() -> u32 {
    1
}
fn default_api() -> Api {
    Api::V1
}
fn default_batch_points() -> usize {
    5000
}
fn default_batch_bytes() -> ByteSize {
    ByteSize(4 * 1024 * 1024)
}
fn default_concurrency() -> usize {
    4
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_retry_initial() -> Duration {
    Duration::from_millis(100)
}
fn default_retry_max() -> Duration {
    Duration::from_secs(30)
}
fn default_max_attempts() -> u32 {
    10
}
fn default_max_batch_age() -> Duration {
    Duration::from_secs(300)
}
fn default_true() -> bool {
    true
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `sluice=debug`; `RUST_LOG` overrides it.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| e.in_file(path))
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: None,
            message: e.to_string(),
        })?;
        // Edge mode shares the machine with the load tool and accepts loss on a crash:
        // its buffer is in memory unless `[buffer]` says otherwise (a kind, or disk keys).
        if config.edge.is_some()
            && !sets_buffer_kind(text)
            && config.buffer.dir.is_none()
            && config.buffer.segment_size.is_none()
        {
            config.buffer.kind = BufferKind::Memory;
        }
        config.validate()?;
        Ok(config)
    }

    /// The dead-letter directory: configured, or `dead-letter` beside the buffer dir.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.dir_or_beside_buffer(self.dead_letter.dir.as_ref(), "dead-letter")
    }

    /// The embedded kv's directory: configured, or `kv` beside the buffer dir.
    pub fn kv_dir(&self) -> PathBuf {
        self.dir_or_beside_buffer(self.kv.dir.as_ref(), "kv")
    }

    /// The filesystem blob store's directory: configured, or `blobs` beside the buffer
    /// dir.
    pub fn blob_dir(&self) -> PathBuf {
        self.dir_or_beside_buffer(self.blob.dir.as_ref(), "blobs")
    }

    /// The merge journal's directory: `[merge] dir`, or `merge` beside the buffer dir.
    pub fn merge_dir(&self) -> PathBuf {
        let configured = self.merge.as_ref().and_then(|m| m.dir.as_ref());
        self.dir_or_beside_buffer(configured, "merge")
    }

    /// Where compiled plugins are cached: `plugin-cache` beside the buffer dir.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.dir_or_beside_buffer(None, "plugin-cache")
    }

    fn dir_or_beside_buffer(&self, configured: Option<&PathBuf>, name: &str) -> PathBuf {
        match configured {
            Some(dir) => dir.clone(),
            None => match self.buffer.dir().parent() {
                Some(parent) => parent.join(name),
                None => PathBuf::from(name),
            },
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        unique_names("outputs", self.outputs.iter().map(|o| o.name.as_str()))?;
        for output in &self.outputs {
            if !(output.url.starts_with("http://") || output.url.starts_with("https://")) {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: url {:?} must start with http:// or https://",
                    output.name, output.url
                )));
            }
            if output.concurrency == 0 || output.concurrency > 64 {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: concurrency must be between 1 and 64",
                    output.name
                )));
            }
            if output.compression_level > 9 {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: compression_level must be between 0 and 9",
                    output.name
                )));
            }
            if output.gzip.is_some() && output.compression.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: give `compression` or the older `gzip`, not both",
                    output.name
                )));
            }
            if output.max_attempts == 0 {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: max_attempts must be at least 1",
                    output.name
                )));
            }
            if output.batch_points == 0 {
                return Err(ConfigError::Invalid(format!(
                    "outputs.{}: batch_points must be at least 1",
                    output.name
                )));
            }
        }
        unique_names("plugins", self.plugins.iter().map(|p| p.name.as_str()))?;
        for plugin in &self.plugins {
            if plugin.timeout.is_zero() {
                return Err(ConfigError::Invalid(format!(
                    "plugins.{}: timeout must be more than zero",
                    plugin.name
                )));
            }
            if let Some(ns) = &plugin.kv_namespace
                && (ns.is_empty() || !ns.chars().all(valid_name_char))
            {
                return Err(ConfigError::Invalid(format!(
                    "plugins.{}: kv_namespace {ns:?} must be non-empty and use only letters, digits, '-' and '_'",
                    plugin.name
                )));
            }
            if plugin.max_memory.0 < 1024 * 1024 {
                return Err(ConfigError::Invalid(format!(
                    "plugins.{}: max_memory {} is too small (at least 1MiB)",
                    plugin.name, plugin.max_memory
                )));
            }
        }
        self.validate_kv()?;
        self.validate_blob()?;
        for udp in &self.udp {
            if udp.db.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "udp {}: db must not be empty",
                    udp.bind
                )));
            }
            if sluice_lineproto::Precision::from_v1(&udp.precision).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "udp {}: unknown precision {:?} (n, u, ms, s, m, h)",
                    udp.bind, udp.precision
                )));
            }
        }
        if let Some(edge) = &self.edge {
            edge.validate()?;
        }
        if let Some(merge) = &self.merge {
            merge.validate()?;
        }
        if self.edge.is_some() && self.merge.is_some() {
            return Err(ConfigError::Invalid(
                "[edge] and [merge] exclude each other: [edge] is for the gateway on a load generator, [merge] for the relay its sketches go to".to_owned(),
            ));
        }
        self.validate_buffer()
    }

    /// `[buffer]` holds only its kind's keys, with usable values.
    fn validate_buffer(&self) -> Result<(), ConfigError> {
        let buffer = &self.buffer;
        if let Some(key) = buffer.foreign_keys().first() {
            return Err(ConfigError::Invalid(format!(
                "buffer: {key} does not apply to kind = \"{}\"",
                buffer.kind.as_str()
            )));
        }
        if buffer.max_size().0 < 64 * 1024 {
            return Err(ConfigError::Invalid(format!(
                "buffer: max_size {} is too small (at least 64KiB)",
                buffer.max_size()
            )));
        }
        if buffer.kind == BufferKind::Redis {
            if buffer.url.is_none() {
                return Err(ConfigError::Invalid(
                    "buffer: kind = \"redis\" needs a url".to_owned(),
                ));
            }
            let opts = buffer.redis_options(&[]);
            let checks = [
                (opts.max_len == 0, "max_len must be at least 1"),
                (
                    opts.shards == 0 || opts.shards > 1024,
                    "shards must be 1 to 1024",
                ),
                (opts.timeout.is_zero(), "timeout must be more than zero"),
                (
                    opts.claim_idle < Duration::from_millis(300),
                    "claim_idle must be at least 300ms",
                ),
                (
                    opts.max_deliveries == 0,
                    "max_deliveries must be at least 1",
                ),
            ];
            if let Some((_, why)) = checks.iter().find(|(bad, _)| *bad) {
                return Err(ConfigError::Invalid(format!("buffer: {why}")));
            }
        }
        Ok(())
    }
}

impl Config {
    /// `[kv]` holds only its kind's keys, and a Redis call ends before a plugin's
    /// deadline (so an outage is a 503, not a plugin timeout).
    fn validate_kv(&self) -> Result<(), ConfigError> {
        let kv = &self.kv;
        let foreign = match kv.kind {
            KvKind::Embedded => [
                ("url", kv.url.is_some()),
                ("key_prefix", kv.key_prefix.is_some()),
                ("timeout", kv.timeout.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set),
            KvKind::Redis => [("dir", kv.dir.is_some())]
                .into_iter()
                .find(|(_, set)| *set),
        };
        if let Some((key, _)) = foreign {
            return Err(ConfigError::Invalid(format!(
                "kv: {key} does not apply to kind = \"{}\"",
                kv.kind.as_str()
            )));
        }
        if kv.kind == KvKind::Redis {
            if kv.url.is_none() {
                return Err(ConfigError::Invalid(
                    "kv: kind = \"redis\" needs a url".to_owned(),
                ));
            }
            if kv.timeout().is_zero() {
                return Err(ConfigError::Invalid(
                    "kv: timeout must be more than zero".to_owned(),
                ));
            }
            if let Some(plugin) = self.plugins.iter().find(|p| p.timeout <= kv.timeout()) {
                return Err(ConfigError::Invalid(format!(
                    "kv: timeout {} must be shorter than plugins.{}'s timeout {}",
                    humantime::format_duration(kv.timeout()),
                    plugin.name,
                    humantime::format_duration(plugin.timeout)
                )));
            }
        }
        Ok(())
    }
}

impl Config {
    /// `[blob]` holds only its kind's keys, S3 has a bucket, and an S3 call ends before a
    /// plugin's deadline.
    fn validate_blob(&self) -> Result<(), ConfigError> {
        let blob = &self.blob;
        let foreign = match blob.kind {
            BlobKind::Fs => [
                ("bucket", blob.bucket.is_some()),
                ("endpoint", blob.endpoint.is_some()),
                ("region", blob.region.is_some()),
                ("path_style", blob.path_style.is_some()),
                ("timeout", blob.timeout.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set),
            BlobKind::S3 => [("dir", blob.dir.is_some())]
                .into_iter()
                .find(|(_, set)| *set),
        };
        if let Some((key, _)) = foreign {
            return Err(ConfigError::Invalid(format!(
                "blob: {key} does not apply to kind = \"{}\"",
                blob.kind.as_str()
            )));
        }
        if blob.kind == BlobKind::S3 {
            if blob.bucket.as_deref().is_none_or(str::is_empty) {
                return Err(ConfigError::Invalid(
                    "blob: kind = \"s3\" needs a bucket".to_owned(),
                ));
            }
            if blob.timeout().is_zero() {
                return Err(ConfigError::Invalid(
                    "blob: timeout must be more than zero".to_owned(),
                ));
            }
            if let Some(plugin) = self.plugins.iter().find(|p| p.timeout <= blob.timeout()) {
                return Err(ConfigError::Invalid(format!(
                    "blob: timeout {} must be shorter than plugins.{}'s timeout {}",
                    humantime::format_duration(blob.timeout()),
                    plugin.name,
                    humantime::format_duration(plugin.timeout)
                )));
            }
        }
        Ok(())
    }
}

/// Whether the (already parsed) TOML text sets `[buffer] kind`.
fn sets_buffer_kind(text: &str) -> bool {
    text.parse::<toml::Table>().is_ok_and(|t| {
        t.get("buffer")
            .and_then(toml::Value::as_table)
            .is_some_and(|b| b.contains_key("kind"))
    })
}

/// Every name of a `section` is well-formed and used once.
fn unique_names<'a>(
    section: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if name.is_empty() || !name.chars().all(valid_name_char) {
            return Err(ConfigError::Invalid(format!(
                "{section}: name {name:?} must be non-empty and use only letters, digits, '-' and '_'"
            )));
        }
        if !seen.insert(name) {
            return Err(ConfigError::Invalid(format!(
                "{section}: name {name:?} is used twice"
            )));
        }
    }
    Ok(())
}

fn valid_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

#[cfg(test)]
mod tests;
