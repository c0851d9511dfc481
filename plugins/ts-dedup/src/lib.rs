//! # ts-dedup
//!
//! Sluice reference plugin: rewrites the low `bits` bits of each point's nanosecond
//! timestamp with an HMAC of chosen tags' values (e.g. `node` and `label`). InfluxDB keeps
//! one point per series and timestamp, so when many load-test nodes write the same series
//! at the same instant (and a later plugin strips the `node` tag) all but one would be
//! lost; with their low bits set by `node`, they land on different nanoseconds and all
//! survive. The rewrite is deterministic: the same point always gets the same timestamp,
//! on every gateway, so a retried or replayed batch overwrites itself instead of
//! duplicating.
//!
//! ```toml
//! [[plugins]]
//! name = "dedup"
//! wasm = "plugins/target/wasm32-wasip2/release/ts_dedup.wasm"
//! config = { key = "a long random secret", tags = ["node", "label"] }   # bits = 19
//! ```
//!
//! The low bits are the last eight bytes of HMAC-SHA256(`key`, message), read as a
//! big-endian number, masked to `bits`; the message encodes the values of `tags` in
//! config order, unescaped and length-prefixed (see `stamp::encode`), so no two
//! combinations share one. The bits replaced are those of the two's complement
//! timestamp, so a point moves by less than 2^`bits` ns within its aligned window
//! (negative timestamps included) and never out of InfluxDB's range (clamped at its two
//! ends). Points that have none of the `tags` pass unchanged.
//!
//! An HMAC costs two SHA-256 blocks, so each instance remembers the low bits of up to
//! `cache_size` tag-value combinations (a load test has a few hundred); the output is
//! copied from the batch in runs, replacing only the timestamps that change, and of
//! those usually only the last nine digits (`stamp::push_stamped`). No host call is
//! made.
//!
//! # Layout
//!
//! - [`Config`] (`config`): the settings and their validation.
//! - `stamp`: the HMAC message, the low bits (cached) and the rewritten timestamp.
//! - `name`: config tag keys matched against escaped keys.
//! - `splice`: the output copied from the batch in runs between edits.
//! - [`TsDedup`] and its [`Plugin`] implementation (here); unit tests in `tests`.

mod config;
mod stamp;
#[cfg(test)]
mod tests;

use sluice_plugin_sdk::{
    Batch, Context, Escaped, Host, LineWriter, Name, Plugin, PluginError, Point, Splice,
};

pub use config::{Config, DEFAULT_BITS, DEFAULT_CACHE_SIZE};
pub use stamp::{MAX_TIMESTAMP, MIN_TIMESTAMP};
use stamp::{Stamper, encode_key, push_stamped, stamp};

/// Rewrites the low bits of timestamps from the configured tags.
#[derive(Debug)]
pub struct TsDedup {
    /// The tags whose values make the message, in config order.
    tags: Vec<Name>,
    /// The HMAC and its cache.
    stamper: Stamper,
    /// Scratch: the cache key of the current point.
    key: Vec<u8>,
}

impl TsDedup {
    /// Reads the values of the configured tags of `point` into `values` (the first of a
    /// repeated tag); whether it has any.
    #[inline]
    fn values<'a>(&self, point: &Point<'a>, values: &mut [Option<Escaped<'a>>]) -> bool {
        values.fill(None);
        let mut found = 0;
        for (key, value) in point.tags() {
            for (name, slot) in self.tags.iter().zip(values.iter_mut()) {
                if slot.is_none() && name.matches(key) {
                    *slot = Some(value);
                    found += 1;
                }
            }
            if found == values.len() {
                break;
            }
        }
        found > 0
    }
}

impl Plugin for TsDedup {
    type Config = Config;

    fn new(config: Config) -> Result<Self, String> {
        config.validate()?;
        Ok(Self {
            tags: config.tags.iter().map(|t| Name::new(t)).collect(),
            stamper: Stamper::new(config.key.as_bytes(), config.bits, config.cache_size)?,
            key: Vec::new(),
        })
    }

    fn process<H: Host>(
        &mut self,
        _ctx: &Context,
        batch: Batch<'_>,
        out: &mut LineWriter,
        _host: &mut H,
    ) -> Result<(), PluginError> {
        let mut splice = Splice::new(batch.as_bytes(), std::mem::take(out).into_inner());
        let mut values = vec![None; self.tags.len()];
        let mask = self.stamper.mask();
        for point in batch.points() {
            let point = point?;
            if !self.values(&point, &mut values) {
                continue;
            }
            encode_key(&mut self.key, &values);
            let low = self.stamper.low_bits(&self.key, &values);
            let timestamp = point.timestamp();
            let stamped = stamp(timestamp, low, mask);
            if stamped == timestamp {
                continue;
            }
            let raw = point.timestamp_raw();
            let end = point.offset() + point.line().len();
            let start = end - raw.len();
            splice.copy_to(start);
            push_stamped(splice.out(), raw, timestamp, stamped);
            splice.cut(start..end);
        }
        *out = LineWriter::from_vec(splice.finish());
        Ok(())
    }
}

sluice_plugin_sdk::export!(TsDedup);
