//! fal's queue API: the model and the mode are in the create path; the
//! create answers `{request_id, status_url, response_url}`; the status is
//! `IN_QUEUE | IN_PROGRESS | COMPLETED` and a failed job ends `COMPLETED`
//! too: only the answer of `response_url` tells success (`{video: {url}}`)
//! from failure (an error answer with `detail`). That URL can answer 504 for
//! a finished job: it is asked again, not taken as a failure.

use preflight::{Model, Provider};
use serde_json::{json, Map, Value};

use super::{by_http_status, first_str, protocol, status_among, str_at, Answer, Dialect};
use crate::error::SubmitError;
use crate::task::{Inputs, Mode, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "fal",
    negative_prompt: false,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: Some(parse_result),
};

/// `v3/pro`: the part of the create path after `kling-video/`.
fn wire_model(inputs: &Inputs) -> String {
    let version = match inputs.model {
        Model::KlingV3 => "v3",
        Model::KlingV2_6 => "v2.6",
    };
    let mode = match inputs.mode {
        Mode::Std => "standard",
        Mode::Pro => "pro",
    };
    format!("{version}/{mode}")
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("image_url".into(), json!(image));
    m.insert("video_url".into(), json!(inputs.video_url));
    m.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    if let Some(p) = &inputs.prompt {
        m.insert("prompt".into(), json!(p));
    }
    if let Some(k) = inputs.keep_sound {
        m.insert("keep_original_sound".into(), json!(k));
    }
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    let id = super::id_at(v, "/request_id").ok_or_else(|| protocol(provider, "no request_id"))?;
    Ok(TaskHandle {
        id,
        status_url: str_at(v, "/status_url").map(String::from),
        response_url: str_at(v, "/response_url").map(String::from),
    })
}

/// `COMPLETED` is `Succeeded` without links: the result request decides.
fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    let word = str_at(v, "/status").unwrap_or("");
    let status = status_among(
        provider,
        "status",
        word,
        &[
            ("IN_QUEUE", Status::Queued),
            ("IN_PROGRESS", Status::Processing),
            ("COMPLETED", Status::Succeeded),
        ],
    )?;
    Ok(TaskState {
        task_id: super::id_at(v, "/request_id").unwrap_or_default(),
        status,
        provider_status: word.to_string(),
        progress: None,
        videos: Vec::new(),
        message: None,
    })
}

/// `detail` is a string, or a list of `{loc, msg, type}` (validation, 422).
fn detail(v: &Value) -> Option<String> {
    match v.get("detail")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| {
                    let msg = first_str(i, &["/msg", "/message"]).unwrap_or("invalid");
                    match i.get("loc").and_then(Value::as_array) {
                        Some(loc) => {
                            let at: Vec<String> = loc
                                .iter()
                                .map(|l| l.as_str().map_or(l.to_string(), String::from))
                                .collect();
                            format!("{}: {msg}", at.join("."))
                        }
                        None => msg.to_string(),
                    }
                })
                .collect();
            Some(parts.join("; "))
        }
        other => Some(other.to_string()),
    }
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let message = detail(a.json).unwrap_or_else(|| a.head.clone());
    by_http_status(a, message)
}

/// The answer of `GET response_url` for a `COMPLETED` job.
fn parse_result(a: &Answer<'_>) -> Result<TaskState, SubmitError> {
    let state = |status, word: String, videos, message| TaskState {
        task_id: String::new(),
        status,
        provider_status: word,
        progress: None,
        videos,
        message,
    };
    match a.http {
        200..=299 => match str_at(a.json, "/video/url") {
            Some(url) => Ok(state(
                Status::Succeeded,
                "COMPLETED".into(),
                vec![url.to_string()],
                None,
            )),
            None => Err(protocol(a.provider, "a completed result without video.url")),
        },
        // The job is finished; its result is not ready to be read (yet).
        429 | 502..=504 => Ok(state(
            Status::Processing,
            format!("COMPLETED, result not readable yet (HTTP {})", a.http),
            Vec::new(),
            None,
        )),
        _ => Ok(state(
            Status::Failed,
            "COMPLETED (failed)".into(),
            Vec::new(),
            Some(detail(a.json).unwrap_or_else(|| format!("HTTP {}: {}", a.http, a.head))),
        )),
    }
}
