//! A realistic batch: what a load generator's nodes send — request timings with node,
//! flood, label, method and status tags (shared by the tests and the benches).

/// `n` canonical points of load-test traffic, one point per line, ns timestamps.
pub(crate) fn load_test_batch(n: usize) -> Vec<u8> {
    const LABELS: [&str; 6] = [
        "GET /api/items",
        "POST /api/cart",
        "GET /api/items/{id}",
        "GET /static/app.js",
        "POST /login",
        "DELETE /api/cart/{id}",
    ];
    let mut out = Vec::with_capacity(n * 160);
    for i in 0..n {
        let label = LABELS[i % LABELS.len()].replace(' ', "\\ ");
        let method = if label.starts_with("GET") {
            "GET"
        } else {
            "POST"
        };
        let line = format!(
            "http_req,node=node-{node:02},flood=flood-{flood},label={label},method={method},status={status} duration={d}.{f},bytes={b}i,ok={ok} {ts}\n",
            node = i % 40,
            flood = i % 3,
            status = if i % 17 == 0 { 500 } else { 200 },
            d = 10 + (i * 7) % 900,
            f = i % 10,
            b = 512 + (i * 13) % 65536,
            ok = i % 17 != 0,
            ts = 1_700_000_000_000_000_000i64 + (i as i64) * 1_000_000,
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}
