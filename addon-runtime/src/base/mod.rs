//! The bottom layer: the one clock, the one answer module, sealing, settings, the declaration
//! and the protocol-neutral types every layer above speaks. Nothing here imports a module of
//! a higher layer, nor axum.

pub(crate) mod answer;
pub(crate) mod cipher;
pub(crate) mod clock;
pub(crate) mod log_context;
pub(crate) mod protocol;
pub(crate) mod settings;
pub(crate) mod spec;
