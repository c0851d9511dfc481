//! `sluice check -c`: unknown keys are named with their line, `${VAR}` must be set, sizes must
//! parse, every example config passes; `sluice run` refuses a bad config.

use sluice_e2e::{
    CommandOutput, SluiceConfig, dead_url, run_command, sluice_command, workspace_root,
};
use std::path::Path;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// A valid config with its buffer inside `dir`.
fn valid_config(dir: &Path) -> String {
    SluiceConfig::new()
        .output_v1("central", &dead_url())
        .toml()
        .replace("{port}", "18086")
        .replace("{dir}", &dir.to_string_lossy())
}

fn check(config_text: &str, env: &[(&str, &str)]) -> CommandOutput {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sluice.toml");
    std::fs::write(&path, config_text).expect("writing the config");
    let path_arg = path.to_string_lossy().into_owned();
    let mut command = sluice_command(&["check", "-c", &path_arg], dir.path());
    command.env_remove("SLUICE_E2E_UNSET_VAR");
    for (key, value) in env {
        command.env(key, value);
    }
    run_command(&mut command, CHECK_TIMEOUT)
}

/// `text` with `line` inserted after line `after` (1-based); returns it and the new line's
/// number.
fn insert_line(text: &str, after: usize, line: &str) -> (String, usize) {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(after, line);
    (lines.join("\n") + "\n", after + 1)
}

#[test]
fn check_accepts_a_valid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = check(&valid_config(dir.path()), &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
}

#[test]
fn check_names_the_windowed_stage_and_the_merge_journal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = format!("{}\n[merge]\n", valid_config(dir.path()));
    let out = check(&relay, &[]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let journal = dir.path().join("merge");
    assert!(
        out.stdout.contains(&format!(
            "merging sketches, journal in {}",
            journal.display()
        )),
        "{}",
        out.describe()
    );
    let edge = format!("{}\n[edge]\nwindow = \"10s\"\n", valid_config(dir.path()));
    let out = check(&edge, &[]);
    assert!(
        out.stdout.contains("edge mode, 10s windows"),
        "{}",
        out.describe()
    );
}

#[test]
fn check_names_an_unknown_key_and_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = valid_config(dir.path());
    // After "[server]" and its first key.
    let (text, line) = insert_line(&valid, 2, "max_bodyy = \"1MiB\"");
    let out = check(&text, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains("max_bodyy") && out.stderr.contains(&format!("line {line}")),
        "stderr should name `max_bodyy` and line {line}: {}",
        out.describe()
    );

    // Inside an [[outputs]] table.
    let outputs_at = valid
        .lines()
        .position(|l| l == "[[outputs]]")
        .expect("the config has an [[outputs]] table");
    let (text, line) = insert_line(&valid, outputs_at + 1, "urll = \"http://127.0.0.1:1\"");
    let out = check(&text, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains("urll") && out.stderr.contains(&format!("line {line}")),
        "stderr should name `urll` and line {line}: {}",
        out.describe()
    );
}

#[test]
fn check_requires_referenced_environment_variables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text =
        valid_config(dir.path()).replace("tokens = []", "tokens = [\"${SLUICE_E2E_UNSET_VAR}\"]");
    let out = check(&text, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains("SLUICE_E2E_UNSET_VAR"),
        "stderr should name the variable: {}",
        out.describe()
    );
    let out = check(&text, &[("SLUICE_E2E_UNSET_VAR", "set-now")]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
}

#[test]
fn check_rejects_a_bad_size_quoting_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = valid_config(dir.path()).replace("max_body = \"32MiB\"", "max_body = \"12XB\"");
    let out = check(&text, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains("12XB"),
        "stderr should quote the size: {}",
        out.describe()
    );
}

#[test]
fn check_rejects_a_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.toml").to_string_lossy().into_owned();
    let out = run_command(
        &mut sluice_command(&["check", "-c", &missing], dir.path()),
        CHECK_TIMEOUT,
    );
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("nope.toml"), "{}", out.describe());
}

/// `sluice run -c` on `text`, written into `dir` (expected to exit at once).
fn run_with(dir: &Path, text: &str) -> CommandOutput {
    let path = dir.join("run.toml");
    std::fs::write(&path, text).expect("writing the config");
    let path_arg = path.to_string_lossy().into_owned();
    run_command(
        &mut sluice_command(&["run", "-c", &path_arg], dir),
        CHECK_TIMEOUT,
    )
}

#[test]
fn run_refuses_an_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (text, _) = insert_line(&valid_config(dir.path()), 2, "bogus_key = 1");
    let out = run_with(dir.path(), &text);
    assert!(
        out.code.is_some_and(|code| code != 0),
        "run with an unknown key: {}",
        out.describe()
    );
    assert!(out.stderr.contains("bogus_key"), "{}", out.describe());
}

/// Every `examples/*.toml` passes `sluice check`, run from the workspace root as the README
/// does, so the examples cannot drift from the code.
#[test]
fn check_accepts_every_example_config() {
    let root = workspace_root();
    let examples = root.join("examples");
    let mut configs: Vec<_> = std::fs::read_dir(&examples)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    configs.sort();
    if !configs.iter().any(|p| p.ends_with("relay.toml")) {
        eprintln!(
            "note: {} is missing; nothing to check there",
            examples.join("relay.toml").display()
        );
    }
    for config in configs {
        let rel = config
            .strip_prefix(&root)
            .unwrap_or(&config)
            .to_string_lossy()
            .into_owned();
        // The recipes read their secrets from the environment (flood-relay.toml:
        // DEDUP_KEY), as a deployment would.
        let mut command = sluice_command(&["check", "-c", &rel], &root);
        command.env("DEDUP_KEY", "example-check-key");
        let out = run_command(&mut command, CHECK_TIMEOUT);
        assert_eq!(
            out.code,
            Some(0),
            "sluice check -c {rel}: {}",
            out.describe()
        );
    }
}

#[test]
fn check_and_run_both_refuse_a_config_without_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = SluiceConfig::new()
        .toml()
        .replace("{port}", "18086")
        .replace("{dir}", &dir.path().to_string_lossy());
    let out = check(&text, &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("no [[outputs]]"), "{}", out.describe());
    let out = run_with(dir.path(), &text);
    assert!(
        out.code.is_some_and(|code| code != 0),
        "run without outputs: {}",
        out.describe()
    );
    assert!(out.stderr.contains("no [[outputs]]"), "{}", out.describe());
}
