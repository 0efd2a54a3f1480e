//! What each provider calls things: paths, body fields, status words, envelopes
//! and error codes, exactly as `shared/providers.md` describes them. Pure: no I/O.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use preflight::{Model, Orientation, Provider, Spec};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::dialect::{aihubmax, kling, novita, protocol, Dialect, ErrorAnswer};
use crate::error::SubmitError;
use crate::upload::redact_link;

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
            sha256: hex(&Sha256::digest(bytes)),
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
            ImageInput::Url(u) => hex(&Sha256::digest(u.as_bytes())),
            ImageInput::Link { sha256, .. } | ImageInput::Base64 { sha256, .. } => sha256.clone(),
        }
    }

    pub(crate) fn wire(&self) -> &str {
        match self {
            ImageInput::Url(u) | ImageInput::Link { url: u, .. } => u,
            ImageInput::Base64 { data, .. } => data,
        }
    }

    fn redacted(&self) -> String {
        match self {
            ImageInput::Url(u) | ImageInput::Link { url: u, .. } => redact_link(u),
            ImageInput::Base64 { data, sha256, .. } => {
                format!("<base64: {} chars, sha256 {sha256}>", data.len())
            }
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

pub fn is_url(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// One provider: where it lives, how it is asked, and which dialect it speaks.
pub struct Row {
    pub provider: Provider,
    /// The documented address.
    pub base_url: &'static str,
    pub create_path: &'static str,
    /// The query path; `{id}` stands for the (percent-encoded) task id.
    pub query_path: &'static str,
    /// Variables that may hold the API key, first found wins.
    pub key_vars: &'static [&'static str],
    /// Access key and secret key variables, signed into a JWT (Kling's legacy scheme).
    pub jwt_vars: Option<(&'static str, &'static str)>,
    pub dialect: &'static Dialect,
    /// Accepts a caller-chosen `external_task_id` and can be asked by it.
    pub external_task_id: bool,
    /// Takes the image only as a link (no base64).
    pub image_links_only: bool,
}

/// Every provider, as `shared/providers.md` describes them.
pub const ROWS: [Row; 5] = [
    Row {
        provider: Provider::Kling,
        base_url: "https://api-singapore.klingai.com",
        create_path: "/v1/videos/motion-control",
        query_path: "/v1/videos/motion-control/{id}",
        key_vars: &["KLING_API_KEY"],
        jwt_vars: Some(("KLING_ACCESS_KEY", "KLING_SECRET_KEY")),
        dialect: &kling::DIALECT,
        external_task_id: true,
        image_links_only: false,
    },
    Row {
        provider: Provider::Powertokens,
        base_url: "https://api.powertokens.ai",
        create_path: "/kling/v1/videos/motion-control",
        query_path: "/kling/v1/videos/motion-control/{id}",
        key_vars: &["POWERTOKENS_API_KEY"],
        jwt_vars: None,
        dialect: &kling::DIALECT,
        external_task_id: true,
        image_links_only: false,
    },
    Row {
        provider: Provider::Novita,
        base_url: "https://api.novita.ai",
        create_path: "/v3/async/kling-v3.0-motion-control",
        query_path: "/v3/async/task-result?task_id={id}",
        key_vars: &["NOVITA_API_KEY"],
        jwt_vars: None,
        dialect: &novita::DIALECT,
        external_task_id: false,
        image_links_only: false,
    },
    Row {
        provider: Provider::Highway,
        base_url: "https://api.highwayapi.ai",
        create_path: "/v3/async/kling-v3.0-motion-control",
        query_path: "/v3/async/task-result?task_id={id}",
        key_vars: &["HIGHWAY_API_KEY"],
        jwt_vars: None,
        dialect: &novita::DIALECT,
        external_task_id: false,
        image_links_only: false,
    },
    Row {
        provider: Provider::Aihubmax,
        base_url: "https://api.aihubmax.com",
        create_path: "/v1/videos/generations",
        query_path: "/v1/tasks/{id}",
        key_vars: &["AIHUBMAX_API_KEY"],
        jwt_vars: None,
        dialect: &aihubmax::DIALECT,
        external_task_id: false,
        image_links_only: true,
    },
];

/// The provider's row.
pub fn row(provider: Provider) -> &'static Row {
    // Every `Provider` has a row (a unit test walks `Provider::ALL`).
    ROWS.iter()
        .find(|r| r.provider == provider)
        .unwrap_or(&ROWS[0])
}

/// Providers that accept a caller-chosen `external_task_id` and can be queried by it.
pub fn supports_external_id(provider: Provider) -> bool {
    row(provider).external_task_id
}

impl Inputs {
    /// Refuse, before any request, what the provider would refuse anyway.
    pub fn validate(&self) -> Result<Spec, SubmitError> {
        let spec = Spec::lookup(self.provider, self.model, self.orientation)
            .map_err(|e| SubmitError::Refused(e.to_string()))?;
        if !is_url(&self.video_url) {
            return Err(SubmitError::Refused(format!(
                "{} needs the video as a public http(s) URL, not `{}`: upload it to storage the provider can fetch from",
                self.provider, self.video_url
            )));
        }
        if let ImageInput::Url(u) | ImageInput::Link { url: u, .. } = &self.image {
            if !is_url(u) {
                return Err(SubmitError::Refused(format!(
                    "the image `{u}` is neither a file nor an http(s) URL"
                )));
            }
        }
        if matches!(self.image, ImageInput::Base64 { .. }) && row(self.provider).image_links_only {
            return Err(SubmitError::Refused(format!(
                "{} accepts only a public URL for the image: upload {} to storage the provider can fetch from",
                self.provider,
                self.image.source()
            )));
        }
        for (name, text) in [
            ("prompt", &self.prompt),
            ("negative prompt", &self.negative_prompt),
        ] {
            if let Some(t) = text {
                let n = t.chars().count();
                if n > MAX_PROMPT_CHARS {
                    return Err(SubmitError::Refused(format!(
                        "the {name} has {n} characters; providers accept at most {MAX_PROMPT_CHARS}"
                    )));
                }
            }
        }
        if self.negative_prompt.is_some() && !row(self.provider).dialect.negative_prompt {
            return Err(SubmitError::Refused(format!(
                "{} has no negative prompt field; describe what to avoid inside the prompt instead \
                 (Kling's prompt \"can include positive and negative descriptions\"), or use novita/highway",
                self.provider
            )));
        }
        Ok(spec)
    }

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
        hex(&Sha256::digest(canon.to_string().as_bytes()))
    }

    /// The model name this provider expects.
    pub fn wire_model(&self) -> String {
        (row(self.provider).dialect.wire_model)(self)
    }

    /// The JSON body of the create request.
    pub fn body(&self, external_task_id: Option<&str>) -> Value {
        self.body_with(self.image.wire(), external_task_id)
    }

    /// The body as the journal keeps it: base64 replaced by its length and hash.
    pub fn redacted_body(&self, external_task_id: Option<&str>) -> Value {
        let shown = Inputs {
            video_url: redact_link(&self.video_url),
            image: ImageInput::Url(String::new()),
            ..self.clone()
        };
        shown.body_with(&self.image.redacted(), external_task_id)
    }

    fn body_with(&self, image: &str, external_task_id: Option<&str>) -> Value {
        Value::Object((row(self.provider).dialect.body)(
            self,
            image,
            external_task_id,
        ))
    }
}

