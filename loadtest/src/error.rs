//! Typed errors of the load generator.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("media: {0}")]
    Media(String),
    #[error("WebRTC ({context}): {message}")]
    Rtc { context: &'static str, message: String },
    #[error("cannot bind UDP on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("signaling: {0}")]
    Signaling(String),
    #[error("server refused: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("token: {0}")]
    Token(String),
    #[error("bad argument: {0}")]
    Arg(String),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("SFU: {0}")]
    Sfu(String),
}

impl LoadError {
    pub fn rtc(context: &'static str, e: impl std::fmt::Display) -> LoadError {
        LoadError::Rtc { context, message: e.to_string() }
    }
}
