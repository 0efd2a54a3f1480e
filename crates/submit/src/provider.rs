//! What each provider calls things: paths, body fields, status words, envelopes
//! and error codes, exactly as `shared/providers.md` describes them. Pure: no I/O.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use preflight::{Model, Orientation, Provider, Spec};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::SubmitError;

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
            ImageInput::Url(u) => write!(f, "Url({u})"),
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
            ImageInput::Base64 { source, .. } => source,
        }
    }

    /// Hash identifying the image: of the bytes, or of the URL.
    pub fn sha256(&self) -> String {
        match self {
            ImageInput::Url(u) => hex(&Sha256::digest(u.as_bytes())),
            ImageInput::Base64 { sha256, .. } => sha256.clone(),
        }
    }

    fn wire(&self) -> &str {
        match self {
            ImageInput::Url(u) => u,
            ImageInput::Base64 { data, .. } => data,
        }
    }

    fn redacted(&self) -> String {
        match self {
            ImageInput::Url(u) => u.clone(),
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
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    /// `keep_original_sound`; `None` leaves the provider's default (keep).
    pub keep_sound: Option<bool>,
}

pub fn is_url(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// Providers that accept a caller-chosen `external_task_id` and can be queried by it.
pub fn supports_external_id(provider: Provider) -> bool {
    matches!(provider, Provider::Kling | Provider::Powertokens)
}

impl Inputs {
    /// Refuse, before any request, what the provider would refuse anyway.
    pub fn validate(&self) -> Result<Spec, SubmitError> {
        let spec = Spec::lookup(self.provider, self.model, self.orientation)
            .map_err(|e| SubmitError::Refused(e.to_string()))?;
        if !is_url(&self.video_url) {
            return Err(SubmitError::Refused(format!(
                "{} needs the video as a public http(s) URL, not `{}`: check it with `preflight check`, \
                 upload it somewhere public, and pass the link to --video",
                self.provider, self.video_url
            )));
        }
        if let ImageInput::Url(u) = &self.image {
            if !is_url(u) {
                return Err(SubmitError::Refused(format!(
                    "the image `{u}` is neither a file nor an http(s) URL"
                )));
            }
        }
        if matches!(self.image, ImageInput::Base64 { .. })
            && spec.image.transport == preflight::spec::Transport::UrlOnly
        {
            return Err(SubmitError::Refused(format!(
                "{} accepts only a public URL for the image: upload {} somewhere public and pass the link to --image",
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
        if self.negative_prompt.is_some()
            && !matches!(self.provider, Provider::Novita | Provider::Highway)
        {
            return Err(SubmitError::Refused(format!(
                "{} has no negative prompt field; describe what to avoid inside --prompt instead \
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
            "video_url": self.video_url,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "keep_sound": self.keep_sound,
        });
        hex(&Sha256::digest(canon.to_string().as_bytes()))
    }

    /// The model name this provider expects.
    pub fn wire_model(&self) -> String {
        match self.provider {
            Provider::Kling | Provider::Powertokens => self.model.name().to_string(),
            // novita/highway sell only v3; the mode is part of the model name.
            Provider::Novita | Provider::Highway => format!("kling-v3-0-{}", self.mode.name()),
            Provider::Aihubmax => format!("{}-motion-control", self.model.name()),
        }
    }

    /// The JSON body of the create request.
    pub fn body(&self, external_task_id: Option<&str>) -> Value {
        self.body_with(self.image.wire().to_string(), external_task_id)
    }

    /// The body as the journal keeps it: base64 replaced by its length and hash.
    pub fn redacted_body(&self, external_task_id: Option<&str>) -> Value {
        self.body_with(self.image.redacted(), external_task_id)
    }

    fn body_with(&self, image: String, external_task_id: Option<&str>) -> Value {
        let mut m = Map::new();
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        match self.provider {
            Provider::Kling | Provider::Powertokens => {
                m.insert("model_name".into(), json!(self.wire_model()));
                m.insert("image_url".into(), json!(image));
                m.insert("video_url".into(), json!(self.video_url));
                m.insert(
                    "character_orientation".into(),
                    json!(self.orientation.name()),
                );
                m.insert("mode".into(), json!(self.mode.name()));
                if let Some(p) = &self.prompt {
                    m.insert("prompt".into(), json!(p));
                }
                if let Some(k) = self.keep_sound {
                    m.insert("keep_original_sound".into(), json!(yes_no(k)));
                }
                if let Some(id) = external_task_id {
                    m.insert("external_task_id".into(), json!(id));
                }
            }
            Provider::Novita | Provider::Highway => {
                m.insert("image".into(), json!(image));
                m.insert("video".into(), json!(self.video_url));
                m.insert("model_name".into(), json!(self.wire_model()));
                m.insert(
                    "character_orientation".into(),
                    json!(self.orientation.name()),
                );
                if let Some(p) = &self.prompt {
                    m.insert("prompt".into(), json!(p));
                }
                if let Some(p) = &self.negative_prompt {
                    m.insert("negative_prompt".into(), json!(p));
                }
                if let Some(k) = self.keep_sound {
                    m.insert("keep_original_sound".into(), json!(k));
                }
            }
            Provider::Aihubmax => {
                m.insert("model".into(), json!(self.wire_model()));
                m.insert("image_url".into(), json!(image));
                m.insert("video_url".into(), json!(self.video_url));
                m.insert("mode".into(), json!(self.mode.name()));
                if let Some(p) = &self.prompt {
                    m.insert("prompt".into(), json!(p));
                }
                m.insert(
                    "character_orientation".into(),
                    json!(self.orientation.name()),
                );
                if let Some(k) = self.keep_sound {
                    m.insert("keep_original_sound".into(), json!(yes_no(k)));
                }
            }
        }
        Value::Object(m)
    }
}

pub fn default_base_url(provider: Provider) -> &'static str {
    match provider {
        Provider::Kling => "https://api-singapore.klingai.com",
        Provider::Powertokens => "https://api.powertokens.ai",
        Provider::Novita => "https://api.novita.ai",
        Provider::Highway => "https://api.highwayapi.ai",
        Provider::Aihubmax => "https://api.aihubmax.com",
    }
}

/// `PREFLIGHT_<PROVIDER>_BASE_URL`.
pub fn base_url_env(provider: Provider) -> String {
    format!(
        "PREFLIGHT_{}_BASE_URL",
        provider.name().to_ascii_uppercase()
    )
}

pub fn create_path(provider: Provider) -> &'static str {
    match provider {
        Provider::Kling => "/v1/videos/motion-control",
        Provider::Powertokens => "/kling/v1/videos/motion-control",
        Provider::Novita | Provider::Highway => "/v3/async/kling-v3.0-motion-control",
        Provider::Aihubmax => "/v1/videos/generations",
    }
}

/// Path (and query) to look a task up by its id (or, at Kling, its external id).
pub fn query_path(provider: Provider, id: &str) -> String {
    let id = encode_component(id);
    match provider {
        Provider::Kling => format!("/v1/videos/motion-control/{id}"),
        Provider::Powertokens => format!("/kling/v1/videos/motion-control/{id}"),
        Provider::Novita | Provider::Highway => format!("/v3/async/task-result?task_id={id}"),
        Provider::Aihubmax => format!("/v1/tasks/{id}"),
    }
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

fn protocol(provider: Provider, message: impl Into<String>) -> SubmitError {
    SubmitError::Protocol {
        provider,
        message: message.into(),
    }
}

fn parse_json(provider: Provider, body: &str) -> Result<Value, SubmitError> {
    serde_json::from_str(body).map_err(|e| {
        let head: String = body.chars().take(200).collect();
        protocol(provider, format!("not JSON ({e}): {head}"))
    })
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn id_at(v: &Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The task id from a successful (2xx) create response.
pub fn parse_create(provider: Provider, body: &str) -> Result<String, SubmitError> {
    let v = parse_json(provider, body)?;
    match provider {
        Provider::Kling | Provider::Powertokens => {
            kling_code_ok(provider, 200, &v, None)?;
            id_at(&v, "/data/task_id").ok_or_else(|| protocol(provider, "no data.task_id"))
        }
        Provider::Novita | Provider::Highway => {
            id_at(&v, "/task_id").ok_or_else(|| protocol(provider, "no task_id"))
        }
        Provider::Aihubmax => id_at(&v, "/id")
            .or_else(|| id_at(&v, "/task_id"))
            .ok_or_else(|| protocol(provider, "no id")),
    }
}

/// A task from a successful (2xx) query response.
pub fn parse_task(provider: Provider, body: &str) -> Result<TaskState, SubmitError> {
    let v = parse_json(provider, body)?;
    match provider {
        Provider::Kling | Provider::Powertokens => {
            kling_code_ok(provider, 200, &v, None)?;
            let d = v.get("data").ok_or_else(|| protocol(provider, "no data"))?;
            let word = str_at(d, "/task_status").unwrap_or("").to_string();
            let status = match word.as_str() {
                "submitted" => Status::Queued,
                "processing" => Status::Processing,
                "succeed" => Status::Succeeded,
                "failed" => Status::Failed,
                other => return Err(protocol(provider, format!("unknown task_status `{other}`"))),
            };
            let videos: Vec<String> = d
                .pointer("/task_result/videos")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| str_at(x, "/url").map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            Ok(TaskState {
                task_id: id_at(d, "/task_id").unwrap_or_default(),
                status: downgrade_if_empty(status, &videos),
                provider_status: word,
                progress: None,
                videos,
                message: str_at(d, "/task_status_msg")
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            })
        }
        Provider::Novita | Provider::Highway => {
            let word = str_at(&v, "/task/status").unwrap_or("").to_string();
            let status = match word.as_str() {
                "TASK_STATUS_QUEUED" => Status::Queued,
                "TASK_STATUS_PROCESSING" => Status::Processing,
                "TASK_STATUS_SUCCEED" => Status::Succeeded,
                "TASK_STATUS_FAILED" => Status::Failed,
                other => return Err(protocol(provider, format!("unknown task.status `{other}`"))),
            };
            let videos: Vec<String> = v
                .get("videos")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| str_at(x, "/video_url").map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            Ok(TaskState {
                task_id: id_at(&v, "/task/task_id").unwrap_or_default(),
                status: downgrade_if_empty(status, &videos),
                provider_status: word,
                progress: v
                    .pointer("/task/progress_percent")
                    .and_then(Value::as_u64)
                    .map(|p| p.min(100) as u32),
                videos,
                message: str_at(&v, "/task/reason")
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            })
        }
        Provider::Aihubmax => {
            let word = str_at(&v, "/status").unwrap_or("").to_string();
            let status = match word.as_str() {
                "pending" => Status::Queued,
                "processing" => Status::Processing,
                "completed" => Status::Succeeded,
                "failed" => Status::Failed,
                other => return Err(protocol(provider, format!("unknown status `{other}`"))),
            };
            let videos: Vec<String> = v
                .get("results")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| match x {
                            Value::String(s) => Some(s.clone()),
                            o => str_at(o, "/url").map(String::from),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let message = str_at(&v, "/error/message")
                .or_else(|| str_at(&v, "/error"))
                .map(String::from);
            Ok(TaskState {
                task_id: id_at(&v, "/id").unwrap_or_default(),
                status: downgrade_if_empty(status, &videos),
                provider_status: if status == Status::Succeeded && videos.is_empty() {
                    "completed (no result links yet)".into()
                } else {
                    word
                },
                progress: v
                    .get("progress")
                    .and_then(Value::as_u64)
                    .map(|p| p.min(100) as u32),
                videos,
                message,
            })
        }
    }
}

/// "Succeeded" without a link is not done yet (aihubmax fills `results` late).
fn downgrade_if_empty(status: Status, videos: &[String]) -> Status {
    if status == Status::Succeeded && videos.is_empty() {
        Status::Processing
    } else {
        status
    }
}

/// Kling's envelope: `code` 0 is success, anything else is a typed error.
fn kling_code_ok(
    provider: Provider,
    http: u16,
    v: &Value,
    retry_after: Option<Duration>,
) -> Result<(), SubmitError> {
    match v.get("code").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => Err(kling_error(
            provider,
            http,
            code,
            str_at(v, "/message").unwrap_or(""),
            retry_after,
        )),
        None => Err(protocol(provider, "envelope without `code`")),
    }
}

fn kling_error(
    provider: Provider,
    http: u16,
    code: i64,
    message: &str,
    retry_after: Option<Duration>,
) -> SubmitError {
    let message = format!("code {code}: {message}");
    match code {
        1000..=1004 => SubmitError::Auth {
            provider,
            message,
            env: crate::auth::key_env(provider),
        },
        1100..=1102 => SubmitError::Balance { provider, message },
        1103 => SubmitError::NoModelAccess { provider, message },
        1200 | 1201 => SubmitError::InvalidParameter { provider, message },
        1202 | 1203 => SubmitError::NotFound {
            provider,
            task: message,
        },
        1300 | 1301 => SubmitError::ContentPolicy { provider, message },
        1302 | 1303 => SubmitError::RateLimited {
            provider,
            message,
            attempts: 1,
            retry_after,
        },
        1304 => SubmitError::IpNotAllowed { provider, message },
        5000..=5999 => SubmitError::Server {
            provider,
            status: if http >= 500 { http } else { 500 },
            message,
        },
        _ => by_http_status(provider, http, message, retry_after),
    }
}

fn by_http_status(
    provider: Provider,
    http: u16,
    message: String,
    retry_after: Option<Duration>,
) -> SubmitError {
    match http {
        401 => SubmitError::Auth {
            provider,
            message,
            env: crate::auth::key_env(provider),
        },
        402 => SubmitError::Balance { provider, message },
        403 => SubmitError::NoModelAccess { provider, message },
        404 => SubmitError::NotFound {
            provider,
            task: message,
        },
        429 => SubmitError::RateLimited {
            provider,
            message,
            attempts: 1,
            retry_after,
        },
        400..=499 => SubmitError::InvalidParameter { provider, message },
        _ => SubmitError::Server {
            provider,
            status: http,
            message,
        },
    }
}

/// The typed error for a non-success answer.
pub fn parse_error(
    provider: Provider,
    http: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> SubmitError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let head: String = body.chars().take(300).collect();
    match provider {
        Provider::Kling | Provider::Powertokens => match v.get("code").and_then(Value::as_i64) {
            Some(code) if code != 0 => kling_error(
                provider,
                http,
                code,
                str_at(&v, "/message").unwrap_or(""),
                retry_after,
            ),
            _ => by_http_status(provider, http, head, retry_after),
        },
        Provider::Novita | Provider::Highway => {
            let reason = str_at(&v, "/reason").unwrap_or("");
            let message = match str_at(&v, "/message") {
                Some(m) if !reason.is_empty() => format!("{reason}: {m}"),
                Some(m) => m.to_string(),
                None => head,
            };
            match reason {
                "FAILED_TO_AUTH" => SubmitError::Auth {
                    provider,
                    message,
                    env: crate::auth::key_env(provider),
                },
                "NOT_ENOUGH_BALANCE" => SubmitError::Balance { provider, message },
                "RATE_LIMIT_EXCEEDED" => SubmitError::RateLimited {
                    provider,
                    message,
                    attempts: 1,
                    retry_after,
                },
                "INVALID_REQUEST_BODY" => SubmitError::InvalidParameter { provider, message },
                r if r.contains("POLICY") || r.contains("SENSITIVE") || r.contains("NSFW") => {
                    SubmitError::ContentPolicy { provider, message }
                }
                _ => by_http_status(provider, http, message, retry_after),
            }
        }
        Provider::Aihubmax => {
            let message = str_at(&v, "/error/message")
                .map(String::from)
                .unwrap_or(head);
            let kind = format!(
                "{} {}",
                str_at(&v, "/error/type").unwrap_or(""),
                v.pointer("/error/code")
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            )
            .to_ascii_lowercase();
            if kind.contains("content") || kind.contains("policy") || kind.contains("sensitive") {
                SubmitError::ContentPolicy { provider, message }
            } else if kind.contains("quota")
                || kind.contains("balance")
                || kind.contains("insufficient")
            {
                SubmitError::Balance { provider, message }
            } else {
                by_http_status(provider, http, message, retry_after)
            }
        }
    }
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
            prompt: None,
            negative_prompt: None,
            keep_sound: Some(false),
        }
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
