//! Why a file could not be probed or repaired. Messages are meant for users:
//! they say what is wrong with the file, not where in our code it was found.

use std::io;

use crate::check::Violation;
pub use crate::spec::SpecError;

/// A file that cannot be read as media.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("file is empty")]
    Empty,
    #[error("not an image or video this tool recognises{0}")]
    Unrecognised(String),
    #[error("truncated or damaged: {0}")]
    Damaged(String),
    #[error("{width}x{height} pixels is over the decode limit of {limit} pixels; refusing to allocate for it")]
    TooLarge { width: u64, height: u64, limit: u64 },
    #[error("no video stream: {0}")]
    NoVideo(String),
    #[error("{0}")]
    Unsupported(String),
    /// A bug or a decoder failure that panicked; contained to this file.
    #[error("internal error while reading the file: {0}")]
    Internal(String),
}

/// Why a repair did not deliver an output. Nothing is left at the output path
/// when it fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixError {
    #[error("{0}")]
    Probe(#[from] ProbeError),
    #[error("cannot write output: {0}")]
    Io(#[from] io::Error),
    #[error("image: {0}")]
    Image(String),
    #[error("video: {0}")]
    Video(String),
    #[error("the input changed while it was being read ({0}); run again once it is complete")]
    InputChanged(String),
    #[error("internal error while repairing: {0}")]
    Internal(String),
    #[error("the repaired file still breaks {}: {}", .0.first().map_or("", |v| v.rule), .0.first().map_or(String::new(), |v| v.message.clone()))]
    StillNotCompliant(Vec<Violation>),
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
