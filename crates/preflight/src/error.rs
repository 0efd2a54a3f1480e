//! Why a file could not be probed.

use std::io;

/// A file that cannot be read as media. Messages are meant for users: they say
/// what is wrong with the file, not where in our code it was found.
#[derive(Debug, thiserror::Error)]
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
