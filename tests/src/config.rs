//! [`SluiceConfig`]: the usual relay configuration as a builder, rendered to TOML with the
//! `{port}` and `{dir}` placeholders that [`crate::TestSluice`] fills in. Outputs retry fast
//! (50 ms up to 1 s) so a store that comes back is noticed quickly.

use std::fmt::Write;

/// A relay configuration under construction.
#[derive(Debug, Clone)]
pub struct SluiceConfig {
    /// `[server] max_body`.
    max_body: String,
    /// `[server] tokens`.
    tokens: Vec<String>,
    /// `[buffer] kind`.
    buffer_kind: String,
    /// `[buffer] dir`.
    buffer_dir: String,
    /// `[buffer] max_size`.
    max_size: String,
    /// `[buffer] segment_size`, when set.
    segment_size: Option<String>,
    /// The other `[buffer]` keys of `kind = "redis"`, rendered, when it is one.
    redis_buffer: Option<String>,
    /// `[dead_letter] dir`, when set.
    dead_letter_dir: Option<String>,
    /// `[[udp]]` tables, rendered.
    udp: Vec<String>,
    /// `[[plugins]]` tables, rendered.
    plugins: Vec<String>,
    /// `[[outputs]]` tables, rendered.
    outputs: Vec<String>,
    /// `[log] level`.
    log_level: String,
}

impl Default for SluiceConfig {
    fn default() -> Self {
        SluiceConfig {
            max_body: "32MiB".to_owned(),
            tokens: Vec::new(),
            buffer_kind: "disk".to_owned(),
            buffer_dir: "{dir}/buffer".to_owned(),
            max_size: "256MiB".to_owned(),
            segment_size: None,
            redis_buffer: None,
            dead_letter_dir: None,
            udp: Vec::new(),
            plugins: Vec::new(),
            outputs: Vec::new(),
            log_level: "info".to_owned(),
        }
    }
}

impl SluiceConfig {
    /// HTTP on `127.0.0.1:{port}`, disk buffer in `{dir}/buffer` (256 MiB), no outputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `[server] max_body`, e.g. `"1MiB"`.
    pub fn max_body(mut self, size: &str) -> Self {
        size.clone_into(&mut self.max_body);
        self
    }

