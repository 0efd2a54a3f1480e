//! PiAPI's task API: `{model: "kling", task_type: "motion_control", input}`;
//! envelopes `{code, data, message}` where `code` 200 is success; a task's
//! `data.status` is `pending | processing | staged | completed | failed`. Where
//! the result link sits is unconfirmed: `data.output.video_url`, or (as
//! community code reads it) `output.works[0].video.resource_without_watermark`;
//! both are read.

use preflight::{Model, Provider};
use serde_json::{json, Map, Value};

use super::{by_http_status, envelope_200, first_str, id_at, protocol, status_among, str_at};
use super::{task_state, Answer, Dialect};
use crate::error::SubmitError;
use crate::task::{Inputs, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "piapi",
    negative_prompt: false,
    keep_sound: true,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

/// The `version` field.
fn wire_model(inputs: &Inputs) -> String {
    match inputs.model {
        Model::KlingV3 => "3.0",
        Model::KlingV2_6 => "2.6",
    }
    .to_string()
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut input = Map::new();
    input.insert("image_url".into(), json!(image));
    input.insert("video_url".into(), json!(inputs.video_url));
    input.insert("motion_direction".into(), json!(inputs.orientation.name()));
    if let Some(k) = inputs.keep_sound {
        input.insert("keep_original_sound".into(), json!(k));
    }
    input.insert("mode".into(), json!(inputs.mode.name()));
    input.insert("version".into(), json!(wire_model(inputs)));
    if let Some(p) = &inputs.prompt {
        input.insert("prompt".into(), json!(p));
    }
    let mut m = Map::new();
    m.insert("model".into(), json!("kling"));
    m.insert("task_type".into(), json!("motion_control"));
    m.insert("input".into(), Value::Object(input));
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    id_at(v, "/data/task_id")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no data.task_id"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    let d = v.get("data").ok_or_else(|| protocol(provider, "no data"))?;
    let word = str_at(d, "/status").unwrap_or("");
    let status = status_among(
        provider,
        "status",
        // Some of PiAPI's pages capitalise the words.
        &word.to_ascii_lowercase(),
        &[
            ("pending", Status::Queued),
            ("staged", Status::Queued),
            ("processing", Status::Processing),
            ("completed", Status::Succeeded),
            ("failed", Status::Failed),
        ],
    )?;
    let videos: Vec<String> = first_str(
        d,
        &[
            "/output/video_url",
            "/output/works/0/video/resource_without_watermark",
            "/output/works/0/video/resource",
        ],
    )
    .map(|u| vec![u.to_string()])
    .unwrap_or_default();
    let message = first_str(d, &["/error/message", "/error/raw_message"]);
    Ok(task_state(d, "/task_id", status, word, videos, message))
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let message = first_str(
        a.json,
        &["/data/error/message", "/message", "/error/message"],
    )
    .map(String::from)
    .unwrap_or_else(|| a.head.clone());
    by_http_status(a, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_result_shapes_are_read() {
        for output in [
            json!({"video_url": "https://x/a.mp4"}),
            json!({"works": [{"video": {"resource_without_watermark": "https://x/a.mp4"}}]}),
        ] {
            let v = json!({"code": 200, "data": {"task_id": "p1", "status": "Completed", "output": output}});
            let t = parse_task(Provider::Piapi, &v).unwrap();
            assert_eq!(
                (t.status, t.videos.clone()),
                (Status::Succeeded, vec!["https://x/a.mp4".to_string()])
            );
        }
        let v = json!({"code": 200, "data": {"task_id": "p1", "status": "failed",
            "error": {"code": 10000, "message": "face not detected"}}});
        let t = parse_task(Provider::Piapi, &v).unwrap();
        assert_eq!(t.message.as_deref(), Some("face not detected"));
    }
}
