//! The three request dialects: Kling's (kling, powertokens), novita's (novita,
//! highway) and aihubmax's. Each module knows one dialect's body, create answer,
//! task answer and errors; [`Dialect`] gathers them as plain functions so a
//! provider's row in [`crate::provider::ROWS`] names its dialect as data.

use std::time::Duration;

use preflight::Provider;
use serde_json::{Map, Value};

use crate::error::SubmitError;
use crate::provider::{Inputs, Status, TaskState};

pub mod aihubmax;
pub mod kling;
pub mod novita;

/// One request dialect.
pub struct Dialect {
    pub name: &'static str,
    /// Whether the body has a `negative_prompt` field.
    pub negative_prompt: bool,
    /// The model name as this dialect spells it.
    pub wire_model: fn(&Inputs) -> String,
    /// The create body; `image` is the URL or the raw base64.
    pub body: fn(&Inputs, image: &str, external_task_id: Option<&str>) -> Map<String, Value>,
    /// The task id from a 2xx create answer.
    pub parse_create: fn(Provider, &Value) -> Result<String, SubmitError>,
    /// The task from a 2xx query answer.
    pub parse_task: fn(Provider, &Value) -> Result<TaskState, SubmitError>,
    /// The typed error for a non-2xx answer.
    pub parse_error: fn(&ErrorAnswer<'_>) -> SubmitError,
}

/// A non-success answer, as the dialects read it.
pub struct ErrorAnswer<'a> {
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
pub(crate) fn by_http_status(a: &ErrorAnswer<'_>, message: String) -> SubmitError {
    let provider = a.provider;
    match a.http {
        401 => SubmitError::Auth {
            provider,
            message,
            env: crate::auth::key_hint(provider),
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