pub fn default_base_url(provider: Provider) -> &'static str {
    row(provider).base_url
}

/// `PREFLIGHT_<PROVIDER>_BASE_URL`.
pub fn base_url_env(provider: Provider) -> String {
    format!(
        "PREFLIGHT_{}_BASE_URL",
        provider.name().to_ascii_uppercase()
    )
}

pub fn create_path(provider: Provider) -> &'static str {
    row(provider).create_path
}

/// Path (and query) to look a task up by its id (or, at Kling, its external id).
pub fn query_path(provider: Provider, id: &str) -> String {
    row(provider)
        .query_path
        .replace("{id}", &encode_component(id))
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

fn parse_json(provider: Provider, body: &str) -> Result<Value, SubmitError> {
    serde_json::from_str(body).map_err(|e| {
        let head: String = body.chars().take(200).collect();
        protocol(provider, format!("not JSON ({e}): {head}"))
    })
}

/// The task id from a successful (2xx) create response.
pub fn parse_create(provider: Provider, body: &str) -> Result<String, SubmitError> {
    let v = parse_json(provider, body)?;
    (row(provider).dialect.parse_create)(provider, &v)
}

/// A task from a successful (2xx) query response.
pub fn parse_task(provider: Provider, body: &str) -> Result<TaskState, SubmitError> {
    let v = parse_json(provider, body)?;
    (row(provider).dialect.parse_task)(provider, &v)
}

/// The typed error for a non-success answer.
pub fn parse_error(
    provider: Provider,
    http: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> SubmitError {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    (row(provider).dialect.parse_error)(&ErrorAnswer {
        provider,
        http,
        json: &json,
        head: body.chars().take(300).collect(),
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(provider: Provider) -> Inputs {
        Inputs {
            provider,
            model: Model::KlingV3,
            mode: Mode::Pro,
            orientation: Orientation::Video,
            image: ImageInput::Url("https://e.com/a.jpg".into()),
            video_url: "https://e.com/d.mp4".into(),
            video_sha256: None,
            prompt: None,
            negative_prompt: None,
            keep_sound: Some(false),
        }
    }

    #[test]
    fn every_provider_has_one_row_agreeing_with_its_spec() {
        for p in Provider::ALL {
            assert_eq!(ROWS.iter().filter(|r| r.provider == p).count(), 1, "{p}");
            for m in p.models() {
                let spec = Spec::lookup(p, *m, Orientation::Video).unwrap();
                assert_eq!(
                    row(p).image_links_only,
                    spec.image.transport == preflight::spec::Transport::UrlOnly,
                    "{p}"
                );
            }
        }
        assert_eq!(
            query_path(Provider::Novita, "a b"),
            "/v3/async/task-result?task_id=a%20b"
        );
    }

    #[test]
    fn key_changes_with_every_setting() {
        let a = inputs(Provider::Kling);
        let mut b = a.clone();
        assert_eq!(a.key(), b.key());
        b.mode = Mode::Std;
        assert_ne!(a.key(), b.key());
        let mut c = a.clone();
        c.prompt = Some("x".into());
        assert_ne!(a.key(), c.key());
        let mut d = a.clone();
        d.provider = Provider::Powertokens;
        assert_ne!(a.key(), d.key());
    }

    #[test]
    fn novita_model_follows_mode_and_sound_is_boolean() {
        let b = inputs(Provider::Novita).body(None);
        assert_eq!(b["model_name"], "kling-v3-0-pro");
        assert_eq!(b["keep_original_sound"], json!(false));
    }

    #[test]
    fn kling_error_codes_are_typed() {
        let e = parse_error(
            Provider::Kling,
            429,
            r#"{"code":1303,"message":"busy"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::RateLimited { .. }));
        let e = parse_error(Provider::Kling, 504, r#"{"code":5002,"message":"t"}"#, None);
        assert!(e.maybe_created());
        let e = parse_error(
            Provider::Kling,
            401,
            r#"{"code":1002,"message":"bad"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::Auth { .. }));
        let e = parse_error(
            Provider::Kling,
            400,
            r#"{"code":1301,"message":"no"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::ContentPolicy { .. }));
        let e = parse_error(
            Provider::Kling,
            400,
            r#"{"code":1201,"message":"mode bad"}"#,
            None,
        );
        assert!(e.to_string().contains("mode bad"));
    }

    #[test]
    fn aihubmax_completed_without_results_is_not_done() {
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","progress":100,"results":[]}"#,
        )
        .unwrap();
        assert_eq!(t.status, Status::Processing);
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","results":[{"url":"https://x/v.mp4"}]}"#,
        )
        .unwrap();
        assert_eq!(t.videos, vec!["https://x/v.mp4"]);
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","results":["https://x/w.mp4"]}"#,
        )
        .unwrap();
        assert_eq!(t.status, Status::Succeeded);
        assert_eq!(t.videos, vec!["https://x/w.mp4"]);
    }
}
