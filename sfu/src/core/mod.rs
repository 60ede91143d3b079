//! The sans-IO core.

pub mod sdp;
pub mod types;
