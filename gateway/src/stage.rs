//! The optional stage between the plugin chain and the buffer (DESIGN §1): `ingest →
//! chain → [aggregate (edge) | merge (relay)] → buffer → forward`. [`Stage`] is what
//! [`crate::pipeline::Pipeline`] calls per batch; [`run_flusher`] is the timer task the
//! app owns that writes closed windows to the buffer, and every open one on shutdown.
//! Neither knows HTTP.

use crate::batch::Batch;
use crate::buffer::QueueError;
use crate::config::Config;
use crate::edge::Aggregator;
use crate::merge::{MergeJournal, Merger};
use crate::pipeline::{AcceptError, Pipeline};
use crate::quantile::window::now_nanos;
use crate::telemetry::Metrics;
use crate::telemetry::stage::{EdgeIngested, MergeIngested, StageFlushed, StageLost};
use sluice_buffer::SyncPoint;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Summary batches kept for a buffer that is full, at most; beyond, the oldest are lost
/// (and logged as such).
const MAX_PENDING: usize = 1024;

/// The stage a config asks for.
#[derive(Debug)]
pub enum Stage {
    /// `[edge]`: windows of points become summaries with sketches.
    Aggregate(Mutex<Aggregator>),
    /// `[merge]`: sketch points of many edges become cross-node summaries.
    Merge(Arc<tokio::sync::Mutex<Merging>>),
}

/// What [`Stage::process`] made of a batch.
#[derive(Debug, Default)]
pub struct Staged {
    /// What goes on to the buffer now (the points a stage does not take).
    pub now: Option<Batch>,
    /// A relay's sketch points, for [`Stage::merge`] once `now` is in the buffer.
    pub sketches: Option<Batch>,
}

/// The relay's merge windows and their journal, under one lock: a batch is journaled
/// and merged in the same order. The lock is async: a checkpoint holds it while it
/// writes on a blocking thread, and batches wait for it without holding a worker.
#[derive(Debug)]
pub struct Merging {
    merger: Merger,
    journal: MergeJournal,
}

impl Stage {
    /// The stage `config` asks for (`[edge]` or `[merge]`), if any. A relay takes back
    /// the windows its merge journal holds ([`Config::merge_dir`]).
    ///
    /// Errors: the merge journal cannot be opened or checkpointed (`Locked` when another
    /// gateway uses its directory).
    pub fn from_config(config: &Config) -> Result<Option<Self>, QueueError> {
        if let Some(edge) = &config.edge {
            return Ok(Some(Self::Aggregate(Mutex::new(Aggregator::new(edge)))));
        }
        let Some(merge) = &config.merge else {
            return Ok(None);
        };
        let mut merger = Merger::new(merge);
        let dir = config.merge_dir();
        let (journal, restored) = MergeJournal::open(&dir, &mut merger, now_nanos())?;
        if restored.truncated > 0 || restored.unreadable > 0 {
            tracing::warn!(
                dir = %dir.display(),
                series = merger.series(),
                batches = restored.batches,
                truncated_bytes = restored.truncated,
                unreadable = restored.unreadable,
                "merge journal damaged: what followed the damage is lost (a torn tail after a crash is expected; more is not)"
            );
        } else {
            tracing::info!(
                dir = %dir.display(),
                series = merger.series(),
                batches = restored.batches,
                "merge journal opened; windows taken back"
            );
        }
        Ok(Some(Self::Merge(Arc::new(tokio::sync::Mutex::new(
            Merging { merger, journal },
        )))))
    }

