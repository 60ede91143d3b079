//! What the simulated participants send: Opus audio, VP8 video, and the trailer that carries send times.

pub mod audio;
pub mod trailer;
pub mod video;
pub mod vp8;
