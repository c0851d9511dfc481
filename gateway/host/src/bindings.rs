//! The generated host bindings of `wit/plugin.wit`, world `transform`. Nothing else in
//! the crate runs `bindgen!`; the rest of the crate converts to and from these types.

wasmtime::component::bindgen!({
    world: "transform",
    path: "../../wit",
});
