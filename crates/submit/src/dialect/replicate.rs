//! Replicate's predictions API: `{input: {…}}` to the model's predictions
//! path; a prediction `{id, status, output, error}` with status `starting |
//! processing | succeeded | failed | canceled`; errors `{detail}`. The result
//! file is deleted an hour after the prediction ends.

use preflight::{Model, Provider};
use serde_json::{json, Map, Value};

use super::{
    by_http_status, first_str, id_at, links_at, protocol, status_among, str_at, task_state,
};
use super::{Answer, Dialect};
use crate::error::SubmitError;
use crate::task::{Inputs, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "replicate",
    negative_prompt: false,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

/// The model's name under `kwaivgi/`, in the create path.
fn wire_model(inputs: &Inputs) -> String {
    match inputs.model {
        Model::KlingV3 => "kling-v3-motion-control",
        Model::KlingV2_6 => "kling-v2.6-motion-control",
    }
    .to_string()
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut input = Map::new();
    input.insert("image".into(), json!(image));
    input.insert("video".into(), json!(inputs.video_url));
    if let Some(p) = &inputs.prompt {
        input.insert("prompt".into(), json!(p));
    }
    input.insert("mode".into(), json!(inputs.mode.name()));
    // Replicate's default is `image`: always said.
    input.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    if let Some(k) = inputs.keep_sound {
        input.insert("keep_original_sound".into(), json!(k));
    }
    let mut m = Map::new();
    m.insert("input".into(), Value::Object(input));
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    id_at(v, "/id")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    let word = str_at(v, "/status").unwrap_or("");
    let status = status_among(
        provider,
        "status",
        word,
        &[
            ("starting", Status::Queued),
            ("processing", Status::Processing),
            ("succeeded", Status::Succeeded),
            ("failed", Status::Failed),
            ("canceled", Status::Failed),
        ],
    )?;
    // `output` is the result URL, or a list of them.
    let videos = match v.get("output") {
        Some(Value::String(s)) => vec![s.clone()],
        other => links_at(other, "url"),
    };
    let message = match (str_at(v, "/error"), word) {
        (Some(e), _) if !e.is_empty() => Some(e),
        (_, "canceled") => Some("the prediction was canceled"),
        _ => None,
    };
    Ok(task_state(v, "/id", status, word, videos, message))
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let message = first_str(a.json, &["/detail", "/title"])
        .map(String::from)
        .unwrap_or_else(|| a.head.clone());
    by_http_status(a, message)
}
