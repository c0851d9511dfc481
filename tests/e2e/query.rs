//! `/query` and the `influx` CLI: `CREATE DATABASE` is answered, other queries are proxied to
//! the first output when it is an InfluxDB 1.x, and `INSERT` from the CLI lands in InfluxDB.

use sluice_e2e::binary::run_command;
use sluice_e2e::influxd::which;
use sluice_e2e::{LONG, Point, SluiceConfig, TestInflux, TestSluice, dead_url, now_ns, wait_until};
use std::process::Command;
use std::time::Duration;

const CLI_TIMEOUT: Duration = Duration::from_secs(30);

fn influx_cli(port: u16, db: &str, statement: &str) -> sluice_e2e::CommandOutput {
    let program = which("influx")
        .unwrap_or_else(|| panic!("the influx CLI is not installed (Debian: influxdb-client)"));
    let mut command = Command::new(program);
    command.args(["-host", "127.0.0.1", "-port", &port.to_string()]);
    if !db.is_empty() {
        command.args(["-database", db]);
    }
    command.args(["-execute", statement]);
    run_command(&mut command, CLI_TIMEOUT)
}

#[test]
fn influx_cli_insert_and_create_database_through_sluice() {
    let influx = TestInflux::start();
    influx.create_db("cli");
    let sluice = TestSluice::relaying_to(&influx);

    let created = influx_cli(sluice.port(), "", "CREATE DATABASE fromcli");
    assert!(
        created.code == Some(0) && !created.stdout.contains("ERR"),
        "CREATE DATABASE: {}",
        created.describe()
    );

    let before = now_ns();
    let inserted = influx_cli(sluice.port(), "cli", "INSERT cpu,host=a value=1");
    let after = now_ns();
    assert_eq!(inserted.code, Some(0), "INSERT: {}", inserted.describe());
    // The CLI prints "ERR: …" but still exits 0 when a write fails.
    assert!(
        !inserted.stdout.contains("ERR") && !inserted.stderr.contains("ERR"),
        "INSERT printed an error: {}",
        inserted.describe()
    );

    let stored = influx.expect_points_any_time(
        "cli",
        "cpu",
        &[Point::new("cpu").tag("host", "a").field("value", 1.0)],
    );
    assert!(
        (before..=after).contains(&stored[0].time),
        "time {} not within the CLI run [{before}, {after}]",
        stored[0].time
    );
}

#[test]
fn query_endpoint_answers_create_and_proxies_the_rest() {
    let influx = TestInflux::start();
    influx.create_db("q");
    assert_eq!(
        influx.write("q", "m,k=a v=5i 1700000000000000000\n").status,
        204
    );
    let sluice = TestSluice::relaying_to(&influx);

    for method in ["POST", "GET"] {
        let response = sluice
            .request(method, "/query")
            .param("q", "CREATE DATABASE \"bar\"")
            .send();
        assert_eq!(
            response.status,
            200,
            "{method} CREATE: {}",
            response.describe()
        );
        let json = response.json();
        assert_eq!(
            json.pointer("/results/0/statement_id")
                .and_then(|v| v.as_i64()),
            Some(0),
            "{method} CREATE: {json}"
        );
    }

    let response = sluice
        .request("POST", "/query")
        .param("db", "q")
        .param("epoch", "ns")
        .param("q", "SELECT v FROM m")
        .send();
    assert_eq!(response.status, 200, "SELECT: {}", response.describe());
    let json = response.json();
    assert_eq!(
        json.pointer("/results/0/series/0/values/0"),
        Some(&serde_json::json!([1_700_000_000_000_000_000_i64, 5])),
        "SELECT proxied to influxd: {json}"
    );

    let response = sluice
        .request("GET", "/query")
        .param("q", "SHOW DATABASES")
        .send();
    assert_eq!(
        response.status,
        200,
        "SHOW DATABASES: {}",
        response.describe()
    );
    assert!(
        response.body.contains("\"q\""),
        "SHOW DATABASES: {}",
        response.describe()
    );
}

