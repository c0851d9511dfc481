//! `[[plugins]]`, `[kv]` and `[blob]`: the plugin chain and the capabilities its plugins
//! may call.

use super::{ByteSize, env};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// What the chain does with a batch when a plugin fails on it (returns an error, traps,
/// runs past its `timeout`, exceeds `max_memory` or returns invalid line protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Keep the batch as it entered the chain in the dead-letter store, with the plugin's
    /// name, sha256 and error, for `sluice dlq replay` (the client still gets 204).
    #[default]
    DeadLetter,
    /// Skip the plugin: the batch goes on down the chain as the plugin received it.
    Pass,
    /// Count the batch's points as dropped and discard it.
    Drop,
}

impl OnError {
    /// The config spelling, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeadLetter => "dead-letter",
            Self::Pass => "pass",
            Self::Drop => "drop",
        }
    }
}

/// `[[plugins]]`: one WebAssembly transform of the chain, run in file order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Unique name, used in logs, metrics and dead-letter entries.
    #[serde(deserialize_with = "env::expand")]
    pub name: String,
    /// The component (`.wasm` built for `wasm32-wasip2`); relative paths are taken from
    /// the working directory, like every other path of the config.
    #[serde(deserialize_with = "env::expand_path")]
    pub wasm: PathBuf,
    /// The plugin's own settings, handed to its `init` as JSON. `${VAR}` in any string
    /// value (nested tables and arrays too) is expanded like the rest of the config.
    #[serde(default, deserialize_with = "env::expand_table")]
    pub config: toml::Table,
    /// Most linear memory one instance may use.
    #[serde(default = "default_max_memory")]
    pub max_memory: ByteSize,
    /// Longest one batch may take in this plugin.
    #[serde(default = "default_plugin_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// What to do with a batch this plugin fails on.
    #[serde(default)]
    pub on_error: OnError,
    /// The kv namespace the plugin's keys and ids live in; by default its `name`, so
    /// plugins never see each other's data. Entries that set the same value share.
    #[serde(default, deserialize_with = "env::expand_opt")]
    pub kv_namespace: Option<String>,
    /// The component's expected sha256 (hex): a file that does not match is refused at
    /// start and on reload, so a half-copied or wrong build never runs.
    #[serde(default)]
    pub sha256: Option<String>,
}

fn default_max_memory() -> ByteSize {
    ByteSize(64 * 1024 * 1024)
}

fn default_plugin_timeout() -> Duration {
    Duration::from_secs(1)
}

impl PluginConfig {
    /// The kv namespace of the plugin: `kv_namespace`, or its name.
    pub fn kv_namespace(&self) -> &str {
        self.kv_namespace.as_deref().unwrap_or(&self.name)
    }

    /// The plugin's `config` table as the JSON text its `init` receives.
    pub fn config_json(&self) -> String {
        // A TOML table always has a JSON form (datetimes become strings).
        serde_json::to_string(&self.config).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// The `kv` backend plugins share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvKind {
    /// In-process, persisted to a `redb` file (`kv.redb`) in `dir`.
    #[default]
    Embedded,
    /// A Redis server at `url`, shared by every gateway pointing at it.
    Redis,
}

impl KvKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Redis => "redis",
        }
    }
}

/// `[kv]`. `dir` belongs to `embedded`; `url`, `key_prefix` and `timeout` to `redis`
/// (a key of the other kind is an error).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KvConfig {
    /// Backend.
    pub kind: KvKind,
    /// Directory of the embedded kv; by default `kv` beside the buffer dir.
    #[serde(deserialize_with = "env::expand_opt_path")]
    pub dir: Option<PathBuf>,
    /// Redis URL, `redis://[user:password@]host:port[/db]`.
    #[serde(deserialize_with = "env::expand_opt")]
    pub url: Option<String>,
    /// Prepended to every Redis key; by default `sluice:`.
    #[serde(deserialize_with = "env::expand_opt")]
    pub key_prefix: Option<String>,
    /// Longest one Redis call may take before the plugin's kv call fails (and the
    /// client gets 503); by default 500ms. Must be shorter than every plugin's `timeout`.
    #[serde(with = "humantime_serde::option")]
    pub timeout: Option<Duration>,
}

impl KvConfig {
    /// `key_prefix`, or `sluice:`.
    pub fn key_prefix(&self) -> &str {
        self.key_prefix.as_deref().unwrap_or("sluice:")
    }

    /// `timeout`, or 500ms.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_millis(500))
    }
}

/// The `blob` backend plugins write to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobKind {
    /// Files under `dir`.
    #[default]
    Fs,
    /// Objects in an S3 (or S3-compatible) `bucket`.
    S3,
}

impl BlobKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fs => "fs",
            Self::S3 => "s3",
        }
    }
}

/// `[blob]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobConfig {
    /// Backend.
    pub kind: BlobKind,
    /// Directory of the filesystem blob store; by default `blobs` beside the buffer dir.
    #[serde(deserialize_with = "env::expand_opt_path")]
    pub dir: Option<PathBuf>,
    /// S3: the bucket objects go to (it must exist).
    #[serde(deserialize_with = "env::expand_opt")]
    pub bucket: Option<String>,
    /// S3: the endpoint of an S3-compatible server (`http://127.0.0.1:9000`); by default
    /// AWS's endpoint for `region`.
    #[serde(deserialize_with = "env::expand_opt")]
    pub endpoint: Option<String>,
    /// S3: the region; by default `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
    #[serde(deserialize_with = "env::expand_opt")]
    pub region: Option<String>,
    /// S3: path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones
    /// (`bucket.endpoint/key`); by default on when `endpoint` is set (MinIO, moto,
    /// Ceph), off for AWS.
    pub path_style: Option<bool>,
    /// S3: longest one `put-many` call may take before the plugin's blob call fails
    /// (and the client gets 503); by default 500ms. Must be shorter than every plugin's
    /// `timeout`.
    #[serde(with = "humantime_serde::option")]
    pub timeout: Option<Duration>,
}

impl BlobConfig {
    /// `timeout`, or 500ms.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_millis(500))
    }

    /// `path_style`, or whether an `endpoint` is set.
    pub fn path_style(&self) -> bool {
        self.path_style.unwrap_or(self.endpoint.is_some())
    }
}