    /// `edge` or `merge`, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Aggregate(_) => "edge",
            Self::Merge(_) => "merge",
        }
    }

    /// Takes a batch the chain let through: an edge aggregates it, a relay splits off
    /// its sketch points for [`Stage::merge`]. Returns what goes on to the buffer now.
    pub fn process(&self, batch: Batch, metrics: &Metrics) -> Staged {
        match self {
            Self::Aggregate(agg) => {
                let mut agg = lock(agg);
                let max_series = agg.max_series();
                let done = agg.ingest(&batch, now_nanos());
                drop(agg);
                EdgeIngested {
                    aggregated: done.aggregated,
                    late: done.late,
                    future: done.future,
                    over_limit: done.over_limit,
                    limit_reached: done.limit_reached,
                    max_series,
                }
                .emit(metrics);
                Staged {
                    now: done.passthrough,
                    sketches: None,
                }
            }
            Self::Merge(_) => {
                let (sketches, now) = Merger::split(&batch);
                Staged { now, sketches }
            }
        }
    }

    /// A relay's merge of the sketch points [`Stage::process`] split off, once the rest
    /// of the request is in the buffer (a merge cannot be undone, a buffer append that
    /// failed can be retried): journaled and merged under the lock, then synced off it
    /// before the answer, so that batches arriving together share one `fdatasync`.
    ///
    /// Errors: [`AcceptError::Buffer`] when the merge journal cannot take the batch (it
    /// is then not merged either) or its sync failed (merged: a resend counts again).
    pub async fn merge(&self, sketches: Batch, metrics: &Metrics) -> Result<(), AcceptError> {
        let Self::Merge(merging) = self else {
            return Ok(());
        };
        let (done, sync) = {
            let mut merging = merging.lock().await;
            let sync = merging
                .journal
                .record(&sketches)
                .map_err(AcceptError::Buffer)?;
            (merging.merger.ingest(&sketches, now_nanos()), sync)
        };
        sync_journal(sync).await.map_err(AcceptError::Buffer)?;
        MergeIngested {
            merged: done.merged,
            corrections: done.corrections,
            late: done.late,
            invalid: done.invalid,
            over_limit: done.over_limit,
        }
        .emit(metrics);
        Ok(())
    }

    /// The summaries of the windows closed by now (every open window when `all`).
    pub async fn flush(&self, all: bool, metrics: &Metrics) -> Vec<Batch> {
        let now = now_nanos();
        let (batches, points, series) = match self {
            Self::Aggregate(agg) => {
                let mut agg = lock(agg);
                let done = agg.flush(now, all);
                (done.batches, done.points, agg.series())
            }
            Self::Merge(merging) => {
                let mut merging = merging.lock().await;
                let Merging { merger, journal } = &mut *merging;
                let done = merger.flush(now, all);
                for forgotten in &done.forgotten {
                    if let Err(e) = journal.record_forgotten(forgotten) {
                        tracing::warn!(error = %e, "merge journal: cannot record the windows forgotten");
                    }
                }
                (done.batches, done.points, merger.series())
            }
        };
        StageFlushed {
            stage: self.name(),
            points,
            series,
        }
        .emit(metrics);
        batches
    }

    /// A relay's checkpoint of its merge journal, when it has grown enough (always with
    /// `force`), written on a blocking thread. With `written_delivered` (every summary
    /// [`Stage::flush`] wrote is in the buffer, none was lost) written windows are
    /// recorded as written; otherwise as open, to be written again after a restart.
    pub async fn checkpoint(&self, force: bool, written_delivered: bool) {
        let Self::Merge(merging) = self else {
            return;
        };
        let mut merging = Arc::clone(merging).lock_owned().await;
        if !(force || merging.journal.checkpoint_due()) {
            return;
        }
        let done = tokio::task::spawn_blocking(move || {
            let Merging { merger, journal } = &mut *merging;
            journal.checkpoint(merger, written_delivered)
        })
        .await;
        let error = match done {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(error = %error, "merge journal: checkpoint failed; the journal keeps growing");
    }

    /// How often to flush.
    pub fn tick(&self) -> Duration {
        match self {
            Self::Aggregate(agg) => lock(agg).tick(),
            Self::Merge(_) => Merger::TICK,
        }
    }
}

/// Waits for a merge journal append to be on disk, off the runtime; batches waiting
/// together share one `fdatasync`.
async fn sync_journal(sync: SyncPoint) -> Result<(), QueueError> {
    let synced = tokio::task::spawn_blocking(move || sync.wait()).await;
    match synced {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(QueueError::Io {
            op: "fdatasync",
            path: "merge journal".into(),
            source: e,
        }),
        Err(e) => Err(QueueError::Io {
            op: "fdatasync",
            path: "merge journal".into(),
            source: std::io::Error::other(e),
        }),
    }
}

