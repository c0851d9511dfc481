//! The forwarder of one output: read from its buffer cursor, coalesce, compress, send,
//! retry until the store takes it (or dead-letter what it refuses), then acknowledge.
//! Up to `concurrency` requests are in flight at once; they are acknowledged strictly in
//! buffer order, so the cursor never passes a request that has not landed. On shutdown
//! it starts no new request, lets those on the wire end (for a few seconds at most) and
//! acknowledges those that landed; anything not acknowledged is replayed on the next
//! start (at-least-once).
//!
//! What the store answers decides a request's fate ([`super::refusal`]): a refusal of
//! the data goes to the dead-letter store at once, after a coalesced request is split
//! into halves and resent so only the client batches that caused it are kept there; a
//! database the store does not have is created first (v1, `create_database`); a failure
//! the text does not explain is retried, and dead-lettered only once it has failed
//! `max_attempts` times (or for `max_batch_age`) while the output accepted other
//! requests. While such a request waits for that evidence, the forwarder lets one more
//! request go out per waiting request, so a batch-specific failure can never hold the
//! cursor of a healthy output — not even at `concurrency = 1`.
//!
//! Schema statements in the buffer ([`crate::statement`]) are barriers: the requests
//! before one finish first, then it is applied (retried while the output is down), then
//! the requests after it go out.
//!
//! A request that writes a point (series and timestamp) an earlier request in flight also
//! writes waits for that request to finish before it is sent ([`super::overlap`]), so a
//! store that applies concurrent requests in any order still keeps the value written
//! last.

