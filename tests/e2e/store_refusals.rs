//! What the store refuses never holds back anyone else's data (issue: influxdb-relay#71):
//! a batch for a retention policy influxd does not have (500 on every try) among hundreds
//! of good requests, a field type conflict inside a coalesced request; and databases are
//! created through the relay (`CREATE DATABASE` / `CREATE RETENTION POLICY` on `/query`,
//! applied to an output that was down when it returns, and a write to a database nobody
//! created).

use sluice_e2e::{LONG, SluiceConfig, TestInflux, TestSluice, now_ns, wait_until};

const T0: i64 = 1_650_000_000_000_000_000;

/// Records still pending for any output, from `/health`.
fn pending(sluice: &TestSluice) -> Option<u64> {
    let health = sluice.health();
    let outputs = health["buffer"]["pending"].as_object()?;
    Some(
        outputs
            .values()
            .filter_map(|o| o["pending_records"].as_u64())
            .sum(),
    )
}

/// `POST /query` with a form body, as Telegraf sends it.
#[test]
fn unknown_retention_policy_is_dead_lettered_and_replayed_without_holding_back_others() {
    let influx = TestInflux::start();
    influx.create_db("metrics");
    let mut sluice = TestSluice::relaying_to(&influx);

    let requests = 200;
    let per_request = 50;
    for i in 0..requests {
        if i == 10 {
            // Recent: the 7-day policy created later must be able to hold it.
            let refused = sluice
                .write_with("metrics")
                .rp("weekly")
                .body(format!("apdex score=0.9 {}\n", now_ns()))
                .send();
            assert_eq!(refused.status, 204, "{}", refused.describe());
        }
        let body: String = (0..per_request)
            .map(|j| format!("rt,i={i} v={j} {}\n", T0 + i * 1000 + j))
            .collect();
        let response = sluice.write("metrics", &body);
        assert_eq!(response.status, 204, "{}", response.describe());
    }
    let want = (requests * per_request) as u64;
    let stored = wait_until(LONG, || {
        (influx.count("metrics", "rt", "v") == want).then_some(())
    });
    assert!(
        stored.is_some(),
        "stored {} of {want} good points behind the refused batch",
        influx.count("metrics", "rt", "v")
    );
    assert!(
        wait_until(LONG, || (pending(&sluice)? == 0).then_some(())).is_some(),
        "the buffer did not drain: {}",
        sluice.health()
    );

    // The refused batch is kept with the store's status and message.
    sluice.terminate();
    let listed = sluice.dlq(&["list"]);
    assert!(
        listed.stdout.contains("retention policy not found: weekly")
            && listed.stdout.contains("500"),
        "{}",
        listed.describe()
    );
    // Create the policy (through the relay, as a client would), then replay.
    sluice.restart();
    let created = sluice.query_form(
        "CREATE RETENTION POLICY \"weekly\" ON \"metrics\" DURATION 7d REPLICATION 1",
        "",
    );
    assert_eq!(created.status, 200, "{}", created.describe());
    let has_policy = || {
        let r = influx.query("SHOW RETENTION POLICIES ON metrics", "");
        r.to_string().contains("\"weekly\"").then_some(())
    };
    assert!(wait_until(LONG, has_policy).is_some(), "policy not created");
    sluice.terminate();
    let replayed = sluice.dlq(&["replay", "--all"]);
    assert_eq!(replayed.code, Some(0), "{}", replayed.describe());
    sluice.restart();
    let delivered = wait_until(LONG, || {
        let r = influx.query(
            "SELECT count(\"score\") FROM \"metrics\".\"weekly\".\"apdex\"",
            "metrics",
        );
        (r["results"][0]["series"][0]["values"][0][1].as_u64() == Some(1)).then_some(())
    });
    assert!(delivered.is_some(), "the replayed batch was not delivered");
    let listed = sluice.dlq(&["list"]);
    assert!(
        listed.stdout.contains("no dead-lettered batches"),
        "{}",
        listed.describe()
    );
}

