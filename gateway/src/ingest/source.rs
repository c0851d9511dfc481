//! [`Source`]: the client's address, for the plugin context. Present when the server
//! runs with connect info (`sluice run`); absent in router tests that call the routes
//! directly.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The peer address of the request, when the server recorded it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source(pub(super) Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| *addr),
        ))
    }
}
