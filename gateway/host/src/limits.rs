//! Per-instance resource limits: [`MemoryLimiter`] caps the total linear memory of one
//! plugin instance (every memory of the component together) and the size of its tables.
//! Going past the cap traps at once with [`LimitExceeded`], which the instance turns into
//! [`HostError::MemoryLimit`](crate::HostError::MemoryLimit).

/// Most table elements one instance may have (function tables of big guests are a few
/// thousand entries).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// The error a limiter raises; found again by downcasting the call's error.
#[derive(Debug, thiserror::Error)]
#[error("plugin instance memory would grow to {wanted} bytes, past its limit of {limit} bytes")]
pub(crate) struct LimitExceeded {
    /// Total bytes the growth asked for.
    pub(crate) wanted: u64,
    /// The limit.
    pub(crate) limit: u64,
}

/// A `wasmtime::ResourceLimiter` with a budget for all memories of an instance.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: u64,
    /// Bytes of linear memory granted so far, across memories.
    used: u64,
    /// The last growth granted, given back if it fails.
    last_grant: u64,
    /// A growth was refused: the instance hit its limit (whatever error the guest then
    /// raised, an abort in its allocator or our error).
    tripped: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit,
            used: 0,
            last_grant: 0,
            tripped: false,
        }
    }

    /// Whether a growth was refused since the instance started.
    pub(crate) fn tripped(&self) -> bool {
        self.tripped
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grant = desired.saturating_sub(current) as u64;
        let wanted = self.used.saturating_add(grant);
        if wanted > self.limit {
            self.tripped = true;
            return Err(wasmtime::Error::new(LimitExceeded {
                wanted,
                limit: self.limit,
            }));
        }
        self.used = wanted;
        self.last_grant = grant;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The growth we granted did not happen (the module's own maximum, or the OS):
        // the guest sees `memory.grow` fail and handles it as it sees fit.
        tracing::debug!(error = %error, "plugin memory growth failed");
        self.used -= self.last_grant;
        self.last_grant = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn growth_is_counted_across_memories() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 40, None).unwrap());
        let err = l.memory_growing(40, 41, None).unwrap_err();
        let exceeded = err.downcast_ref::<LimitExceeded>().unwrap();
        assert_eq!((exceeded.wanted, exceeded.limit), (101, 100));
    }
}