#[test]
fn query_without_a_v1_first_output_is_501() {
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .output_v2("edge", &dead_url(), "o", "t")
            .toml(),
    )
    .spawn();
    let response = sluice
        .request("POST", "/query")
        .param("q", "SELECT * FROM m")
        .send();
    assert_eq!(response.status, 501, "{}", response.describe());
    assert!(
        response.json().get("error").is_some(),
        "{}",
        response.describe()
    );
    // CREATE DATABASE is still answered.
    let response = sluice
        .request("POST", "/query")
        .param("q", "CREATE DATABASE x")
        .send();
    assert_eq!(response.status, 200, "{}", response.describe());
}

/// Statements that change what is stored travel through the buffer in order with the
/// writes, and the client gets the store's answer: a database created is there when the
/// client reads from it, data written before a drop does not come back after it, and a
/// statement the store refuses is refused to the client as influxd refuses it.
#[test]
fn statements_take_effect_in_order_with_writes_and_answer_what_the_store_answers() {
    let influx = TestInflux::start();
    let sluice = TestSluice::relaying_to(&influx);
    let ok = serde_json::json!({"results": [{"statement_id": 0}]});
    for round in 0..5 {
        let db = format!("round{round}");
        // Created, then read at once through Sluice: the database exists.
        let created = sluice.query_form(&format!("CREATE DATABASE {db}"), "");
        assert_eq!((created.status, created.json()), (200, ok.clone()));
        let policies = sluice.query_form(&format!("SHOW RETENTION POLICIES ON {db}"), "");
        assert_eq!(policies.status, 200, "{}", policies.describe());
        assert!(
            !policies.body.contains("error"),
            "round {round}: {}",
            policies.body
        );
        // Written, then dropped: the drop comes after the write.
        let write = sluice.write(&db, &format!("m,t=a v=1 {}\n", now_ns()));
        assert_eq!(write.status, 204, "{}", write.describe());
        let dropped = sluice.query_form(&format!("DROP DATABASE {db}"), "");
        assert_eq!((dropped.status, dropped.json()), (200, ok.clone()));
    }
    // A measurement dropped after a write, in the write's database.
    influx.create_db("kept");
    let write = sluice.write(
        "kept",
        &format!("gone v=1 {}\nstays v=1 {}\n", now_ns(), now_ns()),
    );
    assert_eq!(write.status, 204, "{}", write.describe());
    let dropped = sluice.query_form("DROP MEASUREMENT gone", "kept");
    assert_eq!((dropped.status, dropped.json()), (200, ok.clone()));
    let stays = wait_until(LONG, || {
        (influx.count("kept", "stays", "v") == 1).then_some(())
    });
    assert!(stays.is_some(), "{}", sluice.log());
    // Nothing written before its drop came back.
    std::thread::sleep(Duration::from_millis(500));
    let databases = influx.databases();
    assert!(
        !databases.iter().any(|d| d.starts_with("round")),
        "dropped databases came back: {databases:?}"
    );
    assert_eq!(
        influx.count("kept", "gone", "v"),
        0,
        "a dropped measurement came back"
    );

    // Refusals reach the client as influxd gives them.
    let q = "CREATE RETENTION POLICY r ON nowhere DURATION 1h REPLICATION 1";
    let direct = influx.query(q, "");
    let relayed = sluice.query_form(q, "");
    assert_eq!((relayed.status, relayed.json()), (200, direct));
    assert_eq!(
        relayed.json()["results"][0]["error"],
        "database not found: nowhere"
    );
    let junk = sluice.query_form("create database x4 extra junk", "");
    assert_eq!(junk.status, 400, "{}", junk.describe());
    assert_eq!(
        junk.json()["error"],
        "error parsing query: found extra, expected ; at line 1, char 20"
    );
    // Two statements, two results.
    let two = sluice.query_form("CREATE DATABASE a1; CREATE DATABASE a2", "");
    assert_eq!(
        (two.status, two.json()),
        (
            200,
            serde_json::json!({"results": [{"statement_id": 0}, {"statement_id": 1}]})
        )
    );
}
