//! Every attack of the evil plugin ends in a clean, typed error naming the plugin — and
//! the next batch goes through (on a fresh instance after a fault).

use std::time::Duration;

use sluice_host::{Context, HostError, Plugin, PluginInstance};

use crate::lines::load_test_batch;
use crate::support::{caps, engine, spec};

/// A batch that triggers the attack.
const ATTACK: &[u8] = b"evil v=1 1\n";
/// A batch that does not.
const CALM: &[u8] = b"calm v=1 1\n";

fn evil(mode: &str, configure: impl FnOnce(&mut sluice_host::PluginSpec)) -> PluginInstance {
    let mut spec = spec("evil", "evil", &format!(r#"{{"mode": "{mode}"}}"#));
    configure(&mut spec);
    Plugin::load(engine(), spec, caps())
        .unwrap()
        .instance()
        .unwrap()
}

fn recovers(instance: &mut PluginInstance) {
    for _ in 0..2 {
        assert_eq!(instance.process(&Context::default(), CALM).unwrap(), CALM);
    }
}

#[test]
fn an_endless_loop_times_out() {
    let mut instance = evil("loop", |s| s.timeout = Duration::from_millis(200));
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    assert!(
        matches!(&err, HostError::Timeout { plugin, after } if plugin == "evil" && *after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "plugin \"evil\" ran past its 200ms timeout"
    );
    recovers(&mut instance);
}

#[test]
fn allocating_without_end_hits_the_memory_limit() {
    let mut instance = evil("alloc", |s| s.max_memory = 32 << 20);
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    assert!(
        matches!(&err, HostError::MemoryLimit { plugin, limit } if plugin == "evil" && *limit == 32 << 20),
        "{err:?}"
    );
    recovers(&mut instance);
}

#[test]
fn a_panic_is_a_trap_carrying_the_panic_message() {
    let mut instance = evil("panic", |_| {});
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    let HostError::Trap {
        plugin,
        message,
        stderr,
        backtrace,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(plugin, "evil");
    assert!(message.contains("unreachable"), "{message}");
    assert!(!message.contains("backtrace"), "{message}");
    assert!(backtrace.contains("wasm backtrace"), "{backtrace}");
    assert!(
        stderr.contains("evil plugin panicked on purpose"),
        "{stderr}"
    );
    let shown = err.to_string();
    assert!(
        shown.find("panicked on purpose") < shown.find("wasm backtrace"),
        "{shown}"
    );
    recovers(&mut instance);
}

#[test]
fn invalid_output_is_refused_and_the_instance_kept() {
    let mut instance = evil("invalid-output", |_| {});
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    let HostError::InvalidOutput { plugin, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(plugin, "evil");
    assert!(
        reason.contains("unable to read 'this is not line protocol'"),
        "{reason}"
    );
    recovers(&mut instance);
}

#[test]
fn a_hundredfold_output_works_within_the_memory_limit() {
    let mut instance = evil("amplify", |_| {});
    let mut batch = ATTACK.to_vec();
    batch.extend_from_slice(&load_test_batch(50));
    let out = instance.process(&Context::default(), &batch).unwrap();
    assert_eq!(out.len(), batch.len() * 100);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 51 * 100);
}

#[test]
fn a_hundredfold_output_past_the_memory_limit_is_a_memory_limit_error() {
    let mut instance = evil("amplify", |_| {});
    let mut batch = ATTACK.to_vec();
    batch.extend_from_slice(&load_test_batch(5_000));
    assert!(batch.len() * 100 > 64 << 20);
    let err = instance.process(&Context::default(), &batch).unwrap_err();
    assert!(matches!(err, HostError::MemoryLimit { .. }), "{err:?}");
    recovers(&mut instance);
}

#[test]
fn sleeping_past_the_deadline_times_out_without_waiting() {
    let mut instance = evil("sleep", |_| {});
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    assert!(matches!(err, HostError::Timeout { .. }), "{err:?}");
    recovers(&mut instance);
}

#[test]
fn a_flood_of_stderr_and_log_lines_is_capped_not_fatal() {
    let mut instance = evil("chatty", |_| {});
    assert_eq!(
        instance.process(&Context::default(), ATTACK).unwrap(),
        ATTACK
    );
    recovers(&mut instance);
}

#[test]
fn a_plugin_error_says_whether_to_retry() {
    let mut instance = evil("unavailable", |_| {});
    let err = instance.process(&Context::default(), ATTACK).unwrap_err();
    assert!(
        matches!(&err, HostError::PluginError { message, retryable: true, .. } if message == "evil backend is down on purpose"),
        "{err:?}"
    );
    recovers(&mut instance);
}

#[test]
fn an_init_that_never_returns_times_out_at_load() {
    let mut spec = spec("evil", "evil", r#"{"mode": "init-loop"}"#);
    spec.timeout = Duration::from_millis(100);
    let err = Plugin::load(engine(), spec, caps()).unwrap_err();
    assert!(matches!(err, HostError::Timeout { .. }), "{err:?}");
}

#[test]
fn an_unknown_mode_is_refused_at_load() {
    let err = Plugin::load(
        engine(),
        spec("evil", "evil", r#"{"mode": "nice"}"#),
        caps(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, HostError::Init { message, .. } if message.contains("unknown variant `nice`")),
        "{err:?}"
    );
}

#[test]
fn a_plugin_reaches_no_filesystem_environment_or_network() {
    let mut instance = evil("escape", |_| {});
    let out = instance.process(&Context::default(), ATTACK).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "escape root=false,file=false,cwd=false,env=0i,args=0i,tcp=false,dns=false 1\n"
    );
}
