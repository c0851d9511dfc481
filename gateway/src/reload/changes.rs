//! [`Changes`]: what a new config changes, by section, split into what a reload applies
//! live and what needs a restart (listen addresses, the buffer, the backends).

use crate::config::Config;

/// The sections of a new config that differ from the running one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Applied by the reload: `plugins`, `server.tokens`, `server.max_body`,
    /// `server.accept_unsigned`, `outputs` (and with them where `/query` is proxied).
    pub applied: Vec<String>,
    /// Changed in the file but kept as they run until a restart: `server.http`,
    /// `server.shutdown_timeout`, `udp`, `buffer`, `dead_letter`, `kv`, `blob`, `log`,
    /// `edge`, `merge`.
    pub restart_needed: Vec<String>,
}

impl Changes {
    /// Compares `running` and `next` section by section. `plugins_changed` says whether
    /// the chain differs beyond the config text (a `.wasm` file rebuilt in place).
    pub fn between(running: &Config, next: &Config, plugins_changed: bool) -> Self {
        let differs =
            |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") != format!("{b:?}");
        let mut changes = Self::default();
        let live: [(&str, bool); 5] = [
            (
                "plugins",
                plugins_changed || differs(&running.plugins, &next.plugins),
            ),
            ("server.tokens", running.server.tokens != next.server.tokens),
            (
                "server.max_body",
                running.server.max_body.0 != next.server.max_body.0,
            ),
            (
                "server.accept_unsigned",
                running.server.accept_unsigned != next.server.accept_unsigned,
            ),
            ("outputs", differs(&running.outputs, &next.outputs)),
        ];
        let restart: [(&str, bool); 10] = [
            ("server.http", running.server.http != next.server.http),
            (
                "server.shutdown_timeout",
                running.server.shutdown_timeout != next.server.shutdown_timeout,
            ),
            ("udp", differs(&running.udp, &next.udp)),
            ("buffer", differs(&running.buffer, &next.buffer)),
            (
                "dead_letter",
                differs(&running.dead_letter, &next.dead_letter),
            ),
            ("kv", differs(&running.kv, &next.kv)),
            ("blob", differs(&running.blob, &next.blob)),
            ("log", differs(&running.log, &next.log)),
            ("edge", differs(&running.edge, &next.edge)),
            ("merge", differs(&running.merge, &next.merge)),
        ];
        for (section, changed) in live {
            if changed {
                changes.applied.push(section.to_owned());
            }
        }
        for (section, changed) in restart {
            if changed {
                changes.restart_needed.push(section.to_owned());
            }
        }
        changes
    }

    /// Whether anything a reload applies changed.
    pub fn applies_anything(&self) -> bool {
        !self.applied.is_empty()
    }

    /// The config that now runs: `next`'s live sections with `running`'s restart-only
    /// ones (so a later reload still reports them until a restart applies them).
    pub fn running_config(running: &Config, next: &Config) -> Config {
        let mut config = running.clone();
        config.plugins = next.plugins.clone();
        config.server.tokens = next.server.tokens.clone();
        config.server.max_body = next.server.max_body;
        config.server.accept_unsigned = next.server.accept_unsigned;
        config.outputs = next.outputs.clone();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    #[test]
    fn sections_are_split_into_live_and_restart() {
        let running = parse("[server]\ntokens = [\"a\"]\n[buffer]\nmax_size = \"1MiB\"\n");
        let next = parse(
            "[server]\ntokens = [\"b\"]\nhttp = \"127.0.0.1:9\"\n[buffer]\nmax_size = \"2MiB\"\n[[plugins]]\nname = \"p\"\nwasm = \"p.wasm\"\n",
        );
        let changes = Changes::between(&running, &next, false);
        assert_eq!(changes.applied, ["plugins", "server.tokens"]);
        assert_eq!(changes.restart_needed, ["server.http", "buffer"]);
        let now = Changes::running_config(&running, &next);
        assert_eq!(now.server.tokens, ["b"]);
        assert_eq!(now.server.http, running.server.http);
        assert_eq!(now.plugins.len(), 1);
        // What still waits for a restart is reported again; what was applied is not.
        let again = Changes::between(&now, &next, false);
        assert!(!again.applies_anything());
        assert_eq!(again.restart_needed, ["server.http", "buffer"]);
        assert_eq!(
            Changes::between(&now, &now, true).applied,
            ["plugins"],
            "a rebuilt .wasm is a plugin change"
        );
    }

    #[test]
    fn outputs_apply_live() {
        let output =
            |name: &str| format!("[[outputs]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:9\"\n");
        let running = parse(&output("a"));
        let next = parse(&format!("{}{}", output("a"), output("b")));
        let changes = Changes::between(&running, &next, false);
        assert_eq!(changes.applied, ["outputs"]);
        assert!(changes.restart_needed.is_empty());
        let now = Changes::running_config(&running, &next);
        assert_eq!(now.outputs.len(), 2);
        assert!(!Changes::between(&now, &next, false).applies_anything());
    }
}
