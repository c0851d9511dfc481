//! Sleeping plugins. Epoch interruption stops a plugin that computes past its deadline,
//! but not one blocked in the host: WASI's `monotonic-clock.subscribe-*` pollables sleep
//! for real, so `std::thread::sleep(1h)` would hold a worker thread for an hour. We
//! shadow both subscribe functions: a sleep that ends before the call's deadline is
//! honoured, one that would end past it times the call out at once.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, Resource};
use wasmtime::{StoreContextMut, Trap};
use wasmtime_wasi::HostMonotonicClock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use crate::state::State;

/// The WASI clocks interface we shadow (the version wasmtime-wasi links; guests built
/// against any 0.2.x resolve to it).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// The origin of the guest's monotonic clock, shared so an instant a guest computed can
/// be turned back into a host time.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

/// The monotonic clock plugins see: nanoseconds since [`ORIGIN`].
pub(crate) struct GuestClock;

impl HostMonotonicClock for GuestClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        u64::try_from(ORIGIN.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A sleep that ends before the call's deadline.
struct Sleep(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Sleep {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

/// A pollable ready at `until`, or a timeout trap if `until` is past the call's
/// deadline.
fn sleep_until(
    mut store: StoreContextMut<'_, State>,
    until: Option<Instant>,
) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let state = store.data_mut();
    let past_deadline = match (until, state.call_deadline) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(until), Some(deadline)) => until > deadline,
    };
    if past_deadline {
        return Err(wasmtime::Error::new(Trap::Interrupt));
    }
    let until = until.unwrap_or_else(Instant::now);
    let table = state.table();
    let sleep = table.push(Sleep(tokio::time::Instant::from_std(until)))?;
    Ok((subscribe(table, sleep)?,))
}

/// Replaces `subscribe-duration` and `subscribe-instant` of the monotonic clock.
pub(crate) fn override_sleeps(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |store: StoreContextMut<'_, State>, (nanos,): (u64,)| {
            sleep_until(
                store,
                Instant::now().checked_add(Duration::from_nanos(nanos)),
            )
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |store: StoreContextMut<'_, State>, (when,): (u64,)| {
            sleep_until(store, ORIGIN.checked_add(Duration::from_nanos(when)))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
