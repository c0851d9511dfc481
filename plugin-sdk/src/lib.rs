//! # sluice-plugin-sdk
//!
//! Write Sluice transform plugins in Rust. Implement [`Plugin`] over a zero-copy
//! [`Batch`] of canonical line protocol, write your output with a [`LineWriter`], export
//! it with [`export!`], and build with `cargo build --release --target wasm32-wasip2`.
//! Test it natively with [`run_native`] and a [`FakeHost`] — no wasm runtime needed.
//! The full example is on [`Plugin`].
//!
//! # Layout
//!
//! - [`Plugin`] (`plugin`): the trait; [`Batch`] (`batch`): the input view; the
//!   line-protocol types ([`Point`], [`LineWriter`], …) come from `sluice-lineproto`.
//! - [`Context`] (`context`), [`PluginError`] and [`CapabilityError`] (`error`).
//! - [`Host`], [`Level`] (`host`): the gateway's `kv`, `blob` and `log`, batch-shaped.
//! - [`Splice`] (`splice`): output copied from the input in runs between edits.
//! - [`Name`] (`name`): a key from the config matched against keys as written, and
//!   spelled as line protocol; [`push_string`] escapes a string field value;
//!   [`values_key`] (`values_key`) keys a plugin's caches by some tags' values.
//! - [`FakeHost`] (`fake_host`): the in-memory host for native tests.
//! - [`load`], [`run_native`], [`RunError`] (`native`): run a plugin natively the way the
//!   gateway runs it.
//! - `guest` (wasm builds only): the `wit-bindgen` bindings, `WasmHost` and the glue
//!   [`export!`] expands to, under the hidden `__private` path.

// The generated bindings name their runtime and bindings by this crate's name.
#[cfg(target_arch = "wasm32")]
extern crate self as sluice_plugin_sdk;

mod batch;
mod bytes_map;
mod context;
mod error;
mod fake_host;
#[cfg(target_arch = "wasm32")]
mod guest;
mod host;
mod name;
mod native;
mod plugin;
mod splice;
mod values_key;

pub use batch::Batch;
pub use bytes_map::BytesMap;
pub use context::Context;
pub use error::{CapabilityError, PluginError};
pub use fake_host::FakeHost;
pub use host::{Host, Level};
pub use name::{Name, NameError, push_string};
pub use native::{RunError, load, run_native};
pub use plugin::Plugin;
pub use sluice_lineproto::{
    Escaped, Field, FieldValue, Fields, LineWriter, Point, PointWriter, Points, Tags, ViewError,
    WriteError,
};
pub use splice::Splice;
pub use values_key::values_key;

/// What [`export!`] expands to; not part of the API.
#[doc(hidden)]
#[cfg(target_arch = "wasm32")]
pub mod __private {
    pub use crate::guest::bindings::export_transform;
    pub use crate::guest::bindings::{self, Guest};
    pub use crate::guest::{WitContext, WitPluginError, init, process};
    pub use wit_bindgen;
}

/// Exports a [`Plugin`] as the component's `init` and `process`. Use it once, at the top
/// level of the plugin crate (a `cdylib`); in native builds it expands to nothing, so the
/// same crate runs its unit tests natively.
///
/// ```
/// # use sluice_plugin_sdk::{Batch, Context, Host, LineWriter, Plugin, PluginError};
/// /// Drops every point.
/// struct DropAll;
/// # #[derive(serde::Deserialize)] struct Config {}
/// impl Plugin for DropAll {
///     type Config = Config;
///     fn new(_: Config) -> Result<Self, String> { Ok(DropAll) }
///     fn process<H: Host>(&mut self, _: &Context, _: Batch<'_>, _: &mut LineWriter, _: &mut H)
///         -> Result<(), PluginError> { Ok(()) }
/// }
/// sluice_plugin_sdk::export!(DropAll);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: ::core::cell::RefCell<::core::option::Option<$plugin>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct SluiceGuest;

            impl $crate::__private::Guest for SluiceGuest {
                fn init(
                    config: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    PLUGIN.with(|slot| $crate::__private::init::<$plugin>(slot, &config))
                }

                fn process(
                    ctx: $crate::__private::WitContext,
                    batch: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<u8>,
                    $crate::__private::WitPluginError,
                > {
                    PLUGIN.with(|slot| $crate::__private::process::<$plugin>(slot, ctx, batch))
                }
            }

            $crate::__private::export_transform!(SluiceGuest with_types_in $crate::__private::bindings);
        };
    };
}
