//! UDP listeners: each datagram is line protocol for the listener's db (and rp, precision).

use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, free_udp_port, to_lines, wait_until,
};
use std::net::UdpSocket;

const T0: i64 = 1_700_000_000_000_000_000;

#[test]
fn datagrams_are_stored_in_the_listeners_db() {
    let influx = TestInflux::start();
    influx.create_db("udpdb");
    influx.create_db("udps");
    let (plain_port, seconds_port) = (free_udp_port(), free_udp_port());
    let sluice = TestSluice::with_config(
        SluiceConfig::new()
            .udp(plain_port, "udpdb", None, None)
            .udp(seconds_port, "udps", Some("autogen"), Some("s"))
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn();
    let socket = UdpSocket::bind("127.0.0.1:0").expect("binding a UDP client socket");
    let send = |port: u16, payload: &str| {
        socket
            .send_to(payload.as_bytes(), ("127.0.0.1", port))
            .expect("sending a datagram");
    };

    // The listener may bind just after /ping answers: send an idempotent probe (same point
    // each time) until it shows up, then send the real load once.
    let probe = Point::new("probe").field("v", 1i64).at(T0);
    let seen = wait_until(LONG, || {
        send(plain_port, &to_lines(std::slice::from_ref(&probe)));
        (influx.count("udpdb", "probe", "v") == 1).then_some(())
    });
    assert!(seen.is_some(), "the UDP probe never reached influxd");
    let probe_s = Point::new("probe").field("v", 1i64).at(T0);
    let seen = wait_until(LONG, || {
        send(seconds_port, &probe_s.to_line_in(1_000_000_000));
        (influx.count("udps", "probe", "v") == 1).then_some(())
    });
    assert!(
        seen.is_some(),
        "the UDP probe (precision s) never reached influxd"
    );

    let single = vec![
        Point::new("udpm")
            .tag("node", "n1")
            .field("v", 42.0)
            .at(T0 + 1),
    ];
    send(plain_port, &to_lines(&single));
    // Many lines in one datagram.
    let many: Vec<Point> = (0..100)
        .map(|i| {
            Point::new("udpmany")
                .tag("k", "x y")
                .field("v", i)
                .field("s", "a, b")
                .at(T0 + i)
        })
        .collect();
    send(plain_port, &to_lines(&many));
    // Many datagrams of one line each.
    let each: Vec<Point> = (0..50)
        .map(|i| Point::new("udpeach").field("v", i).at(T0 + i))
        .collect();
    for point in &each {
        send(plain_port, &point.to_line());
    }
    // A listener with precision = "s".
    let seconds: Vec<Point> = (0..20)
        .map(|i| {
            Point::new("udpsec")
                .field("v", i)
                .at(T0 + i * 1_000_000_000)
        })
        .collect();
    let body: String = seconds
        .iter()
        .map(|p| p.to_line_in(1_000_000_000) + "\n")
        .collect();
    send(seconds_port, &body);

    influx.expect_points("udpdb", "udpm", &single);
    influx.expect_points("udpdb", "udpmany", &many);
    influx.expect_points("udpdb", "udpeach", &each);
    influx.expect_points("udps", "udpsec", &seconds);
    drop(sluice);
}
