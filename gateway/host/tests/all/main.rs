//! The host's integration tests: real components (prebuilt from `plugins/`, see
//! `support::component`) through the real engine. One binary, one module per area.

mod cache;
mod capabilities;
mod evil;
mod identity;
mod lines;
mod load;
mod support;
mod tag_strip;
