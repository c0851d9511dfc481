//! [`Turnstile`]: lets a forwarder's requests compress their bodies in parallel, on
//! blocking threads, and still make their first send in buffer order. Each request
//! takes a [`Turn`] when it is planned (in buffer order); [`Turn::wait`] returns once
//! every earlier turn has been let go, and a turn is let go when it is dropped — after
//! its first send has started, or when the request ends without one.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The turns of one forwarder, numbered from 0 in the order they are taken.
#[derive(Debug, Default)]
pub(super) struct Turnstile {
    state: Mutex<State>,
    /// Wakes waiters whenever `next` moves.
    moved: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The next turn number to hand out.
    issued: u64,
    /// Every turn below this one has been let go.
    next: u64,
    /// Turns let go out of order, above `next`.
    done: BTreeSet<u64>,
}

impl Turnstile {
    /// A turnstile whose first turn is 0.
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The next turn, after every turn taken before it.
    pub(super) fn take(self: &Arc<Self>) -> Turn {
        let mut state = self.lock();
        let number = state.issued;
        state.issued += 1;
        Turn {
            turnstile: Arc::clone(self),
            number,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets `number` go; moves `next` past every turn let go in a row.
    fn release(&self, number: u64) {
        let moved = {
            let mut state = self.lock();
            state.done.insert(number);
            let before = state.next;
            loop {
                let next = state.next;
                if !state.done.remove(&next) {
                    break;
                }
                state.next = next + 1;
            }
            state.next != before
        };
        if moved {
            self.moved.notify_waiters();
        }
    }

    /// Whether every turn below `number` has been let go.
    fn is_due(&self, number: u64) -> bool {
        self.lock().next >= number
    }
}

/// One request's place in the order; let go on drop.
#[derive(Debug)]
pub(super) struct Turn {
    turnstile: Arc<Turnstile>,
    number: u64,
}

impl Turn {
    /// Waits until every earlier turn has been let go.
    pub(super) async fn wait(&self) {
        loop {
            let moved = self.turnstile.moved.notified();
            tokio::pin!(moved);
            // Registered before the check, so a release in between is not missed.
            moved.as_mut().enable();
            if self.turnstile.is_due(self.number) {
                return;
            }
            moved.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.turnstile.release(self.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_come_due_in_the_order_taken() {
        let turnstile = Turnstile::new();
        let first = turnstile.take();
        let second = turnstile.take();
        let third = turnstile.take();
        first.wait().await;
        // The third is let go early (its request ended without sending): it must not
        // let the second's successor pass, only itself be skipped.
        drop(third);
        let waiting = tokio::spawn(async move {
            second.wait().await;
            second
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "the second came due before the first was let go"
        );
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the second came due")
            .expect("the task ran");
        let fourth = turnstile.take();
        drop(second);
        // The third was let go already, so the fourth is due at once.
        tokio::time::timeout(Duration::from_secs(5), fourth.wait())
            .await
            .expect("the fourth came due");
    }
}
