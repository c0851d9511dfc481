use super::*;

#[test]
fn defaults_match_design() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.server.http.to_string(), "127.0.0.1:8086");
    assert_eq!(c.server.max_body.0, 32 * 1024 * 1024);
    assert_eq!(c.buffer.kind, BufferKind::Disk);
    assert_eq!(c.dead_letter_dir(), PathBuf::from("data/dead-letter"));
}

#[test]
fn human_units() {
    let c = Config::parse(
        r#"
[server]
max_body = "1MiB"
[buffer]
max_size = "2GiB"
[[outputs]]
name = "a"
url = "http://127.0.0.1:1"
timeout = "1500ms"
retry_max = "1m"
batch_bytes = 1024
"#,
    )
    .unwrap();
    assert_eq!(c.server.max_body.0, 1 << 20);
    assert_eq!(c.buffer.max_size().0, 2 << 30);
    assert_eq!(c.outputs[0].timeout, Duration::from_millis(1500));
    assert_eq!(c.outputs[0].retry_max, Duration::from_secs(60));
    assert_eq!(c.outputs[0].batch_bytes.0, 1024);
}

#[test]
fn unknown_key_names_key_and_line() {
    let err = Config::parse("[server]\nhttp = \"127.0.0.1:1\"\nmax_bodyy = \"1MiB\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_bodyy"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn bad_size_is_explained() {
    let err = Config::parse("[server]\nmax_body = \"lots\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("lots"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn duplicate_output_names_rejected() {
    let err = Config::parse(
        "[[outputs]]\nname=\"a\"\nurl=\"http://x\"\n[[outputs]]\nname=\"a\"\nurl=\"http://y\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("used twice"), "{err}");
}

#[test]
fn output_compression_gzip_by_default_none_or_a_level() {
    let level = |extra: &str| {
        Config::parse(&format!(
            "[[outputs]]\nname=\"a\"\nurl=\"http://x\"\n{extra}"
        ))
        .map(|c| c.outputs[0].gzip_level())
        .map_err(|e| e.to_string())
    };
    assert_eq!(level(""), Ok(Some(1)));
    assert_eq!(level("compression = \"none\""), Ok(None));
    assert_eq!(
        level("compression = \"gzip\"\ncompression_level = 6"),
        Ok(Some(6))
    );
    assert_eq!(level("compression_level = 0"), Ok(Some(0)));
    // The older spelling still works.
    assert_eq!(level("gzip = false"), Ok(None));
    assert_eq!(level("gzip = true"), Ok(Some(1)));
    let err = level("compression_level = 10").unwrap_err();
    assert!(err.contains("between 0 and 9"), "{err}");
    let err = level("compression = \"gzip\"\ngzip = false").unwrap_err();
    assert!(err.contains("not both"), "{err}");
    let err = level("compression = \"zstd\"").unwrap_err();
    assert!(err.contains("zstd"), "{err}");
}

#[test]
fn env_var_in_token() {
    let path = std::env::var("PATH").unwrap();
    let c = Config::parse("[server]\ntokens = [\"${PATH}\"]\n").unwrap();
    assert_eq!(c.server.tokens, vec![path]);
    let err = Config::parse("[server]\ntokens = [\"${SLUICE_UNSET_FOR_TEST}\"]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("SLUICE_UNSET_FOR_TEST"), "{err}");
}

#[test]
fn plugins_in_order_with_defaults_and_json_config() {
    let c = Config::parse(
        r#"
[[plugins]]
name = "strip-node"
wasm = "plugins/tag_strip.wasm"
config = { tags = ["node"], n = 3 }

[[plugins]]
name = "evil"
wasm = "evil.wasm"
max_memory = "8MiB"
timeout = "500ms"
on_error = "pass"
"#,
    )
    .unwrap();
    assert_eq!(c.plugins.len(), 2);
    let strip = &c.plugins[0];
    assert_eq!(strip.on_error, OnError::DeadLetter);
    assert_eq!(strip.timeout, Duration::from_secs(1));
    assert_eq!(strip.max_memory.0, 64 << 20);
    let json: serde_json::Value = serde_json::from_str(&strip.config_json()).unwrap();
    assert_eq!(json, serde_json::json!({"tags": ["node"], "n": 3}));
    assert_eq!(c.plugins[1].on_error, OnError::Pass);
    assert_eq!(c.plugins[1].timeout, Duration::from_millis(500));
    assert_eq!(c.plugins[1].config_json(), "{}");
    assert_eq!(c.kv_dir(), PathBuf::from("data/kv"));
    assert_eq!(c.blob_dir(), PathBuf::from("data/blobs"));
}

#[test]
fn bad_plugin_entries_are_named() {
    let twice = "[[plugins]]\nname = \"a\"\nwasm = \"a.wasm\"\n[[plugins]]\nname = \"a\"\nwasm = \"b.wasm\"\n";
    let e = Config::parse(twice).unwrap_err().to_string();
    assert!(e.contains("\"a\" is used twice"), "{e}");
    let e = Config::parse("[[plugins]]\nname = \"a\"\nwasm = \"a.wasm\"\non_error = \"ignore\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("on_error") || e.contains("ignore"), "{e}");
    let e = Config::parse("[[plugins]]\nname = \"a\"\nwasm = \"a.wasm\"\ntimeout = \"0s\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("timeout"), "{e}");
}

#[test]
fn plugin_config_strings_are_expanded() {
    // PATH is set in every test environment; the unit tests of `env` cover the rest.
    let path = std::env::var("PATH").unwrap();
    let c = Config::parse(
        r#"
[[plugins]]
name = "dedup"
wasm = "ts_dedup.wasm"
config = { key = "${PATH}", tags = ["${PATH}"], bits = 20 }
"#,
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&c.plugins[0].config_json()).unwrap();
    assert_eq!(json["key"], serde_json::Value::String(path.clone()));
    assert_eq!(json["tags"][0], serde_json::Value::String(path));
    assert_eq!(json["bits"], 20);
    let err = Config::parse(
        "[[plugins]]\nname = \"d\"\nwasm = \"x.wasm\"\nconfig = { key = \"${SLUICE_SURELY_UNSET_VAR}\" }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("SLUICE_SURELY_UNSET_VAR"), "{err}");
}

#[test]
fn kv_namespace_defaults_to_the_name_and_is_checked() {
    let c = Config::parse(
        "[[plugins]]\nname = \"a\"\nwasm = \"a.wasm\"\n[[plugins]]\nname = \"b\"\nwasm = \"b.wasm\"\nkv_namespace = \"ids\"\n",
    )
    .unwrap();
    assert_eq!(c.plugins[0].kv_namespace(), "a");
    assert_eq!(c.plugins[1].kv_namespace(), "ids");
    let err =
        Config::parse("[[plugins]]\nname = \"a\"\nwasm = \"a.wasm\"\nkv_namespace = \"x:y\"\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("kv_namespace"), "{err}");
}

#[test]
fn s3_blob_needs_a_bucket_takes_only_its_keys_and_ends_before_plugins() {
    let c = Config::parse(
        "[blob]\nkind = \"s3\"\nbucket = \"traces\"\nendpoint = \"http://127.0.0.1:9000\"\n",
    )
    .unwrap();
    assert_eq!(c.blob.kind, BlobKind::S3);
    assert!(
        c.blob.path_style(),
        "an endpoint means path-style by default"
    );
    assert_eq!(c.blob.timeout(), Duration::from_millis(500));
    let aws = Config::parse("[blob]\nkind = \"s3\"\nbucket = \"traces\"\n").unwrap();
    assert!(!aws.blob.path_style());
    for (toml, expected) in [
        ("[blob]\nkind = \"s3\"\n", "needs a bucket"),
        (
            "[blob]\nkind = \"s3\"\nbucket = \"b\"\ndir = \"x\"\n",
            "dir does not apply",
        ),
        (
            "[blob]\nbucket = \"b\"\n",
            "bucket does not apply to kind = \"fs\"",
        ),
        (
            "[[plugins]]\nname = \"p\"\nwasm = \"p.wasm\"\ntimeout = \"400ms\"\n[blob]\nkind = \"s3\"\nbucket = \"b\"\n",
            "must be shorter than plugins.p's timeout",
        ),
    ] {
        let err = Config::parse(toml).unwrap_err().to_string();
        assert!(err.contains(expected), "{toml:?}: {err}");
    }
}

#[test]
fn buffer_is_a_tagged_section_each_kind_with_its_own_keys() {
    let redis = Config::parse(
        "[buffer]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\nshards = 4\nclaim_idle = \"5s\"\n",
    )
    .unwrap();
    let opts = redis.buffer.redis_options(&["central".to_owned()]);
    assert_eq!(
        (opts.shards, opts.max_len, opts.max_deliveries),
        (4, 100_000, 5)
    );
    assert_eq!(opts.claim_idle, std::time::Duration::from_secs(5));
    assert_eq!(
        (opts.stream.as_str(), opts.group.as_str()),
        ("sluice", "sluice")
    );
    assert!(!opts.consumer.is_empty());
    for (toml, expected) in [
        ("[buffer]\nkind = \"redis\"\n", "needs a url"),
        (
            "[buffer]\nkind = \"redis\"\nurl = \"redis://h\"\ndir = \"x\"\n",
            "dir does not apply to kind = \"redis\"",
        ),
        (
            "[buffer]\nkind = \"redis\"\nurl = \"redis://h\"\nmax_size = \"1GiB\"\n",
            "max_size does not apply",
        ),
        (
            "[buffer]\nkind = \"memory\"\ndir = \"x\"\n",
            "dir does not apply to kind = \"memory\"",
        ),
        (
            "[buffer]\nshards = 2\n",
            "shards does not apply to kind = \"disk\"",
        ),
        (
            "[buffer]\nkind = \"redis\"\nurl = \"redis://h\"\nshards = 0\n",
            "shards must be 1 to 1024",
        ),
    ] {
        let error = Config::parse(toml).unwrap_err().to_string();
        assert!(error.contains(expected), "{toml}: {error}");
    }
}
