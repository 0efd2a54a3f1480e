//! The request dialects: Kling's (kling, powertokens), novita's (novita,
//! highway), aihubmax's, and one per marketplace (fal, replicate, kie, piapi,
//! wavespeed). Each module knows one dialect's body, create answer, task
//! answer and errors; [`Dialect`] gathers them as plain functions so a
//! provider's row in the provider table names its dialect as data.
//!
//! Dialects sit below the provider table: they speak in [`crate::task`]'s
//! words and know nothing of rows, keys or HTTP.

use std::time::Duration;

use preflight::Provider;
use serde_json::{Map, Value};

use crate::error::SubmitError;
use crate::task::{Inputs, Status, TaskHandle, TaskState};

pub mod aihubmax;
pub mod fal;
pub mod kie;
pub mod kling;
pub mod novita;
pub mod piapi;
pub mod replicate;
pub mod wavespeed;

/// One request dialect.
pub struct Dialect {
    pub name: &'static str,
    /// Whether the body has a `negative_prompt` field.
    pub negative_prompt: bool,
    /// Whether the body has a `keep_original_sound` field.
    pub keep_sound: bool,
    /// The model as this dialect spells it: in the body, or in the create
    /// path where the row's path has `{model}`.
    pub wire_model: fn(&Inputs) -> String,
    /// The create body; `image` is the URL or the raw base64.
    pub body: fn(&Inputs, image: &str, external_task_id: Option<&str>) -> Map<String, Value>,
    /// The task id (and its addresses) from a 2xx create answer.
    pub parse_create: fn(Provider, &Value) -> Result<TaskHandle, SubmitError>,
    /// The task from a 2xx query answer. A dialect with `parse_result` says
    /// `Succeeded` without links when the result must be asked for.
    pub parse_task: fn(Provider, &Value) -> Result<TaskState, SubmitError>,
    /// The typed error for a non-2xx answer.
    pub parse_error: fn(&Answer<'_>) -> SubmitError,
    /// The answer to the result request (any HTTP status), where the status
    /// alone does not tell success from failure (fal).
    pub parse_result: Option<ParseResult>,
}

/// Reads the answer to a separate result request.
pub type ParseResult = fn(&Answer<'_>) -> Result<TaskState, SubmitError>;

/// An answer, as the dialects read it.
pub struct Answer<'a> {
    pub provider: Provider,
    pub http: u16,
    /// Parsed body (`Null` when it is not JSON).
    pub json: &'a Value,
    /// The body's start, for messages when nothing better is there.
    pub head: String,
    pub retry_after: Option<Duration>,
}

pub(crate) fn protocol(provider: Provider, message: impl Into<String>) -> SubmitError {
    SubmitError::Protocol {
        provider,
        message: message.into(),
    }
}

pub(crate) fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

pub(crate) fn id_at(v: &Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn progress_at(v: &Value, ptr: &str) -> Option<u32> {
    v.pointer(ptr)
        .and_then(Value::as_u64)
        .map(|p| p.min(100) as u32)
}

/// Links in an array of URL strings or of objects holding one under `field`.
pub(crate) fn links_at(array: Option<&Value>, field: &str) -> Vec<String> {
    array
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    o => o.get(field).and_then(Value::as_str).map(String::from),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Map the dialect's status word through `words` (queued, processing, succeeded, failed).
pub(crate) fn status_of(
    provider: Provider,
    field: &str,
    word: &str,
    words: [&str; 4],
) -> Result<Status, SubmitError> {
    const STATUSES: [Status; 4] = [
        Status::Queued,
        Status::Processing,
        Status::Succeeded,
        Status::Failed,
    ];
    words
        .iter()
        .position(|w| *w == word)
        .map(|i| STATUSES[i])
        .ok_or_else(|| protocol(provider, format!("unknown {field} `{word}`")))
}

/// Map the dialect's status word through `words`, each with its common status.
pub(crate) fn status_among(
    provider: Provider,
    field: &str,
    word: &str,
    words: &[(&str, Status)],
) -> Result<Status, SubmitError> {
    words
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, s)| *s)
        .ok_or_else(|| protocol(provider, format!("unknown {field} `{word}`")))
}

/// For envelopes `{code, …}` where `code` 200 is success: the error any other
/// code stands for, read as an HTTP status (kie, PiAPI and WaveSpeed use
/// HTTP-like codes), with the message at `message_ptrs`.
pub(crate) fn envelope_200(
    provider: Provider,
    v: &Value,
    parse_error: fn(&Answer<'_>) -> SubmitError,
) -> Result<(), SubmitError> {
    match v.get("code").and_then(Value::as_i64) {
        Some(200) | None => Ok(()),
        Some(code) => Err(parse_error(&Answer {
            provider,
            http: u16::try_from(code)
                .ok()
                .filter(|c| (100..600).contains(c))
                .unwrap_or(500),
            json: v,
            head: v.to_string().chars().take(300).collect(),
            retry_after: None,
        })),
    }
}

/// The first string found at any of `ptrs`.
pub(crate) fn first_str<'a>(v: &'a Value, ptrs: &[&str]) -> Option<&'a str> {
    ptrs.iter()
        .find_map(|p| str_at(v, p))
        .filter(|s| !s.is_empty())
}

pub(crate) fn task_state(
    v: &Value,
    id_ptr: &str,
    status: Status,
    word: &str,
    videos: Vec<String>,
    message: Option<&str>,
) -> TaskState {
    TaskState {
        task_id: id_at(v, id_ptr).unwrap_or_default(),
        status: downgrade_if_empty(status, &videos),
        provider_status: word.to_string(),
        progress: None,
        videos,
        message: message.filter(|m| !m.is_empty()).map(String::from),
    }
}

/// "Succeeded" without a link is not done yet (aihubmax fills `results` late).
pub(crate) fn downgrade_if_empty(status: Status, videos: &[String]) -> Status {
    if status == Status::Succeeded && videos.is_empty() {
        Status::Processing
    } else {
        status
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The typed error an HTTP status alone says, when the body says nothing better.
pub(crate) fn by_http_status(a: &Answer<'_>, message: String) -> SubmitError {
    let provider = a.provider;
    match a.http {
        401 => SubmitError::Auth {
            provider,
            message,
            env: String::new(),
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
            retry_after: a.retry_after,
        },
        400..=499 => SubmitError::InvalidParameter { provider, message },
        status => SubmitError::Server {
            provider,
            status,
            message,
        },
    }
}