#[test]
fn a_type_conflict_in_a_coalesced_request_dead_letters_only_its_batch() {
    let mut influx = TestInflux::start();
    influx.create_db("mix");
    // `v` is an integer in the store.
    assert_eq!(influx.write("mix", &format!("m v=1i {T0}\n")).status, 204);
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .output("central", &influx.url(), "concurrency = 1\n")
            .toml(),
    )
    .spawn();
    // The store is down while the clients write, so their batches coalesce.
    influx.stop();
    let clients = 20;
    for c in 0..clients {
        let body = if c == 7 {
            format!("m v=1.5 {}\nm v=2.5 {}\n", T0 + 1, T0 + 2)
        } else {
            (0..10)
                .map(|j| format!("m,client=c{c} v={j}i {}\n", T0 + 100 + j))
                .collect()
        };
        let response = sluice.write("mix", &body);
        assert_eq!(response.status, 204, "{}", response.describe());
    }
    influx.restart();
    let want = 1 + (clients as u64 - 1) * 10;
    let stored = wait_until(LONG, || {
        (influx.count("mix", "m", "v") == want).then_some(())
    });
    assert!(
        stored.is_some(),
        "stored {} of {want}: the other clients' points must land",
        influx.count("mix", "m", "v")
    );
    assert!(
        wait_until(LONG, || (pending(&sluice)? == 0).then_some(())).is_some(),
        "the buffer did not drain: {}",
        sluice.health()
    );
    let points = wait_until(LONG, || sluice.metric("sluice_dead_lettered_points_total"));
    assert_eq!(
        points,
        Some(2.0),
        "only the conflicting batch is dead-lettered:\n{}",
        sluice.metrics()
    );
}

#[test]
fn create_database_through_the_relay_form_url_and_while_the_output_is_down() {
    let mut influx = TestInflux::start();
    let sluice = TestSluice::relaying_to(&influx);

    // Form body (Telegraf), and the URL's `q` (the influx CLI, curl).
    let form = sluice.query_form("CREATE DATABASE \"apm\"", "");
    assert_eq!(form.status, 200, "{}", form.describe());
    assert_eq!(
        form.json(),
        serde_json::json!({"results": [{"statement_id": 0}]})
    );
    let url = sluice
        .request("POST", "/query")
        .param("q", "CREATE DATABASE \"with space\"")
        .send();
    assert_eq!(url.status, 200, "{}", url.describe());
    let both = || {
        let dbs = influx.databases();
        (dbs.contains(&"apm".to_owned()) && dbs.contains(&"with space".to_owned())).then_some(())
    };
    assert!(
        wait_until(LONG, both).is_some(),
        "databases: {:?}",
        influx.databases()
    );

    // The output is down: the statement waits in the buffer, before the write after it.
    influx.stop();
    let later = sluice.query_form("CREATE DATABASE later", "");
    assert_eq!(later.status, 200, "{}", later.describe());
    let write = sluice.write("later", &format!("q depth=3i {T0}\n"));
    assert_eq!(write.status, 204, "{}", write.describe());
    influx.restart();
    let stored = wait_until(LONG, || {
        (influx.count("later", "q", "depth") == 1).then_some(())
    });
    assert!(stored.is_some(), "databases: {:?}", influx.databases());
}

#[test]
fn a_write_to_a_database_nobody_created_is_created_and_stored() {
    let influx = TestInflux::start();
    let sluice = TestSluice::relaying_to(&influx);
    let write = sluice.write("lazy", &format!("q depth=3i {T0}\n"));
    assert_eq!(write.status, 204, "{}", write.describe());
    let stored = wait_until(LONG, || {
        (influx.count("lazy", "q", "depth") == 1).then_some(())
    });
    assert!(stored.is_some(), "{}", sluice.log());
    assert_eq!(
        sluice.metric("sluice_databases_created_total"),
        Some(1.0),
        "{}",
        sluice.metrics()
    );
}

#[test]
fn a_raw_line_feed_inside_a_string_is_one_point() {
    let influx = TestInflux::start();
    influx.create_db("logs");
    let sluice = TestSluice::relaying_to(&influx);
    let body = format!(
        "log,node=a msg=\"line one\nline two\" {T0}\nlog,node=b msg=\"x\" {}\n",
        T0 + 1
    );
    let write = sluice.write("logs", &body);
    assert_eq!(write.status, 204, "{}", write.describe());
    let stored = wait_until(LONG, || {
        (influx.count("logs", "log", "msg") == 2).then_some(())
    });
    assert!(stored.is_some(), "{}", sluice.log());
    assert_eq!(sluice.metric("sluice_points_received_total"), Some(2.0));
    let delivered = wait_until(LONG, || {
        (sluice.metric("sluice_output_points_total")? == 2.0).then_some(())
    });
    assert!(delivered.is_some(), "{}", sluice.metrics());
}
