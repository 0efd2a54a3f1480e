//! WaveSpeed's v3 API: the model and the mode are in the create path; the
//! envelopes are `{code, message, data}` where `code` 200 is success; a task's
//! `data.status` is `created | processing | completed | failed`, with
//! `outputs: [URL]`.

use preflight::{Model, Provider};
use serde_json::{json, Map, Value};

use super::{by_http_status, envelope_200, first_str, id_at, links_at, protocol, status_among};
use super::{str_at, task_state, Answer, Dialect};
use crate::error::SubmitError;
use crate::task::{Inputs, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "wavespeed",
    negative_prompt: true,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

/// `kling-v3.0-pro`: the part of the create path after `kwaivgi/`.
fn wire_model(inputs: &Inputs) -> String {
    let version = match inputs.model {
        Model::KlingV3 => "v3.0",
        Model::KlingV2_6 => "v2.6",
    };
    format!("kling-{version}-{}", inputs.mode.name())
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("image".into(), json!(image));
    m.insert("video".into(), json!(inputs.video_url));
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
        m.insert("keep_original_sound".into(), json!(k));
    }
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    id_at(v, "/data/id")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no data.id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    let d = v.get("data").ok_or_else(|| protocol(provider, "no data"))?;
    let word = str_at(d, "/status").unwrap_or("");
    let status = status_among(
        provider,
        "status",
        word,
        &[
            ("created", Status::Queued),
            ("processing", Status::Processing),
            ("completed", Status::Succeeded),
            ("failed", Status::Failed),
        ],
    )?;
    let videos = links_at(d.get("outputs"), "url");
    Ok(task_state(
        d,
        "/id",
        status,
        word,
        videos,
        str_at(d, "/error"),
    ))
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let message = first_str(a.json, &["/message", "/error", "/data/error"])
        .map(String::from)
        .unwrap_or_else(|| a.head.clone());
    by_http_status(a, message)
}
