//! [`StatementAnswers`]: how a `/query` request learns what the store answered to the
//! statements it put in the buffer. The request registers one ticket per statement and
//! writes the ticket into the statement's record; the forwarder that applies the record
//! to an InfluxDB 1.x output hands the store's answer to the ticket. The request waits a
//! short while ([`ANSWER_WAIT`]), so a client that creates a database and then reads from
//! it, or drops one after writing to it, sees what influxd would have done; when the
//! store is down or far behind, the statement stays in the buffer and the client gets
//! InfluxDB's success answer at once, as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a `/query` request waits for the store's answers to its statements
/// altogether, after they are in the buffer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(2);

/// What the store answered to one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementAnswer {
    /// The query ran (`200`): the statement's result, with the store's `error` when it
    /// refused the statement itself (`database not found: x`).
    Result {
        /// The result's `error`, if any.
        error: Option<String>,
    },
    /// The store refused the query (`400 {"error":"error parsing query: …"}`).
    Refused {
        /// HTTP status.
        status: u16,
        /// The body's `error`.
        error: String,
    },
}

/// The tickets of statements whose answer a request waits for. Shared by ingest and the
/// forwarders. Tickets are never 0 (0 in a record means nobody waits) and count up from a
/// random start, so gateways sharing a Redis buffer, each of which may apply the others'
/// statements, do not answer each other's tickets.
#[derive(Debug)]
pub struct StatementAnswers {
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<StatementAnswer>>>,
}

impl Default for StatementAnswers {
    fn default() -> Self {
        Self {
            next: AtomicU64::new(rand::random()),
            waiting: Mutex::default(),
        }
    }
}

impl StatementAnswers {
    /// A new ticket and the place its answer arrives. Dropping the [`Ticket`] withdraws it.
    pub fn ticket(self: &Arc<Self>) -> Ticket {
        let mut number = 0;
        while number == 0 {
            number = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        }
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(number, sender);
        Ticket {
            number,
            receiver,
            answers: Arc::clone(self),
        }
    }

    /// Hands `answer` to ticket `number`, if a request still waits for it (the first
    /// output to answer wins).
    pub fn deliver(&self, number: u64, answer: StatementAnswer) {
        if number == 0 {
            return;
        }
        if let Some(sender) = self.lock().remove(&number) {
            // The request may have given up just now: then nobody reads it.
            let _ = sender.send(answer);
        }
    }

    /// Tickets still waiting (for tests and metrics).
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<StatementAnswer>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One statement's claim on the store's answer.
#[derive(Debug)]
pub struct Ticket {
    number: u64,
    receiver: oneshot::Receiver<StatementAnswer>,
    answers: Arc<StatementAnswers>,
}

impl Ticket {
    /// The number written into the statement's record.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The answer, if it arrives before `deadline`.
    pub async fn answer_by(mut self, deadline: tokio::time::Instant) -> Option<StatementAnswer> {
        tokio::time::timeout_at(deadline, &mut self.receiver)
            .await
            .ok()
            .and_then(Result::ok)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.answers.lock().remove(&self.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_its_ticket_and_late_ones_are_dropped() {
        let answers = Arc::new(StatementAnswers::default());
        let first = answers.ticket();
        let second = answers.ticket();
        assert_ne!(first.number(), 0);
        assert_ne!(first.number(), second.number());
        assert_eq!(answers.waiting(), 2);
        let answer = StatementAnswer::Result { error: None };
        answers.deliver(first.number(), answer.clone());
        // A second output's answer to the same ticket finds nobody.
        answers.deliver(first.number(), StatementAnswer::Result { error: None });
        let soon = tokio::time::Instant::now() + Duration::from_secs(1);
        assert_eq!(first.answer_by(soon).await, Some(answer));
        // No answer by the deadline: none, and the ticket is withdrawn.
        let number = second.number();
        assert_eq!(second.answer_by(tokio::time::Instant::now()).await, None);
        assert_eq!(answers.waiting(), 0);
        answers.deliver(number, StatementAnswer::Result { error: None });
        answers.deliver(0, StatementAnswer::Result { error: None });
        assert_eq!(answers.waiting(), 0);
    }
}
