//! kie's market API: `{model, input: {…}}` to `createTask`; envelopes
//! `{code, msg, data}` where `code` 200 is success; a task `{state,
//! resultJson, failCode, failMsg}` whose `resultJson` is a JSON *string*
//! holding `{resultUrls: [...]}`. No sound field; the mode is a resolution.

use preflight::{Model, Provider};
use serde_json::{json, Map, Value};

use super::{by_http_status, envelope_200, first_str, id_at, links_at, protocol, status_among};
use super::{str_at, task_state, Answer, Dialect};
use crate::error::SubmitError;
use crate::task::{Inputs, Mode, Status, TaskHandle, TaskState};

pub const DIALECT: Dialect = Dialect {
    name: "kie",
    negative_prompt: false,
    keep_sound: false,
    wire_model,
    body,
    parse_create,
    parse_task,
    parse_error,
    parse_result: None,
};

fn wire_model(inputs: &Inputs) -> String {
    match inputs.model {
        Model::KlingV3 => "kling-3.0/motion-control",
        Model::KlingV2_6 => "kling-2.6/motion-control",
    }
    .to_string()
}

fn body(inputs: &Inputs, image: &str, _external_task_id: Option<&str>) -> Map<String, Value> {
    let mut input = Map::new();
    if let Some(p) = &inputs.prompt {
        input.insert("prompt".into(), json!(p));
    }
    input.insert("input_urls".into(), json!([image]));
    input.insert("video_urls".into(), json!([inputs.video_url]));
    input.insert(
        "mode".into(),
        json!(match inputs.mode {
            Mode::Std => "720p",
            Mode::Pro => "1080p",
        }),
    );
    input.insert(
        "character_orientation".into(),
        json!(inputs.orientation.name()),
    );
    let mut m = Map::new();
    m.insert("model".into(), json!(wire_model(inputs)));
    m.insert("input".into(), Value::Object(input));
    m
}

fn parse_create(provider: Provider, v: &Value) -> Result<TaskHandle, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    id_at(v, "/data/taskId")
        .map(TaskHandle::id)
        .ok_or_else(|| protocol(provider, "no data.taskId"))
}

/// `resultJson` is a string of JSON (an object is read too).
fn result_urls(provider: Provider, data: &Value) -> Result<Vec<String>, SubmitError> {
    let parsed = match data.get("resultJson") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map_err(|e| protocol(provider, format!("resultJson is not JSON ({e})")))?,
        Some(other) => other.clone(),
    };
    Ok(links_at(parsed.get("resultUrls"), "url"))
}

fn parse_task(provider: Provider, v: &Value) -> Result<TaskState, SubmitError> {
    envelope_200(provider, v, parse_error)?;
    let d = v.get("data").ok_or_else(|| protocol(provider, "no data"))?;
    let word = str_at(d, "/state").unwrap_or("");
    let status = status_among(
        provider,
        "state",
        word,
        &[
            ("waiting", Status::Queued),
            ("queuing", Status::Queued),
            ("generating", Status::Processing),
            ("success", Status::Succeeded),
            ("fail", Status::Failed),
        ],
    )?;
    let videos = result_urls(provider, d)?;
    let message = match (str_at(d, "/failMsg"), d.get("failCode")) {
        (Some(m), Some(c)) if !m.is_empty() && !c.is_null() && c != "" => Some(format!(
            "{m} (failCode {})",
            c.as_str().map_or(c.to_string(), String::from)
        )),
        (m, _) => m.map(String::from),
    };
    Ok(task_state(
        d,
        "/taskId",
        status,
        word,
        videos,
        message.as_deref(),
    ))
}

fn parse_error(a: &Answer<'_>) -> SubmitError {
    let message = first_str(a.json, &["/msg", "/message"])
        .map(String::from)
        .unwrap_or_else(|| a.head.clone());
    by_http_status(a, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_json_is_a_string_of_json() {
        let v = json!({"code": 200, "msg": "success", "data": {"taskId": "t1", "state": "success",
            "resultJson": "{\"resultUrls\":[\"https://x/r.mp4\"]}", "failCode": null, "failMsg": null}});
        let t = parse_task(Provider::Kie, &v).unwrap();
        assert_eq!(
            (t.status, t.videos.clone()),
            (Status::Succeeded, vec!["https://x/r.mp4".to_string()])
        );
        let v = json!({"code": 200, "data": {"taskId": "t1", "state": "fail", "resultJson": "",
            "failCode": "500", "failMsg": "no person found"}});
        let t = parse_task(Provider::Kie, &v).unwrap();
        assert_eq!(t.status, Status::Failed);
        assert_eq!(t.message.as_deref(), Some("no person found (failCode 500)"));
        let v = json!({"code": 200, "data": {"taskId": "t1", "state": "success", "resultJson": "{not json"}});
        assert!(matches!(
            parse_task(Provider::Kie, &v),
            Err(SubmitError::Protocol { .. })
        ));
    }

    #[test]
    fn envelope_codes_are_errors_even_in_a_200_answer() {
        let v = json!({"code": 402, "msg": "Credits insufficient"});
        assert!(matches!(
            parse_create(Provider::Kie, &v),
            Err(SubmitError::Balance { .. })
        ));
        let v = json!({"code": 500, "msg": "server exception"});
        assert!(parse_create(Provider::Kie, &v).unwrap_err().maybe_created());
    }
}