use super::client::{SendError, Sender};
use super::coalesce::{Request, coalesce};
use super::compress::gzip_parts;
use super::health::OutputHealth;
use super::overlap::Writes;
use super::piece::Piece;
use super::refusal::Refusal;
use super::retry::Backoff;
use crate::batch::{Batch, Origin};
use crate::buffer::{Consumer, EntryId};
use crate::config::{Api, OutputConfig};
use crate::dead_letter::{DeadLetters, NewEntry};
use crate::statement::{Record, Statement};
use crate::statement_answers::{StatementAnswer, StatementAnswers};
use crate::telemetry::Metrics;
use crate::telemetry::events::{
    DatabaseCreated, DeadLettered, OutputDelivered, OutputRecovered, OutputRetrying,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Most records taken from the buffer per read.
const READ_RECORDS: usize = 256;

/// Everything one forwarder needs.
pub struct Forwarder {
    /// The output's configuration.
    pub config: OutputConfig,
    /// Its buffer cursor.
    pub consumer: Consumer,
    /// Sends requests.
    pub sender: Sender,
    /// Where refused batches go.
    pub dead_letters: Arc<DeadLetters>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// `/health` state.
    pub health: Arc<OutputHealth>,
    /// Where the store's answer to a statement goes when a request waits for it.
    pub statement_answers: Arc<StatementAnswers>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("output", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// How one request ended: done with these buffer entries, or interrupted by shutdown.
enum Outcome {
    Done(Vec<EntryId>),
    Shutdown,
}

type InFlight = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The parts of a forwarder that in-flight requests share.
struct Delivery {
    config: OutputConfig,
    sender: Sender,
    dead_letters: Arc<DeadLetters>,
    metrics: Arc<Metrics>,
    health: Arc<OutputHealth>,
    statement_answers: Arc<StatementAnswers>,
    shutdown: CancellationToken,
    /// Pieces the output accepted so far: the evidence that it is healthy for others.
    accepted: AtomicU64,
    /// Requests that have failed enough to be dead-lettered and wait for that evidence.
    suspects: AtomicUsize,
    /// Wakes the read loop when `suspects` changes.
    wake: Notify,
}

impl Forwarder {
    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let Forwarder {
            config,
            mut consumer,
            sender,
            dead_letters,
            metrics,
            health,
            statement_answers,
        } = self;
        let name = config.name.clone();
        let concurrency = config.concurrency.max(1);
        let read_bytes = config.batch_bytes.as_usize();
        let delivery = Arc::new(Delivery {
            config,
            sender,
            dead_letters,
            metrics,
            health,
            statement_answers,
            shutdown: shutdown.clone(),
            accepted: AtomicU64::new(0),
            suspects: AtomicUsize::new(0),
            wake: Notify::new(),
        });
        let mut in_flight: FuturesOrdered<InFlight> = FuturesOrdered::new();
        let mut writes = Writes::default();
        let mut queued: VecDeque<Planned> = VecDeque::new();
        // A statement is in flight: nothing else starts until it is done.
        let mut barrier = false;
        loop {
            // One extra request per suspect (bounded by `concurrency`): see the module doc.
            let limit = concurrency + delivery.suspects.load(Ordering::Acquire).min(concurrency);
            while !barrier && let Some(next) = queued.front() {
                let can_start = match next {
                    Planned::Send(_) | Planned::Poison(..) => in_flight.len() < limit,
                    Planned::Statement(..) => in_flight.is_empty(),
                    Planned::Skip(_) => true,
                };
                if !can_start {
                    break;
                }
                let Some(next) = queued.pop_front() else {
                    break;
                };
                barrier = matches!(next, Planned::Statement(..));
                in_flight.push_back(next.into_future(&delivery, &mut writes));
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    finish_in_flight(&name, &mut in_flight, &mut consumer).await;
                    break;
                }
                Some(outcome) = in_flight.next(), if !in_flight.is_empty() => match outcome {
                    Outcome::Done(ids) => {
                        if in_flight.is_empty() {
                            barrier = false;
                        }
                        if let Err(e) = consumer.ack(&ids).await {
                            tracing::error!(output = %name, error = %e, "cannot move the buffer cursor; batch may be sent again after a restart");
                        }
                    }
                    Outcome::Shutdown => break,
                },
                () = delivery.wake.notified() => {}
                read = consumer.next(READ_RECORDS, read_bytes), if queued.is_empty() && in_flight.len() < limit => {
                    match read {
                        Ok(entries) => queued.extend(plan(&name, entries, &delivery.config, consumer.max_deliveries())),
                        Err(e) => {
                            tracing::error!(output = %name, error = %e, "cannot read the buffer; retrying in 1s");
                            if sleep_or_shutdown(Duration::from_secs(1), &shutdown).await {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Longest a stopping forwarder waits for the requests it has on the wire.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);

/// On shutdown: lets the requests on the wire end (bounded by [`IN_FLIGHT_GRACE`]; those
/// waiting to retry end at once) and acknowledges those that landed, in buffer order.
/// Cut off, a request the store took would be sent again after a restart — harmless for
/// points (the store keeps one), counted twice by a relay merging sketch points.
async fn finish_in_flight(
    name: &str,
    in_flight: &mut FuturesOrdered<InFlight>,
    consumer: &mut Consumer,
) {
    let grace = tokio::time::sleep(IN_FLIGHT_GRACE);
    tokio::pin!(grace);
    while !in_flight.is_empty() {
        let outcome = tokio::select! {
            () = &mut grace => return,
            outcome = in_flight.next() => outcome,
        };
        let Some(Outcome::Done(ids)) = outcome else {
            return;
        };
        if let Err(e) = consumer.ack(&ids).await {
            tracing::error!(output = %name, error = %e, "cannot move the buffer cursor; batch may be sent again after a restart");
            return;
        }
    }
}

/// What to do with one read, in buffer order: requests to send, statements to apply,
/// entries to dead-letter because they were handed out too often (poison), and entries
/// to acknowledge as they are (records that could not be decoded).
enum Planned {
    Send(Request),
    Statement(Statement, EntryId),
    Poison(Batch, EntryId, u32),
    Skip(Vec<EntryId>),
}

impl Planned {
    fn into_future(self, delivery: &Arc<Delivery>, writes: &mut Writes) -> InFlight {
        match self {
            Planned::Send(request) => {
                let delivery = Arc::clone(delivery);
                let (gate, finished) = writes.start(&request);
                Box::pin(async move {
                    let _finished = finished;
                    gate.pass().await;
                    delivery.deliver(request).await
                })
            }
            Planned::Statement(statement, id) => {
                let delivery = Arc::clone(delivery);
                Box::pin(async move { delivery.apply(statement, id).await })
            }
            Planned::Poison(batch, id, deliveries) => {
                let delivery = Arc::clone(delivery);
                Box::pin(async move { delivery.poison(batch, id, deliveries).await })
            }
            Planned::Skip(ids) => Box::pin(std::future::ready(Outcome::Done(ids))),
        }
    }
}

fn plan(
    name: &str,
    entries: Vec<crate::buffer::Entry>,
    config: &OutputConfig,
    max_deliveries: Option<u32>,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    let mut batches = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    let flush = |batches: &mut Vec<(EntryId, Batch)>, planned: &mut Vec<Planned>| {
        let requests = coalesce(
            batches.drain(..),
            config.batch_points,
            config.batch_bytes.as_usize(),
        );
        planned.extend(requests.into_iter().map(Planned::Send));
    };
    for entry in entries {
        let poisoned = max_deliveries.is_some_and(|max| entry.deliveries > max);
        match Record::decode(entry.data) {
            Ok(Record::Batch(batch)) if poisoned => {
                flush(&mut batches, &mut planned);
                planned.push(Planned::Poison(batch, entry.id, entry.deliveries));
            }
            Ok(Record::Batch(batch)) => batches.push((entry.id, batch)),
            Ok(Record::Statement(statement)) => {
                flush(&mut batches, &mut planned);
                planned.push(Planned::Statement(statement, entry.id));
            }
            // Only a record written by an incompatible build (or not by Sluice) gets here.
            Err(e) => {
                tracing::error!(output = %name, error = %e, entry = %entry.id, "undecodable buffer record skipped");
                skipped.push(entry.id);
            }
        }
    }
    flush(&mut batches, &mut planned);
    if !skipped.is_empty() {
        planned.push(Planned::Skip(skipped));
    }
    planned
}

/// How one piece ended.
enum Sent {
    Delivered,
    /// Send these instead, in order.
    Split([Piece; 2]),
    /// Try the other pieces of the request first, then this one again.
    Defer,
    /// Refused for good: keep it in the dead-letter store with the store's answer.
    Refused {
        status: Option<u16>,
        message: String,
    },
    Shutdown,
}

/// What one piece has been through (kept while it waits behind the other pieces).
struct Attempts {
    backoff: Backoff,
    first: Instant,
    /// Pieces the output had accepted at this piece's previous suspect failure.
    accepted_before: Option<u64>,
    created_database: bool,
    create_failures: u32,
    /// Whether the piece was sent again after InfluxDB 1.x refused it whole with a bare
    /// `field type conflict`.
    resent_after_type_conflict: bool,
}

impl Attempts {
    fn new(config: &OutputConfig) -> Self {
        Self {
            backoff: Backoff::new(config.retry_initial, config.retry_max),
            first: Instant::now(),
            accepted_before: None,
            created_database: false,
            create_failures: 0,
            resent_after_type_conflict: false,
        }
    }
}

/// Counts a request among the suspects while it waits for evidence; uncounts on drop.
struct SuspectMark<'a> {
    delivery: &'a Delivery,
    marked: bool,
}

impl SuspectMark<'_> {
    fn mark(&mut self) {
        if !self.marked {
            self.marked = true;
            self.delivery.suspects.fetch_add(1, Ordering::AcqRel);
            self.delivery.wake.notify_one();
        }
    }
}

impl Drop for SuspectMark<'_> {
    fn drop(&mut self) {
        if self.marked {
            self.delivery.suspects.fetch_sub(1, Ordering::AcqRel);
            self.delivery.wake.notify_one();
        }
    }
}

impl Delivery {
    /// Sends one request until the store takes all of it, splitting it when the store
    /// refuses it and dead-lettering only the pieces refused on their own.
    async fn deliver(&self, request: Request) -> Outcome {
        let ids = request.ids.clone();
        let mut work = VecDeque::from([(Piece::of(request), Attempts::new(&self.config))]);
        while let Some((piece, mut attempts)) = work.pop_front() {
            match self.send(&piece, &mut attempts, !work.is_empty()).await {
                Sent::Delivered => {}
                Sent::Split([a, b]) => {
                    work.push_front((b, Attempts::new(&self.config)));
                    work.push_front((a, Attempts::new(&self.config)));
                }
                Sent::Defer => work.push_back((piece, attempts)),
                Sent::Refused { status, message } => {
                    if self
                        .dead_letter(piece.to_batch(), piece.points(), status, &message)
                        .await
                    {
                        return Outcome::Shutdown;
                    }
                    self.health.dead_lettered(&message);
                }
                Sent::Shutdown => return Outcome::Shutdown,
            }
        }
        Outcome::Done(ids)
    }

    /// Dead-letters a batch the buffer handed out `deliveries` times without it being
    /// acknowledged (each gateway that took it died or hung on it): it must not take
    /// down or stall the next gateway too. Stored first, acknowledged after, so a crash
    /// in between leaves it pending (and dead-lettered once more), never neither.
    async fn poison(&self, batch: Batch, id: EntryId, deliveries: u32) -> Outcome {
        let message = format!(
            "buffer entry {id} was handed out {deliveries} times without being acknowledged (more than max_deliveries)"
        );
        tracing::error!(output = %self.config.name, entry = %id, deliveries, "poison buffer entry dead-lettered");
        let points = batch.points();
        if self.dead_letter(batch, points, None, &message).await {
            return Outcome::Shutdown;
        }
        self.health.dead_lettered(&message);
        Outcome::Done(vec![id])
    }

    /// Sends one piece until it lands, is refused, must be split, or — when it keeps
    /// failing with a suspect answer and `others` pieces of its request are waiting —
    /// should wait behind them (their fate tells whether the output is healthy).
    async fn send(&self, piece: &Piece, attempts: &mut Attempts, others: bool) -> Sent {
        let config = &self.config;
        let name = config.name.as_str();
        // Compressed here, in the request's own poll, so requests go out in buffer order:
        // on a blocking thread a later request's body could be ready first and overtake.
        let compressed = config
            .gzip_level()
            .and_then(|level| gzip_parts(&piece.parts, level).ok());
        let (body, gzipped) = match compressed {
            Some(body) => (body, true),
            None => (piece.body(), false),
        };
        let mut suspect = SuspectMark {
            delivery: self,
            marked: false,
        };
        loop {
            let started = Instant::now();
            let error = match self
                .sender
                .send(&piece.context, body.clone(), gzipped)
                .await
            {
                Ok(()) => {
                    self.accepted.fetch_add(1, Ordering::AcqRel);
                    if attempts.backoff.failures() > 0 {
                        OutputRecovered {
                            output: name,
                            failures: attempts.backoff.failures(),
                        }
                        .emit();
                    }
                    self.health.delivered(piece.points());
                    OutputDelivered {
                        output: name,
                        points: piece.points(),
                        elapsed: started.elapsed(),
                    }
                    .emit(&self.metrics);
                    return Sent::Delivered;
                }
                Err(error) => error,
            };
            let mut defer = false;
            let (kind, message, retry_after) = match error {
                SendError::Retry {
                    kind,
                    suspect: is_suspect,
                    status,
                    message,
                    retry_after,
                } => {
                    if is_suspect {
                        let now = self.accepted.load(Ordering::Acquire);
                        let others_landed =
                            attempts.accepted_before.is_some_and(|before| now > before);
                        attempts.accepted_before = Some(now);
                        let failures = attempts.backoff.failures() + 1;
                        if failures >= config.max_attempts
                            || attempts.first.elapsed() >= config.max_batch_age
                        {
                            // Halves tell which client batches the store refuses.
                            if let Some(halves) = piece.split_parts() {
                                return Sent::Split(halves);
                            }
                            if others_landed {
                                return Sent::Refused {
                                    status,
                                    message: format!(
                                        "{message} (failed {failures} times in {:.0?} while the output accepted other batches)",
                                        attempts.first.elapsed()
                                    ),
                                };
                            }
                            if others {
                                defer = true;
                            } else {
                                suspect.mark();
                            }
                        }
                    }
                    (kind, message, retry_after)
                }
                SendError::Rejected {
                    refusal: Refusal::DatabaseNotFound,
                    status,
                    message,
                } if config.api == Api::V1
                    && config.create_database
                    && !attempts.created_database =>
                {
                    match self.sender.create_database(&piece.context.db).await {
                        Ok(()) => {
                            attempts.created_database = true;
                            DatabaseCreated {
                                output: name,
                                db: &piece.context.db,
                            }
                            .emit(&self.metrics);
                            continue;
                        }
                        Err(SendError::Retry {
                            kind, retry_after, ..
                        }) if attempts.create_failures + 1 < config.max_attempts => {
                            attempts.create_failures += 1;
                            (kind, message, retry_after)
                        }
                        Err(e) => {
                            return Sent::Refused {
                                status: Some(status),
                                message: format!("{message}; creating it failed: {e}"),
                            };
                        }
                    }
                }
                SendError::Rejected {
                    refusal: Refusal::TooLarge,
                    status,
                    message,
                } => {
                    return piece
                        .split_points()
                        .map(Sent::Split)
                        .unwrap_or(Sent::Refused {
                            status: Some(status),
                            message,
                        });
                }
                // InfluxDB 1.x refuses a request whole, with only `field type conflict`,
                // when two of its points give a field new to the shard two types; it has
                // created the field with the first point's type by then. Sent once
                // more, the points that agree are stored and the rest refused as a
                // partial write (dead-lettered below), as influxd does once the field
                // exists.
                SendError::Rejected {
                    refusal: Refusal::Data,
                    message,
                    ..
                } if config.api == Api::V1
                    && message.trim() == "field type conflict"
                    && !attempts.resent_after_type_conflict =>
                {
                    attempts.resent_after_type_conflict = true;
                    tracing::debug!(output = name, error = %message, "sending a request the store refused whole for a field type conflict once more");
                    continue;
                }
                SendError::Rejected {
                    status, message, ..
                } => {
                    return piece
                        .split_parts()
                        .map(Sent::Split)
                        .unwrap_or(Sent::Refused {
                            status: Some(status),
                            message,
                        });
                }
                e @ SendError::BadUrl { .. } => {
                    return Sent::Refused {
                        status: None,
                        message: e.to_string(),
                    };
                }
            };
            let delay = attempts.backoff.next_delay(retry_after);
            self.health.failed(&message);
            OutputRetrying {
                output: name,
                kind,
                attempt: attempts.backoff.failures(),
                delay,
                error: &message,
            }
            .emit(&self.metrics);
            if sleep_or_shutdown(delay, &self.shutdown).await {
                return Sent::Shutdown;
            }
            if defer {
                return Sent::Defer;
            }
        }
    }

    /// Applies an ordered statement to a v1 output, retrying for as long as the output is
    /// unreachable or overloaded; a v2 output has no such statements (a missing bucket is
    /// refused per batch). A statement the store refuses, or keeps failing with an answer
    /// that may be about the statement (`max_attempts`), is logged and passed: it is a
    /// barrier, and must never hold back the batches after it. The store's answer goes to
    /// the statement's ticket, for a request that may still wait for it.
    async fn apply(&self, statement: Statement, id: EntryId) -> Outcome {
        if self.config.api != Api::V1 {
            return Outcome::Done(vec![id]);
        }
        let name = self.config.name.as_str();
        let mut backoff = Backoff::new(self.config.retry_initial, self.config.retry_max);
        let mut suspect_failures = 0;
        loop {
            let error = match self
                .sender
                .query(&statement.text, statement.db.as_deref())
                .await
            {
                Ok(()) => {
                    tracing::info!(output = name, statement = %statement.text, "statement applied");
                    self.statement_answers
                        .deliver(statement.ticket, StatementAnswer::Result { error: None });
                    return Outcome::Done(vec![id]);
                }
                Err(SendError::Retry {
                    message, suspect, ..
                }) if !suspect || suspect_failures + 1 < self.config.max_attempts => {
                    suspect_failures += u32::from(suspect);
                    message
                }
                Err(refused) => {
                    tracing::warn!(output = name, statement = %statement.text, error = %refused, "the store refused a statement sent through the relay; moving on");
                    if let SendError::Rejected {
                        status, message, ..
                    } = refused
                    {
                        let answer = if (200..300).contains(&status) {
                            StatementAnswer::Result {
                                error: Some(message),
                            }
                        } else {
                            StatementAnswer::Refused {
                                status,
                                error: message,
                            }
                        };
                        self.statement_answers.deliver(statement.ticket, answer);
                    }
                    return Outcome::Done(vec![id]);
                }
            };
            let delay = backoff.next_delay(None);
            self.health.failed(&error);
            OutputRetrying {
                output: name,
                kind: "statement",
                attempt: backoff.failures(),
                delay,
                error: &error,
            }
            .emit(&self.metrics);
            if sleep_or_shutdown(delay, &self.shutdown).await {
                return Outcome::Shutdown;
            }
        }
    }

    /// Stores a refused batch of `points` points; keeps trying while the disk refuses
    /// (the batch must not be lost). Returns true if shutdown interrupted it.
    async fn dead_letter(
        &self,
        batch: Batch,
        points: usize,
        status: Option<u16>,
        message: &str,
    ) -> bool {
        loop {
            let store = Arc::clone(&self.dead_letters);
            let batch = batch.clone();
            let source = self.config.name.clone();
            let error = message.to_owned();
            let put = tokio::task::spawn_blocking(move || {
                store.put(&NewEntry {
                    stage: "output",
                    source: &source,
                    plugin_sha256: None,
                    status,
                    batch: &batch,
                    error: &error,
                    origin: Origin::default(),
                })
            })
            .await;
            match put {
                Ok(Ok(id)) => {
                    DeadLettered {
                        stage: "output",
                        source: &self.config.name,
                        points,
                        error: message,
                        id: &id,
                    }
                    .emit(&self.metrics);
                    return false;
                }
                Ok(Err(e)) => {
                    tracing::error!(output = %self.config.name, error = %e, "cannot write the dead-letter store; keeping the batch in the buffer")
                }
                Err(e) => {
                    tracing::error!(output = %self.config.name, error = %e, "dead-letter task failed")
                }
            }
            if sleep_or_shutdown(Duration::from_secs(1), &self.shutdown).await {
                return true;
            }
        }
    }
}

/// Sleeps, or returns true early when shutdown is requested.
async fn sleep_or_shutdown(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}
