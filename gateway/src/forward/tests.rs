//! The forwarder against an in-process fake store (unit tests; the e2e tests use a real
//! influxd): a 5xx that only one batch gets is dead-lettered without holding the cursor,
//! even at `concurrency = 1`; a 5xx every batch gets is an outage and nothing is
//! dead-lettered.

use super::{Forwarder, OutputHealth, Sender};
use crate::batch::{Batch, Context};
use crate::buffer::Queue;
use crate::config::Config;
use crate::dead_letter::DeadLetters;
use crate::telemetry::Metrics;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A store that answers 500 to any body holding `poison` (or to everything while
/// `down`), holds a body holding `hold` for 300 ms before it applies it, and keeps the
/// lines of what it accepted in the order it applied them.
#[derive(Default)]
struct FakeStore {
    down: AtomicBool,
    /// Every request takes longer than the tests' output timeout.
    slow: AtomicBool,
    hold: Mutex<Option<&'static str>>,
    accepted: Mutex<Vec<String>>,
}

async fn serve(store: Arc<FakeStore>) -> String {
    let app = Router::new().route(
        "/write",
        post(move |body: String| {
            let store = Arc::clone(&store);
            async move {
                if store.down.load(Ordering::Acquire) || body.contains("poison") {
                    return (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"boom"}"#);
                }
                // A proxy in front of the store that gives up on one request.
                if body.contains("gateway") {
                    return (
                        StatusCode::GATEWAY_TIMEOUT,
                        "<html>504 Gateway Time-out</html>",
                    );
                }
                // Held (past any client timeout) while slow, for good on a `slow` batch.
                let held = std::time::Instant::now();
                while (store.slow.load(Ordering::Acquire) || body.contains("slow"))
                    && held.elapsed() < Duration::from_secs(20)
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let hold = *store.hold.lock().unwrap();
                if hold.is_some_and(|hold| body.contains(hold)) {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                let mut accepted = store.accepted.lock().unwrap();
                accepted.extend(body.lines().map(str::to_owned));
                (StatusCode::NO_CONTENT, "")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Running {
    queue: Queue,
    dead_letters: Arc<DeadLetters>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn forwarder(url: &str, extra: &str) -> Running {
    let config = Config::parse(&format!(
        "[[outputs]]\nname = \"o\"\nurl = \"{url}\"\ngzip = false\nretry_initial = \"1ms\"\nretry_max = \"5ms\"\n{extra}"
    ))
    .unwrap();
    let output = config.outputs[0].clone();
    let queue = Queue::memory(sluice_buffer::MemoryOptions {
        max_size: 1 << 24,
        consumers: vec!["o".to_owned()],
    });
    let dir = tempfile::tempdir().unwrap();
    let dead_letters = Arc::new(DeadLetters::open(dir.path()).unwrap());
    let forwarder = Forwarder {
        consumer: queue.consumer("o").unwrap(),
        sender: Sender::new(reqwest::Client::new(), output.clone()),
        dead_letters: Arc::clone(&dead_letters),
        metrics: Arc::new(Metrics::new()),
        health: Arc::new(OutputHealth::new("o", url, "v1")),
        statement_answers: Arc::default(),
        config: output,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(forwarder.run(shutdown.clone()));
    Running {
        queue,
        dead_letters,
        shutdown,
        _dir: dir,
    }
}

async fn append(queue: &Queue, lines: &str) {
    let points = lines.lines().count();
    let batch = Batch::from_lines(Context::from_bucket("db"), lines.as_bytes(), points);
    queue.append(batch.record()).await.unwrap();
}

async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn a_batch_specific_5xx_is_dead_lettered_without_holding_the_cursor() {
    let store = Arc::new(FakeStore::default());
    let url = serve(Arc::clone(&store)).await;
    // One request at a time, no coalescing: the poisoned batch is at the head.
    let run = forwarder(
        &url,
        "concurrency = 1\nbatch_points = 1\nmax_attempts = 3\n",
    )
    .await;
    append(&run.queue, "m v=0 0\n").await;
    append(&run.queue, "poison v=1 1\n").await;
    for i in 2..6 {
        append(&run.queue, &format!("m v={i} {i}\n")).await;
    }
    let delivered = eventually(|| store.accepted.lock().unwrap().len() == 5).await;
    assert!(delivered, "{:?}", store.accepted.lock().unwrap());
    assert!(eventually(|| run.dead_letters.list().unwrap().len() == 1).await);
    let entry = &run.dead_letters.list().unwrap()[0];
    assert_eq!(entry.status, Some(500));
    assert!(entry.error.contains("boom"), "{}", entry.error);
    assert!(
        eventually(|| run.queue.stats().consumers[0].pending_records == 0).await,
        "{:?}",
        run.queue.stats()
    );
    run.shutdown.cancel();
}

/// A batch the store (or a proxy in front of it) keeps timing out on, or answering 504
/// for, while it takes the others is dead-lettered after `max_attempts`, as a 5xx only
/// that batch gets: it must not hold the output (and then the buffer) for ever.
#[tokio::test]
async fn a_batch_that_keeps_timing_out_while_others_land_is_dead_lettered() {
    for (bad, status) in [("slow v=1 1\n", None), ("gateway v=1 1\n", Some(504))] {
        let store = Arc::new(FakeStore::default());
        let url = serve(Arc::clone(&store)).await;
        let run = forwarder(
            &url,
            "concurrency = 1\nbatch_points = 1\nmax_attempts = 3\ntimeout = \"1s\"\n",
        )
        .await;
        append(&run.queue, "m v=0 0\n").await;
        append(&run.queue, bad).await;
        for i in 2..6 {
            append(&run.queue, &format!("m v={i} {i}\n")).await;
        }
        let delivered = eventually(|| {
            store
                .accepted
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with("m "))
                .count()
                == 5
        })
        .await;
        assert!(delivered, "{bad}: {:?}", store.accepted.lock().unwrap());
        assert!(
            eventually(|| run.dead_letters.list().unwrap().len() == 1).await,
            "{bad}"
        );
        assert_eq!(run.dead_letters.list().unwrap()[0].status, status, "{bad}");
        run.shutdown.cancel();
    }
}

/// ... but an output that times out on everything is an outage: retried, never
/// dead-lettered.
#[tokio::test]
async fn an_output_that_times_out_on_everything_is_an_outage() {
    let store = Arc::new(FakeStore::default());
    let url = serve(Arc::clone(&store)).await;
    store.slow.store(true, Ordering::Release);
    let run = forwarder(
        &url,
        "batch_points = 1\nmax_attempts = 2\ntimeout = \"1s\"\n",
    )
    .await;
    for i in 0..4 {
        append(&run.queue, &format!("m v={i} {i}\n")).await;
    }
    // Timeouts past max_attempts for each.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(run.dead_letters.list().unwrap().is_empty());
    store.slow.store(false, Ordering::Release);
    assert!(eventually(|| store.accepted.lock().unwrap().len() >= 4).await);
    assert!(run.dead_letters.list().unwrap().is_empty());
    run.shutdown.cancel();
}

#[tokio::test]
async fn a_coalesced_request_is_split_so_only_the_refused_batch_is_kept() {
    let store = Arc::new(FakeStore::default());
    let url = serve(Arc::clone(&store)).await;
    store.down.store(true, Ordering::Release);
    let run = forwarder(&url, "max_attempts = 2\n").await;
    // Written while the store is down: one read takes them all into one request.
    for i in 0..8 {
        let lines = if i == 5 {
            "poison v=1 1\npoison v=2 2\n".to_owned()
        } else {
            format!("m v={i} {i}\n")
        };
        append(&run.queue, &lines).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.down.store(false, Ordering::Release);
    assert!(eventually(|| store.accepted.lock().unwrap().len() == 7).await);
    assert!(eventually(|| run.dead_letters.list().unwrap().len() == 1).await);
    assert_eq!(run.dead_letters.list().unwrap()[0].points, 2);
    run.shutdown.cancel();
}

#[tokio::test]
async fn an_output_that_refuses_everything_is_an_outage_not_a_refusal() {
    let store = Arc::new(FakeStore::default());
    let url = serve(Arc::clone(&store)).await;
    store.down.store(true, Ordering::Release);
    let run = forwarder(&url, "batch_points = 1\nmax_attempts = 2\n").await;
    for i in 0..6 {
        append(&run.queue, &format!("m v={i} {i}\n")).await;
    }
    // Far more than max_attempts failures each.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(run.dead_letters.list().unwrap().is_empty());
    store.down.store(false, Ordering::Release);
    assert!(eventually(|| store.accepted.lock().unwrap().len() == 6).await);
    assert!(run.dead_letters.list().unwrap().is_empty());
    run.shutdown.cancel();
}

#[tokio::test]
async fn a_later_write_of_the_same_point_waits_for_the_earlier_one() {
    let store = Arc::new(FakeStore::default());
    *store.hold.lock().unwrap() = Some("v=1i");
    let url = serve(Arc::clone(&store)).await;
    // Four requests in flight at once, one batch per request.
    let run = forwarder(&url, "concurrency = 4\nbatch_points = 1\n").await;
    append(&run.queue, "m,k=a v=1i 10\n").await;
    append(&run.queue, "m,k=a v=2i 10\n").await;
    assert!(eventually(|| store.accepted.lock().unwrap().len() == 2).await);
    // The store applied the second value last, although it held the first.
    assert_eq!(
        *store.accepted.lock().unwrap(),
        ["m,k=a v=1i 10", "m,k=a v=2i 10"]
    );
    run.shutdown.cancel();
}

#[tokio::test]
async fn writes_of_different_points_stay_concurrent() {
    let store = Arc::new(FakeStore::default());
    *store.hold.lock().unwrap() = Some("v=1i");
    let url = serve(Arc::clone(&store)).await;
    let run = forwarder(&url, "concurrency = 4\nbatch_points = 1\n").await;
    append(&run.queue, "m,k=a v=1i 10\n").await;
    // Another series, and the same series at another time: neither waits.
    append(&run.queue, "m,k=b v=2i 10\n").await;
    append(&run.queue, "m,k=a v=3i 11\n").await;
    assert!(eventually(|| store.accepted.lock().unwrap().len() == 3).await);
    assert_eq!(
        store.accepted.lock().unwrap().last().map(String::as_str),
        Some("m,k=a v=1i 10")
    );
    run.shutdown.cancel();
}

/// Requests in flight are checked against each other for common points; none of that
/// may hold delivery back, whatever the lines hold (every tenth point here has a tag
/// value with an escaped line feed, so it spans two lines of the store's body).
#[tokio::test]
async fn many_single_point_writes_all_arrive() {
    let store = Arc::new(FakeStore::default());
    let url = serve(Arc::clone(&store)).await;
    let run = forwarder(&url, "concurrency = 4\nbatch_points = 1\n").await;
    for i in 0..300 {
        let value = if i % 10 == 0 { "a\\\nb" } else { "a" };
        append(&run.queue, &format!("m{i},k={value} v={i}i {i}\n")).await;
    }
    let all = eventually(|| store.accepted.lock().unwrap().len() == 330).await;
    assert!(all, "{}", store.accepted.lock().unwrap().len());
    run.shutdown.cancel();
}

/// A request on the wire when the forwarder stops is waited for and acknowledged: cut
/// off, the store could have taken it and a restart would send it again.
#[tokio::test]
async fn shutdown_waits_for_the_request_on_the_wire_and_acknowledges_it() {
    let store = Arc::new(FakeStore::default());
    *store.hold.lock().unwrap() = Some("held");
    let url = serve(Arc::clone(&store)).await;
    let run = forwarder(&url, "concurrency = 1\n").await;
    append(&run.queue, "held v=1 1\n").await;
    // On the wire: the store holds it for 300 ms.
    tokio::time::sleep(Duration::from_millis(100)).await;
    run.shutdown.cancel();
    assert!(
        eventually(|| run.queue.stats().consumers[0].pending_records == 0).await,
        "{:?}",
        run.queue.stats()
    );
    assert_eq!(*store.accepted.lock().unwrap(), ["held v=1 1"]);
}
