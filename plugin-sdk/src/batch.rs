//! [`Batch`]: the zero-copy view of the canonical line protocol a plugin receives.

use sluice_lineproto::{Points, trusted_points};

/// One batch of canonical line protocol: one point per line,
/// `measurement[,tags] fields timestamp\n`, timestamps in nanoseconds. Reading it never
/// copies: every [`Point`](crate::Point) borrows from the batch.
///
/// ```
/// use sluice_plugin_sdk::Batch;
/// let batch = Batch::new(b"cpu,host=a usage=0.5 1\ncpu,host=b usage=0.7 2\n");
/// let hosts: Vec<String> = batch
///     .points()
///     .map(|p| p.map(|p| p.tag("host").unwrap().to_string_lossy().into_owned()))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(hosts, ["a", "b"]);
/// # Ok::<(), sluice_plugin_sdk::ViewError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    bytes: &'a [u8],
}

impl<'a> Batch<'a> {
    /// A view of `bytes`, which should be canonical line protocol (the gateway
    /// guarantees it; [`run_native`](crate::run_native) canonicalises test input first).
    ///
    /// ```
    /// let batch = sluice_plugin_sdk::Batch::new(b"m v=1i 5\n");
    /// assert_eq!(batch.len(), 9);
    /// ```
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The points, in order. The gateway only ever hands a plugin canonical line
    /// protocol (and checks everything a plugin returns), so the walk trusts the batch
    /// ([`trusted_points`](sluice_lineproto::trusted_points)): it splits each line into
    /// its sections without checking again what the canonicaliser checked, and reads a
    /// timestamp only when asked for. A line without the structure of a point still
    /// yields an `Err` (convert it to a [`PluginError`](crate::PluginError) with `?`)
    /// and the walk goes on.
    ///
    /// ```
    /// let batch = sluice_plugin_sdk::Batch::new(b"m v=1i 5\nm v=2i 6\n");
    /// assert_eq!(batch.points().count(), 2);
    /// ```
    #[inline]
    pub fn points(&self) -> Points<'a> {
        trusted_points(self.bytes)
    }

    /// The raw bytes (to pass the whole batch on unchanged).
    ///
    /// ```
    /// let batch = sluice_plugin_sdk::Batch::new(b"m v=1i 5\n");
    /// assert_eq!(batch.as_bytes(), b"m v=1i 5\n");
    /// ```
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Size in bytes.
    ///
    /// ```
    /// assert_eq!(sluice_plugin_sdk::Batch::new(b"").len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the batch holds no bytes.
    ///
    /// ```
    /// assert!(sluice_plugin_sdk::Batch::new(b"").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
