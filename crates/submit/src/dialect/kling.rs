//! Kling's own API, which powertokens serves under `/kling`: an envelope
//! `{code, message, request_id, data}` where `code` 0 is success.

use preflight::Provider;
use serde_json::{json, Map, Value};

use super::{
    by_http_status, downgrade_if_empty, id_at, links_at, protocol, status_of, str_at, yes_no,
    Answer, Dialect,
};
use crate::error::SubmitError;
use crate::task::{Inputs, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "kling",
    negative_prompt: false,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

fn wire_model(inputs: &Inputs) -> String {
    inputs.model.name().to_string()
}

fn body(inputs: &Inputs, image: &str, external_task_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("model_name".into(), json!(wire_model(inputs)));
    m.insert("image_url".into(), json!(image));
    m.insert("video_url".into(), json!(inputs.video_url));
    m.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    m.insert("mode".into(), json!(inputs.mode.name()));
    if let Some(p) = &inputs.prompt {
        m.insert("prompt".into(), json!(p));
    }
    if let Some(k) = inputs.keep_sound {
        m.insert("keep_original_sound".into(), json!(yes_no(k)));
    }
    if let Some(id) = external_task_id {
        m.insert("external_task_id".into(), json!(id));
    }
    m
}

/// A 2xx answer can still carry an error code.
fn envelope_ok(provider: Provider, v: &Value) -> Result<(), SubmitError> {
    match v.get("code").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(_) => Err(parse_error(&Answer {
            provider,
            http: 200,
            json: v,
            head: String::new(),
            retry_after: None,
        })),
        None => Err(protocol(provider, "envelope without `code`")),
    }
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    envelope_ok(provider, v)?;
    id_at(v, "/data/task_id")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no data.task_id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    envelope_ok(provider, v)?;
    let d = v.get("data").ok_or_else(|| protocol(provider, "no data"))?;
    let word = str_at(d, "/task_status").unwrap_or("").to_string();
    let status = status_of(
        provider,
        "task_status",
        &word,
        ["submitted", "processing", "succeed", "failed"],
    )?;
    let videos = links_at(d.pointer("/task_result/videos"), "url");
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

/// Kling's documented codes (kling.ai/document-api/api/get-started/error-codes).
fn parse_error(a: &Answer<'_>) -> SubmitError {
    let provider = a.provider;
    let code = match a.json.get("code").and_then(Value::as_i64) {
        Some(code) if code != 0 => code,
        _ => return by_http_status(a, a.head.clone()),
    };
    let message = format!("code {code}: {}", str_at(a.json, "/message").unwrap_or(""));
    match code {
        1000..=1004 => SubmitError::Auth {
            provider,
            message,
            env: String::new(),
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
            retry_after: a.retry_after,
        },
        1304 => SubmitError::IpNotAllowed { provider, message },
        5000..=5999 => SubmitError::Server {
            provider,
            status: if a.http >= 500 { a.http } else { 500 },
            message,
        },
        _ => by_http_status(a, message),
    }
}
