//! novita's task API, which highway serves too: create answers `{task_id}`,
//! the result endpoint `{task, videos}`, errors `{code, reason, message}`.

use preflight::Provider;
use serde_json::{json, Map, Value};

use super::{
    by_http_status, downgrade_if_empty, id_at, links_at, progress_at, protocol, status_of, str_at,
    Answer, Dialect,
};
use crate::error::SubmitError;
use crate::task::{Inputs, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "novita",
    negative_prompt: true,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

/// novita and highway sell only v3; the mode is part of the model name.
fn wire_model(inputs: &Inputs) -> String {
    format!("kling-v3-0-{}", inputs.mode.name())
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("image".into(), json!(image));
    m.insert("video".into(), json!(inputs.video_url));
    m.insert("model_name".into(), json!(wire_model(inputs)));
    m.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    if let Some(p) = &inputs.prompt {
        m.insert("prompt".into(), json!(p));
    }
    if let Some(p) = &inputs.negative_prompt {
        m.insert("negative_prompt".into(), json!(p));
    }
    if let Some(k) = inputs.keep_sound {
        // A JSON boolean here, unlike the other dialects' yes/no.
        m.insert("keep_original_sound".into(), json!(k));
    }
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    id_at(v, "/task_id")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no task_id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    let word = str_at(v, "/task/status").unwrap_or("").to_string();
    let status = status_of(
        provider,
        "task.status",
        &word,
        [
            "TASK_STATUS_QUEUED",
            "TASK_STATUS_PROCESSING",
            "TASK_STATUS_SUCCEED",
            "TASK_STATUS_FAILED",
        ],
    )?;
    let videos = links_at(v.get("videos"), "video_url");
    Ok(TaskState {
        task_id: id_at(v, "/task/task_id").unwrap_or_default(),
        status: downgrade_if_empty(status, &videos),
        provider_status: word,
        progress: progress_at(v, "/task/progress_percent"),
        videos,
        message: str_at(v, "/task/reason")
            .filter(|s| !s.is_empty())
            .map(String::from),
    })
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let provider = a.provider;
    let reason = str_at(a.json, "/reason").unwrap_or("");
    let message = match str_at(a.json, "/message") {
        Some(m) if !reason.is_empty() => format!("{reason}: {m}"),
        Some(m) => m.to_string(),
        None => a.head.clone(),
    };
    match reason {
        "FAILED_TO_AUTH" => SubmitError::Auth {
            provider,
            message,
            env: String::new(),
        },
        "NOT_ENOUGH_BALANCE" => SubmitError::Balance { provider, message },
        "RATE_LIMIT_EXCEEDED" => SubmitError::RateLimited {
            provider,
            message,
            attempts: 1,
            retry_after: a.retry_after,
        },
        "INVALID_REQUEST_BODY" => SubmitError::InvalidParameter { provider, message },
        r if r.contains("POLICY") || r.contains("SENSITIVE") || r.contains("NSFW") => {
            SubmitError::ContentPolicy { provider, message }
        }
        _ => by_http_status(a, message),
    }
}