/// The state is plain data, consistent between calls: a panic elsewhere while it was
/// locked leaves nothing half done that matters, so a poisoned lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes the stage's closed windows to the buffer every tick until `shutdown`, then
/// every open window. Summaries the buffer refuses as full are kept (up to
/// [`MAX_PENDING`] batches) and offered again next tick.
pub async fn run_flusher(pipeline: Arc<Pipeline>, shutdown: CancellationToken) {
    let Some(stage) = pipeline.stage() else {
        return;
    };
    let mut pending: VecDeque<Batch> = VecDeque::new();
    // Once a summary was lost, the merge journal never again records windows as
    // written (a restart writes them again instead).
    let mut lost_any = false;
    let mut ticks = tokio::time::interval(stage.tick());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            () = shutdown.cancelled() => true,
        };
        pending.extend(stage.flush(last, pipeline.metrics()).await);
        while pending.len() > MAX_PENDING {
            if let Some(batch) = pending.pop_front() {
                lost_any = true;
                StageLost {
                    stage: stage.name(),
                    points: batch.points(),
                    error: "buffer full for too long",
                }
                .emit(pipeline.metrics());
            }
        }
        while let Some(batch) = pending.front() {
            match pipeline.append_batch(batch).await {
                Ok(()) => {
                    pending.pop_front();
                }
                Err(AcceptError::Full(_)) if !last => break,
                Err(e) => {
                    lost_any = true;
                    StageLost {
                        stage: stage.name(),
                        points: batch.points(),
                        error: &e.to_string(),
                    }
                    .emit(pipeline.metrics());
                    pending.pop_front();
                }
            }
        }
        stage
            .checkpoint(last, pending.is_empty() && !lost_any)
            .await;
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Context, Origin};
    use crate::buffer::Queue;
    use crate::chain::{Chain, Resend};
    use crate::dead_letter::DeadLetters;

    fn pipeline(config: &str, dir: &std::path::Path) -> Arc<Pipeline> {
        pipeline_with_buffer(config, dir, 1 << 20)
    }

    fn pipeline_with_buffer(config: &str, dir: &std::path::Path, max_size: u64) -> Arc<Pipeline> {
        let config = Config::parse(config).unwrap();
        let queue = Queue::memory(sluice_buffer::MemoryOptions {
            max_size,
            consumers: vec!["out".to_owned()],
        });
        Arc::new(
            Pipeline::new(
                Chain::empty(),
                queue,
                Arc::new(DeadLetters::open(dir).unwrap()),
                Arc::new(Metrics::new()),
            )
            .with_stage(Stage::from_config(&config).unwrap()),
        )
    }

    fn lines(now: i64) -> Batch {
        let text: String = (1..=10)
            .map(|v| format!("lat,label=a ms={v} {now}\n"))
            .collect();
        Batch::from_lines(Context::from_bucket("lt"), text.as_bytes(), 10)
    }

    #[tokio::test]
    async fn an_edge_holds_points_until_its_window_is_written_and_shutdown_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = pipeline("[edge]\nwindow = \"1h\"", dir.path());
        assert_eq!(pipeline.stage().map(Stage::name), Some("edge"));
        pipeline
            .accept(lines(now_nanos()), 0, &Origin::default(), Resend::Possible)
            .await
            .unwrap();
        assert_eq!(
            pipeline.queue().stats().records,
            0,
            "aggregated, not buffered"
        );
        let shutdown = CancellationToken::new();
        let flusher = tokio::spawn(run_flusher(Arc::clone(&pipeline), shutdown.clone()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pipeline.queue().stats().records, 0, "the hour is not over");
        shutdown.cancel();
        flusher.await.unwrap();
        assert_eq!(
            pipeline.queue().stats().records,
            1,
            "the open window, written on shutdown"
        );
        assert!(
            pipeline
                .metrics()
                .encode()
                .contains("sluice_stage_points_written_total{stage=\"edge\"} 1")
        );
    }

    #[tokio::test]
    async fn a_relay_passes_plain_batches_straight_to_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let merge = format!("[merge]\ndir = {:?}", dir.path().join("merge"));
        let pipeline = pipeline(&merge, dir.path());
        pipeline
            .accept(lines(now_nanos()), 0, &Origin::default(), Resend::Possible)
            .await
            .unwrap();
        assert_eq!(pipeline.queue().stats().records, 1);
    }

    /// What an edge sends for one window, with a plain point of `padding` bytes beside it.
    fn sketches_and_a_plain_point(now: i64, padding: usize) -> Batch {
        let mut edge = Aggregator::new(&crate::config::EdgeConfig::default());
        edge.ingest(&lines(now), now);
        let summary = edge.flush(now, true).batches.remove(0);
        let mut text = String::from_utf8_lossy(summary.lines()).into_owned();
        text.push_str(&format!("note text=\"{}\" {now}\n", "x".repeat(padding)));
        Batch::from_lines(Context::from_bucket("lt"), text.as_bytes(), 2)
    }

    #[tokio::test]
    async fn a_relay_merges_sketch_points_only_once_the_rest_of_the_request_is_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let merge = format!("[merge]\ndir = {:?}", dir.path().join("merge"));
        // A buffer too small for the plain point: the request is refused.
        let pipeline = pipeline_with_buffer(&merge, dir.path(), 4096);
        let refused = pipeline
            .accept(
                sketches_and_a_plain_point(now_nanos(), 8192),
                0,
                &Origin::default(),
                Resend::Possible,
            )
            .await;
        assert!(refused.is_err());
        assert!(
            !pipeline
                .metrics()
                .encode()
                .contains("sluice_merge_sketch_points_total 1"),
            "nothing merged: the resend must not count twice"
        );
        // A request that fits: the plain point is buffered, the sketch point merged.
        pipeline
            .accept(
                sketches_and_a_plain_point(now_nanos(), 10),
                0,
                &Origin::default(),
                Resend::Possible,
            )
            .await
            .unwrap();
        assert_eq!(pipeline.queue().stats().records, 1);
        assert!(
            pipeline
                .metrics()
                .encode()
                .contains("sluice_merge_sketch_points_total 1")
        );
    }

    #[test]
    fn no_section_no_stage() {
        assert!(
            Stage::from_config(&Config::parse("").unwrap())
                .unwrap()
                .is_none()
        );
        let both = Config::parse("[edge]\n[merge]\n").unwrap_err();
        assert!(both.to_string().contains("exclude each other"), "{both}");
    }
}
