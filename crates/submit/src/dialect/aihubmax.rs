//! aihubmax (on the Evolink platform): OpenAI-like tasks `{id, status,
//! progress, results}` and errors `{error: {message, type, code}}`.

use preflight::Provider;
use serde_json::{json, Map, Value};

use super::{
    by_http_status, downgrade_if_empty, id_at, links_at, progress_at, protocol, status_of, str_at,
    yes_no, Answer, Dialect,
};
use crate::error::SubmitError;
use crate::task::{Inputs, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "aihubmax",
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
    format!("{}-motion-control", inputs.model.name())
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("model".into(), json!(wire_model(inputs)));
    m.insert("image_url".into(), json!(image));
    m.insert("video_url".into(), json!(inputs.video_url));
    m.insert("mode".into(), json!(inputs.mode.name()));
    if let Some(p) = &inputs.prompt {
        m.insert("prompt".into(), json!(p));
    }
    m.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    if let Some(k) = inputs.keep_sound {
        m.insert("keep_original_sound".into(), json!(yes_no(k)));
    }
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    id_at(v, "/id")
        .or_else(|| id_at(v, "/task_id"))
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    let word = str_at(v, "/status").unwrap_or("").to_string();
    let status = status_of(
        provider,
        "status",
        &word,
        ["pending", "processing", "completed", "failed"],
    )?;
    // `results` holds URL strings or `{url}` objects.
    let videos = links_at(v.get("results"), "url");
    let message = str_at(v, "/error/message")
        .or_else(|| str_at(v, "/error"))
        .map(String::from);
    Ok(TaskState {
        task_id: id_at(v, "/id").unwrap_or_default(),
        status: downgrade_if_empty(status, &videos),
        provider_status: if status == Status::Succeeded && videos.is_empty() {
            "completed (no result links yet)".into()
        } else {
            word
        },
        progress: progress_at(v, "/progress"),
        videos,
        message,
    })
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let provider = a.provider;
    let message = str_at(a.json, "/error/message")
        .map(String::from)
        .unwrap_or_else(|| a.head.clone());
    let kind = format!(
        "{} {}",
        str_at(a.json, "/error/type").unwrap_or(""),
        a.json
            .pointer("/error/code")
            .map(|c| c.to_string())
            .unwrap_or_default()
    )
    .to_ascii_lowercase();
    if ["content", "policy", "sensitive"]
        .iter()
        .any(|w| kind.contains(w))
    {
        SubmitError::ContentPolicy { provider, message }
    } else if ["quota", "balance", "insufficient"]
        .iter()
        .any(|w| kind.contains(w))
    {
        SubmitError::Balance { provider, message }
    } else {
        by_http_status(a, message)
    }
}
