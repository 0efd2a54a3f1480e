//! Why a file could not be probed or repaired. Messages are meant for users:
//! they say what is wrong with the file, not where in our code it was found.

use std::io;

use crate::check::Violation;
pub use crate::spec::SpecError;

/// A file that cannot be read as media.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The file could not be opened or read.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// The file has no bytes.
    #[error("file is empty")]
    Empty,
    /// Neither an image format nor a container FFmpeg can open.
    #[error("not an image or video this tool recognises{0}")]
    Unrecognised(String),
    /// The headers are cut short or inconsistent.
    #[error("truncated or damaged: {0}")]
    Damaged(String),
    /// The picture is larger than [`MAX_IMAGE_PIXELS`](crate::limits::MAX_IMAGE_PIXELS).
    #[error("{width}x{height} pixels is over the decode limit of {limit} pixels; refusing to allocate for it")]
    TooLarge {
        /// Displayed width.
        width: u64,
        /// Displayed height.
        height: u64,
        /// The limit, in pixels.
        limit: u64,
    },
    /// A container without a video stream (audio only, for example).
    #[error("no video stream: {0}")]
    NoVideo(String),
    /// A real format this tool cannot handle (say which and why).
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
    /// The input (or the repaired output) could not be probed.
    #[error("{0}")]
    Probe(#[from] ProbeError),
    /// Reading the input or writing the output failed.
    #[error("cannot write output: {0}")]
    Io(#[from] io::Error),
    /// The picture could not be decoded, resized or encoded within the rules.
    #[error("image: {0}")]
    Image(String),
    /// The video could not be remuxed or re-encoded within the rules.
    #[error("video: {0}")]
    Video(String),
    /// The input's size or modification time moved while it was repaired.
    #[error("the input changed while it was being read ({0}); run again once it is complete")]
    InputChanged(String),
    /// A bug or a decoder failure that panicked; contained to this file.
    #[error("internal error while repairing: {0}")]
    Internal(String),
    /// The output was made but breaks these rules; it was not delivered.
    #[error("the repaired file still breaks {}: {}", .0.first().map_or("", |v| v.rule.id()), .0.first().map_or(String::new(), |v| v.message.clone()))]
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

/// Why the content of a file could not be analysed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The pose models are not installed.
    #[error("the pose models are not installed in {dir} (missing {missing}); install them with `bash scripts/setup.sh`, or point PREFLIGHT_MODELS at a folder holding pose_detection.onnx, pose_landmark_full.onnx and libonnxruntime.so")]
    ModelsMissing {
        /// Where they were looked for.
        dir: String,
        /// The first file not found.
        missing: String,
    },
    /// A model file is there but cannot be loaded.
    #[error("cannot load the pose model {path}: {reason} (run `bash scripts/setup.sh` again to reinstall it)")]
    ModelLoad {
        /// The model file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The file could not be read or decoded.
    #[error("{0}")]
    Media(#[from] FixError),
    /// The model failed on this picture.
    #[error("pose model failed: {0}")]
    Inference(String),
}

impl From<ProbeError> for ContentError {
    fn from(e: ProbeError) -> Self {
        ContentError::Media(FixError::Probe(e))
    }
}