    /// `[server] tokens`.
    pub fn tokens(mut self, tokens: &[&str]) -> Self {
        self.tokens = tokens.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// `[buffer] kind = "memory"`.
    pub fn memory_buffer(mut self) -> Self {
        "memory".clone_into(&mut self.buffer_kind);
        self
    }

    /// `[buffer] dir` (default `{dir}/buffer`).
    pub fn buffer_dir(mut self, dir: &str) -> Self {
        dir.clone_into(&mut self.buffer_dir);
        self
    }

    /// `[buffer] max_size`, e.g. `"1MiB"`.
    pub fn max_size(mut self, size: &str) -> Self {
        size.clone_into(&mut self.max_size);
        self
    }

    /// `[buffer] segment_size`.
    pub fn segment_size(mut self, size: &str) -> Self {
        self.segment_size = Some(size.to_owned());
        self
    }

    /// `[dead_letter] dir`.
    pub fn dead_letter_dir(mut self, dir: &str) -> Self {
        self.dead_letter_dir = Some(dir.to_owned());
        self
    }

    /// A `[[udp]]` listener on `127.0.0.1:port` for `db`, with optional `rp` and `precision`.
    pub fn udp(mut self, port: u16, db: &str, rp: Option<&str>, precision: Option<&str>) -> Self {
        let mut table = format!("[[udp]]\nbind = \"127.0.0.1:{port}\"\ndb = {}\n", quote(db));
        if let Some(rp) = rp {
            let _ = writeln!(table, "rp = {}", quote(rp));
        }
        if let Some(precision) = precision {
            let _ = writeln!(table, "precision = {}", quote(precision));
        }
        self.udp.push(table);
        self
    }

    /// A `[[plugins]]` entry running the component at `wasm`, with `extra` TOML lines
    /// (e.g. `config = { tags = ["node"] }`, `timeout = "500ms"`, `on_error = "drop"`).
    pub fn plugin(mut self, name: &str, wasm: &std::path::Path, extra: &str) -> Self {
        self.plugins.push(format!(
            "[[plugins]]\nname = {}\nwasm = {}\n{extra}",
            quote(name),
            quote(&wasm.to_string_lossy())
        ));
        self
    }

    /// Removes every `[[plugins]]` entry (an empty chain).
    pub fn without_plugins(mut self) -> Self {
        self.plugins.clear();
        self
    }

    /// An `api = "v1"` output.
    pub fn output_v1(self, name: &str, url: &str) -> Self {
        self.output(name, url, "api = \"v1\"\n")
    }

    /// An `api = "v2"` output with `org` and `token` (bucket taken from each batch).
    pub fn output_v2(self, name: &str, url: &str, org: &str, token: &str) -> Self {
        let extra = format!(
            "api = \"v2\"\norg = {}\ntoken = {}\n",
            quote(org),
            quote(token)
        );
        self.output(name, url, &extra)
    }

    /// An output with `extra` TOML lines (e.g. `api`, credentials) after `name` and `url`.
    pub fn output(mut self, name: &str, url: &str, extra: &str) -> Self {
        self.outputs.push(format!(
            "[[outputs]]\nname = {}\nurl = {}\n{extra}timeout = \"5s\"\nretry_initial = \"50ms\"\nretry_max = \"1s\"\n",
            quote(name),
            quote(url)
        ));
        self
    }

    /// `[log] level`.
    pub fn log_level(mut self, level: &str) -> Self {
        level.clone_into(&mut self.log_level);
        self
    }

    /// A Redis Streams buffer at `url`, with more `[buffer]` keys in `extra` (TOML lines:
    /// `stream`, `shards`, …).
    #[must_use]
    pub fn redis_buffer(mut self, url: &str, extra: &str) -> Self {
        "redis".clone_into(&mut self.buffer_kind);
        self.redis_buffer = Some(format!("url = {}\n{extra}", quote(url)));
        self
    }

    /// The TOML text, placeholders left in.
    pub fn toml(&self) -> String {
        let tokens: Vec<String> = self.tokens.iter().map(|t| quote(t)).collect();
        let mut out = format!(
            "[server]\nhttp = \"127.0.0.1:{{port}}\"\nmax_body = {}\ntokens = [{}]\n\n",
            quote(&self.max_body),
            tokens.join(", ")
        );
        for table in self.udp.iter().chain(&self.plugins) {
            out.push_str(table);
            if !table.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        let _ = writeln!(out, "[buffer]\nkind = {}", quote(&self.buffer_kind));
        if let Some(redis) = &self.redis_buffer {
            out.push_str(redis);
            if !redis.ends_with('\n') {
                out.push('\n');
            }
        } else {
            if self.buffer_kind != "memory" {
                let _ = writeln!(out, "dir = {}", quote(&self.buffer_dir));
            }
            let _ = writeln!(out, "max_size = {}", quote(&self.max_size));
            if let Some(size) = &self.segment_size {
                let _ = writeln!(out, "segment_size = {}", quote(size));
            }
        }
        out.push('\n');
        if let Some(dir) = &self.dead_letter_dir {
            let _ = writeln!(out, "[dead_letter]\ndir = {}\n", quote(dir));
        }
        for table in &self.outputs {
            out.push_str(table);
            out.push('\n');
        }
        let _ = writeln!(out, "[log]\nlevel = {}", quote(&self.log_level));
        out
    }
}

/// A TOML basic string.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_section() {
        let toml = SluiceConfig::new()
            .max_body("1MiB")
            .tokens(&["a", "b"])
            .udp(9000, "u", Some("autogen"), Some("s"))
            .output_v1("central", "http://127.0.0.1:1")
            .dead_letter_dir("{dir}/dl")
            .toml();
        for needle in [
            "http = \"127.0.0.1:{port}\"",
            "max_body = \"1MiB\"",
            "tokens = [\"a\", \"b\"]",
            "[[udp]]\nbind = \"127.0.0.1:9000\"\ndb = \"u\"\nrp = \"autogen\"\nprecision = \"s\"",
            "[buffer]\nkind = \"disk\"\ndir = \"{dir}/buffer\"",
            "[dead_letter]\ndir = \"{dir}/dl\"",
            "[[outputs]]\nname = \"central\"\nurl = \"http://127.0.0.1:1\"\napi = \"v1\"",
        ] {
            assert!(toml.contains(needle), "{needle:?} not in\n{toml}");
        }
    }

    #[test]
    fn memory_buffer_has_no_dir() {
        let toml = SluiceConfig::new().memory_buffer().toml();
        assert!(
            toml.contains("kind = \"memory\"") && !toml.contains("dir ="),
            "{toml}"
        );
    }
}
