//! [`Context`]: the routing context handed to a plugin with each batch.

/// Where a batch came from and where it is going (the WIT `context` record).
///
/// ```
/// let ctx = sluice_host::Context { db: "flood".into(), ..Default::default() };
/// assert_eq!(ctx.rp, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The database the batch is written to (always set; a 2.x bucket maps onto it).
    pub db: String,
    /// The retention policy; `None` is the database's default.
    pub rp: Option<String>,
    /// The 2.x organisation, for `/api/v2/write`.
    pub org: Option<String>,
    /// The 2.x bucket, for `/api/v2/write`.
    pub bucket: Option<String>,
    /// The client's address (`ip:port`), when known.
    pub source: Option<String>,
}

impl Context {
    /// The WIT record for a call.
    pub(crate) fn to_wit(&self) -> crate::bindings::sluice::plugin::types::Context {
        crate::bindings::sluice::plugin::types::Context {
            db: self.db.clone(),
            rp: self.rp.clone(),
            org: self.org.clone(),
            bucket: self.bucket.clone(),
            source: self.source.clone(),
        }
    }
}
