//! The words every provider's task is described in: what is sent (inputs,
//! mode, image), what comes back (status, result links). Below the dialects,
//! which translate these to and from each API; pure.

use std::fmt;
use std::str::FromStr;

use preflight::{Model, Orientation, Provider};
use serde::Serialize;
use serde_json::json;

use crate::error::SubmitError;
use crate::link::{redact_link, sha256_hex};

/// Longest prompt or negative prompt any provider accepts, in characters.
pub const MAX_PROMPT_CHARS: usize = 2500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Std,
    Pro,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Std => "std",
            Mode::Pro => "pro",
        }
    }
}

impl FromStr for Mode {
    type Err = SubmitError;
    fn from_str(s: &str) -> Result<Mode, SubmitError> {
        match s.to_ascii_lowercase().as_str() {
            "std" | "standard" => Ok(Mode::Std),
            "pro" | "professional" => Ok(Mode::Pro),
            _ => Err(SubmitError::Refused(format!(
                "unknown mode `{s}` (known: std, pro)"
            ))),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reference image as it goes into the request.
#[derive(Clone, PartialEq, Eq)]
pub enum ImageInput {
    /// A public URL, sent as is.
    Url(String),
    /// A local file uploaded for the provider to fetch.
    Link {
        /// The local file, for the journal.
        source: String,
        url: String,
        /// SHA-256 of the uploaded bytes, hex.
        sha256: String,
    },
    /// A local file, sent as raw standard base64 (no `data:` prefix, no line breaks).
    Base64 {
        /// Where it came from, for the journal.
        source: String,
        /// The base64 text.
        data: String,
        /// SHA-256 of the file bytes, hex.
        sha256: String,
    },
}

impl fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageInput::Url(u) => write!(f, "Url({})", redact_link(u)),
            ImageInput::Link { source, url, .. } => {
                write!(f, "Link({source}, {})", redact_link(url))
            }
            ImageInput::Base64 { source, data, .. } => {
                write!(f, "Base64({source}, {} chars)", data.len())
            }
        }
    }
}

impl ImageInput {
    /// Encode file bytes as raw standard base64.
    pub fn from_bytes(source: impl Into<String>, bytes: &[u8]) -> ImageInput {
        use base64::Engine;
        ImageInput::Base64 {
            source: source.into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
            sha256: sha256_hex(bytes),
        }
    }

    /// What the journal keeps: the URL, or the file name and hash.
    pub fn source(&self) -> &str {
        match self {
            ImageInput::Url(u) => u,
            ImageInput::Link { source, .. } | ImageInput::Base64 { source, .. } => source,
        }
    }

    /// Hash identifying the image: of the bytes, or of the URL.
    pub fn sha256(&self) -> String {
        match self {
            ImageInput::Url(u) => sha256_hex(u.as_bytes()),
            ImageInput::Link { sha256, .. } | ImageInput::Base64 { sha256, .. } => sha256.clone(),
        }
    }

    /// What goes into the request: the link or the base64 text.
    pub(crate) fn wire(&self) -> &str {
        match self {
            ImageInput::Url(u) | ImageInput::Link { url: u, .. } => u,
            ImageInput::Base64 { data, .. } => data,
        }
    }

    /// What the journal shows instead of [`ImageInput::wire`].
    pub(crate) fn redacted(&self) -> String {
        match self {
            ImageInput::Url(u) | ImageInput::Link { url: u, .. } => redact_link(u),
            ImageInput::Base64 { data, sha256, .. } => {
                format!("<base64: {} chars, sha256 {sha256}>", data.len())
            }
        }
    }
}

/// Everything that decides what a task is (and what it costs).
#[derive(Debug, Clone)]
pub struct Inputs {
    pub provider: Provider,
    pub model: Model,
    pub mode: Mode,
    pub orientation: Orientation,
    pub image: ImageInput,
    pub video_url: String,
    /// SHA-256 of the video's bytes when we uploaded it: the task's identity
    /// then, since its link changes whenever it is signed again.
    pub video_sha256: Option<String>,
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    /// `keep_original_sound`; `None` leaves the provider's default (keep).
    pub keep_sound: Option<bool>,
}

impl Inputs {
    /// Stable hash of the inputs and settings: the same key means the same paid task.
    pub fn key(&self) -> String {
        let canon = json!({
            "provider": self.provider.name(),
            "model": self.model.name(),
            "mode": self.mode.name(),
            "orientation": self.orientation.name(),
            "image_sha256": self.image.sha256(),
            // Keeps the old field name so keys of earlier journals still match.
            "video_url": self.video_sha256.as_deref().unwrap_or(&self.video_url),
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "keep_sound": self.keep_sound,
        });
        sha256_hex(canon.to_string().as_bytes())
    }
}

/// A task's state, in common words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Processing,
    Succeeded,
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskState {
    pub task_id: String,
    pub status: Status,
    /// The provider's own word (`succeed`, `TASK_STATUS_SUCCEED`, `completed`…).
    pub provider_status: String,
    pub progress: Option<u32>,
    /// Result links, best first.
    pub videos: Vec<String>,
    /// Failure reason or note.
    pub message: Option<String>,
}

/// How to find a task again: its id, and the addresses the create answer
/// gave for it (fal answers with a status URL and a response URL to use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskHandle {
    pub id: String,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
}

impl TaskHandle {
    /// A task known by its id only.
    pub fn id(id: impl Into<String>) -> TaskHandle {
        TaskHandle {
            id: id.into(),
            ..TaskHandle::default()
        }
    }
}
