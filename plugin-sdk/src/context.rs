//! [`Context`]: where a batch came from and where it is going.

/// The routing context of a batch (the WIT `context` record).
///
/// ```
/// use sluice_plugin_sdk::Context;
/// let ctx = Context { db: "flood".into(), rp: Some("raw".into()), ..Context::default() };
/// assert_eq!(ctx.bucket, None);
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
