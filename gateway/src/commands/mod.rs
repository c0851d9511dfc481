//! The tools besides `sluice run`: each subcommand in its own module, reporting errors
//! with `anyhow` (this is the binary's edge).

pub(crate) mod check;
pub(crate) mod dlq;
pub(crate) mod plugin_build;
pub(crate) mod plugin_new;
pub(crate) mod plugin_test;
pub(crate) mod stdout;
