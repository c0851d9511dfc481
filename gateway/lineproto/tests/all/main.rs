//! Property tests of sluice-lineproto, through its public API only.
//!
//! - `fuzz`: the canonicaliser and the view never panic on arbitrary bytes, and the
//!   canonicaliser is idempotent on its own output.
//! - `roundtrip`: points written with the writer come out of the canonicaliser unchanged
//!   and read back through the view as they were written.

mod fuzz;
mod roundtrip;
