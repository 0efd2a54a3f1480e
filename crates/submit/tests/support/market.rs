//! The marketplaces in the fake server, written from `shared/providers.md`
//! ("Marketplaces that resell Kling Motion Control"): fal's queue API,
//! Replicate's predictions, kie's market jobs, PiAPI's tasks and WaveSpeed's
//! v3 API, each with its auth header, its body (a field its page does not
//! list is refused), its answers and its own upload API (fal: initiate then
//! PUT; Replicate, kie, WaveSpeed: multipart; PiAPI: base64 in JSON).

use serde_json::{json, Value};

use super::{json_reply, query_param, Call, Fake, Flavour, Recorded, Reply, View};

/// Which marketplace API and call a request is.
pub fn classify(method: &str, path: &str) -> Option<(Flavour, Call)> {
    let post = method == "POST";
    let bare = path.split('?').next().unwrap_or("");
    let tail = |prefix: &str, suffix: &str| -> Option<String> {
        bare.strip_prefix(prefix)?
            .strip_suffix(suffix)
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .map(String::from)
    };
    let found = if post
        && bare.starts_with("/fal-ai/kling-video/")
        && bare.ends_with("/motion-control")
    {
        (Flavour::Fal, Call::Create)
    } else if let Some(id) = tail("/fal-ai/kling-video/requests/", "/status") {
        (Flavour::Fal, Call::Query(id))
    } else if let Some(id) = tail("/fal-ai/kling-video/requests/", "") {
        (Flavour::Fal, Call::Result(id))
    } else if post && bare == "/storage/upload/initiate" {
        (Flavour::Fal, Call::Upload)
    } else if post && bare.starts_with("/v1/models/kwaivgi/") && bare.ends_with("/predictions") {
        (Flavour::Replicate, Call::Create)
    } else if let Some(id) = tail("/v1/predictions/", "") {
        (Flavour::Replicate, Call::Query(id))
    } else if post && bare == "/v1/files" {
        (Flavour::Replicate, Call::Upload)
    } else if post && bare == "/api/v1/jobs/createTask" {
        (Flavour::Kie, Call::Create)
    } else if bare == "/api/v1/jobs/recordInfo" {
        (Flavour::Kie, Call::Query(query_param(path, "taskId")))
    } else if post && bare == "/api/file-stream-upload" {
        (Flavour::Kie, Call::Upload)
    } else if post && bare == "/api/v1/task" {
        (Flavour::Piapi, Call::Create)
    } else if let Some(id) = tail("/api/v1/task/", "") {
        (Flavour::Piapi, Call::Query(id))
    } else if post && bare == "/api/ephemeral_resource" {
        (Flavour::Piapi, Call::Upload)
    } else if post && bare.starts_with("/api/v3/kwaivgi/") && bare.ends_with("/motion-control") {
        (Flavour::Wavespeed, Call::Create)
    } else if let Some(id) = tail("/api/v3/predictions/", "/result") {
        (Flavour::Wavespeed, Call::Query(id))
    } else if post && bare == "/api/v3/media/upload/binary" {
        (Flavour::Wavespeed, Call::Upload)
    } else {
        return None;
    };
    Some(found)
}

pub fn task_id(flavour: Flavour, n: usize) -> String {
    match flavour {
        Flavour::Fal => format!("{n:08x}-fa1a-4b2c-9d3e-6f7a8b9c0d1e"),
        Flavour::Replicate => format!("rpl{n:03}xq2w8m1kzr0cj6v4"),
        Flavour::Kie => format!("task_kling_{n:06}"),
        Flavour::Piapi => format!("{n:08}-9a1b-4c7d-8e9f-0a1b2c3d4e5f"),
        _ => format!("ws{n:010}"),
    }
}

/// The documented header carries the key (any key when none is set).
pub fn auth_ok(flavour: Flavour, req: &Recorded, key: Option<&str>) -> bool {
    let (header, prefix) = match flavour {
        Flavour::Fal => ("Authorization", "Key "),
        Flavour::Piapi => ("x-api-key", ""),
        _ => ("Authorization", "Bearer "),
    };
    let Some(value) = req.header(header).and_then(|v| v.strip_prefix(prefix)) else {
        return false;
    };
    match key {
        Some(k) => value == k,
        None => !value.is_empty(),
    }
}

pub fn auth_failed(flavour: Flavour) -> Reply {
    let body = match flavour {
        Flavour::Fal => json!({"detail": "No user found for Key ID and Secret"}),
        Flavour::Replicate => {
            json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401})
        }
        Flavour::Kie => json!({"code": 401, "msg": "You do not have access permissions"}),
        Flavour::Piapi => json!({"code": 401, "data": {}, "message": "Invalid API key"}),
        _ => json!({"code": 401, "message": "Unauthorized: invalid API key", "data": null}),
    };
    json_reply(401, body)
}

pub fn not_found(flavour: Flavour) -> Reply {
    let body = match flavour {
        Flavour::Fal => json!({"detail": "Request not found"}),
        Flavour::Replicate => json!({"title": "Not found", "detail": "Not found.", "status": 404}),
        Flavour::Kie => json!({"code": 404, "msg": "task not found"}),
        Flavour::Piapi => json!({"code": 404, "data": {}, "message": "task not found"}),
        _ => json!({"code": 404, "message": "prediction not found", "data": null}),
    };
    json_reply(404, body)
}

/// A create body's fields against the page: required ones there, nothing
/// else, values among the documented ones.
struct Shape {
    allowed: &'static [&'static str],
    required: &'static [&'static str],
}

fn check_fields(v: &Value, shape: &Shape, at: &str) -> Result<(), String> {
    let map = v.as_object().ok_or(format!("{at} is not an object"))?;
    if let Some(extra) = map.keys().find(|k| !shape.allowed.contains(&k.as_str())) {
        return Err(format!("{at}.{extra} is not a field of this model"));
    }
    if let Some(missing) = shape.required.iter().find(|k| !map.contains_key(**k)) {
        return Err(format!("{at}.{missing} is required"));
    }
    Ok(())
}

fn one_of(v: &Value, field: &str, values: &[&str]) -> Result<(), String> {
    match v.get(field) {
        None => Ok(()),
        Some(Value::String(s)) if values.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(format!("{field} must be one of {values:?}, not {other}")),
    }
}

fn boolean(v: &Value, field: &str) -> Result<(), String> {
    match v.get(field) {
        None | Some(Value::Bool(_)) => Ok(()),
        Some(other) => Err(format!("{field} must be a boolean, not {other}")),
    }
}

const ORIENTATIONS: &[&str] = &["image", "video"];

fn check_body(flavour: Flavour, path: &str, body: &Value) -> Result<(), String> {
    let bare = path.split('?').next().unwrap_or("");
    match flavour {
        Flavour::Fal => {
            let model = bare
                .trim_start_matches("/fal-ai/kling-video/")
                .trim_end_matches("/motion-control");
            let known = ["v3/standard", "v3/pro", "v2.6/standard", "v2.6/pro"];
            if !known.contains(&model) {
                return Err(format!("no model kling-video/{model}"));
            }
            check_fields(
                body,
                &Shape {
                    allowed: &[
                        "image_url",
                        "video_url",
                        "character_orientation",
                        "prompt",
                        "keep_original_sound",
                    ],
                    required: &["image_url", "video_url", "character_orientation"],
                },
                "body",
            )?;
            one_of(body, "character_orientation", ORIENTATIONS)?;
            boolean(body, "keep_original_sound")
        }
        Flavour::Replicate => {
            let known = [
                "/v1/models/kwaivgi/kling-v3-motion-control/predictions",
                "/v1/models/kwaivgi/kling-v2.6-motion-control/predictions",
            ];
            if !known.contains(&bare) {
                return Err(format!("no such model: {bare}"));
            }
            check_fields(
                body,
                &Shape {
                    allowed: &["input"],
                    required: &["input"],
                },
                "body",
            )?;
            let input = &body["input"];
            check_fields(
                input,
                &Shape {
                    allowed: &[
                        "image",
                        "video",
                        "prompt",
                        "mode",
                        "character_orientation",
                        "keep_original_sound",
                    ],
                    // Its default orientation is `image`: a client must say it.
                    required: &["image", "video", "character_orientation"],
                },
                "input",
            )?;
            one_of(input, "mode", &["std", "pro"])?;
            one_of(input, "character_orientation", ORIENTATIONS)?;
            boolean(input, "keep_original_sound")
        }
        Flavour::Kie => check_kie(body),
        Flavour::Piapi => check_piapi(body),
        _ => {
            let known = [
                "kling-v3.0-std",
                "kling-v3.0-pro",
                "kling-v2.6-std",
                "kling-v2.6-pro",
            ];
            let model = bare
                .trim_start_matches("/api/v3/kwaivgi/")
                .trim_end_matches("/motion-control");
            if !known.contains(&model) {
                return Err(format!("no model kwaivgi/{model}"));
            }
            check_fields(
                body,
                &Shape {
                    allowed: &[
                        "image",
                        "video",
                        "character_orientation",
                        "prompt",
                        "negative_prompt",
                        "keep_original_sound",
                    ],
                    required: &["image", "video"],
                },
                "body",
            )?;
            one_of(body, "character_orientation", ORIENTATIONS)?;
            boolean(body, "keep_original_sound")
        }
    }
}

fn check_kie(body: &Value) -> Result<(), String> {
    check_fields(
        body,
        &Shape {
            allowed: &["model", "callBackUrl", "input"],
            required: &["model", "input"],
        },
        "body",
    )?;
    one_of(
        body,
        "model",
        &["kling-2.6/motion-control", "kling-3.0/motion-control"],
    )?;
    let input = &body["input"];
    check_fields(
        input,
        &Shape {
            allowed: &[
                "prompt",
                "input_urls",
                "video_urls",
                "mode",
                "character_orientation",
            ],
            required: &["input_urls", "video_urls"],
        },
        "input",
    )?;
    one_of(input, "mode", &["720p", "1080p"])?;
    one_of(input, "character_orientation", ORIENTATIONS)?;
    for list in ["input_urls", "video_urls"] {
        if input[list].as_array().map(Vec::len) != Some(1) {
            return Err(format!("input.{list} must hold one URL"));
        }
    }
    Ok(())
}

fn check_piapi(body: &Value) -> Result<(), String> {
    check_fields(
        body,
        &Shape {
            allowed: &["model", "task_type", "input"],
            required: &["model", "task_type", "input"],
        },
        "body",
    )?;
    one_of(body, "model", &["kling"])?;
    one_of(body, "task_type", &["motion_control"])?;
    let input = &body["input"];
    check_fields(
        input,
        &Shape {
            allowed: &[
                "image_url",
                "video_url",
                "motion_direction",
                "keep_original_sound",
                "mode",
                "version",
                "prompt",
            ],
            required: &["image_url", "video_url", "version"],
        },
        "input",
    )?;
    one_of(input, "motion_direction", ORIENTATIONS)?;
    one_of(input, "mode", &["std", "pro"])?;
    one_of(input, "version", &["2.6", "3.0"])?;
    boolean(input, "keep_original_sound")
}

/// The refusal a service gives a body its page does not describe.
pub fn check_create(flavour: Flavour, path: &str, body: &Value) -> Result<(), Reply> {
    let Err(why) = check_body(flavour, path, body) else {
        return Ok(());
    };
    Err(match flavour {
        Flavour::Fal => json_reply(
            422,
            json!({"detail": [{"loc": ["body"], "msg": why, "type": "value_error"}]}),
        ),
        Flavour::Replicate => json_reply(
            422,
            json!({"title": "Input validation failed", "detail": why, "status": 422}),
        ),
        Flavour::Kie => json_reply(200, json!({"code": 422, "msg": why})),
        Flavour::Piapi => json_reply(400, json!({"code": 400, "data": {}, "message": why})),
        _ => json_reply(400, json!({"code": 400, "message": why, "data": null})),
    })
}

/// The answer to a create that made task `id`: HTTP status and body.
pub fn created(flavour: Flavour, id: &str, base: &str) -> (u16, Value) {
    match flavour {
        Flavour::Fal => (
            200,
            json!({
                "request_id": id,
                "status_url": format!("{base}/fal-ai/kling-video/requests/{id}/status"),
                "response_url": format!("{base}/fal-ai/kling-video/requests/{id}"),
                "cancel_url": format!("{base}/fal-ai/kling-video/requests/{id}/cancel"),
            }),
        ),
        Flavour::Replicate => (
            201,
            json!({
                "id": id, "model": "kwaivgi/kling-motion-control", "status": "starting",
                "output": null, "error": null,
                "urls": {"get": format!("{base}/v1/predictions/{id}"), "cancel": format!("{base}/v1/predictions/{id}/cancel")},
            }),
        ),
        Flavour::Kie => (
            200,
            json!({"code": 200, "msg": "success", "data": {"taskId": id}}),
        ),
        Flavour::Piapi => (
            200,
            json!({"code": 200, "data": {"task_id": id, "status": "pending"}, "message": "success"}),
        ),
        _ => (
            200,
            json!({"code": 200, "message": "success", "data": {
            "id": id, "status": "created", "urls": {"get": format!("{base}/api/v3/predictions/{id}/result")}}}),
        ),
    }
}

/// A status answer: fal's words, Replicate's prediction, kie's record
/// (`resultJson` a string), PiAPI's task, WaveSpeed's result.
pub fn task_answer(flavour: Flavour, v: &View, fake: &Fake) -> Reply {
    let g = v.generic;
    let done = g == "succeeded";
    let failed = g == "failed";
    let body = match flavour {
        // A failed job ends COMPLETED too: only the response URL tells.
        Flavour::Fal => {
            let word = match g {
                "queued" => "IN_QUEUE",
                "processing" => "IN_PROGRESS",
                _ => "COMPLETED",
            };
            json!({"status": word, "request_id": v.id, "queue_position": if g == "queued" { json!(0) } else { Value::Null }})
        }
        Flavour::Replicate => {
            let word = match g {
                "queued" => "starting",
                "processing" => "processing",
                _ if done => "succeeded",
                _ => "failed",
            };
            json!({"id": v.id, "status": word,
                "output": if done { json!(v.url) } else { Value::Null },
                "error": if failed { json!(v.reason) } else { Value::Null },
                "logs": ""})
        }
        Flavour::Kie => {
            let word = match g {
                "queued" => "queuing",
                "processing" => "generating",
                _ if done => "success",
                _ => "fail",
            };
            let result = if done {
                json!({"resultUrls": [v.url]}).to_string()
            } else {
                String::new()
            };
            json!({"code": 200, "msg": "success", "data": {"taskId": v.id, "model": "kling-3.0/motion-control",
                "state": word, "param": "{}", "resultJson": result,
                "failCode": if failed { json!("500") } else { Value::Null },
                "failMsg": if failed { json!(v.reason) } else { Value::Null }}})
        }
        Flavour::Piapi => piapi_task(v, fake.with(|s| s.piapi_works)),
        _ => {
            let word = match g {
                "queued" => "created",
                "processing" => "processing",
                _ if done => "completed",
                _ => "failed",
            };
            json!({"code": 200, "message": "success", "data": {"id": v.id, "status": word,
                "outputs": if done { json!([v.url]) } else { json!([]) },
                "error": if failed { v.reason.as_str() } else { "" }}})
        }
    };
    json_reply(200, body)
}

fn piapi_task(v: &View, works: bool) -> Value {
    let word = match v.generic {
        "queued" => "pending",
        "processing" => "processing",
        "succeeded" => "completed",
        _ => "failed",
    };
    let output = match (v.generic, works) {
        ("succeeded", false) => json!({"video_url": v.url}),
        ("succeeded", true) => {
            json!({"works": [{"video": {"resource_without_watermark": v.url, "resource": v.url}}]})
        }
        _ => json!({}),
    };
    let error = if v.generic == "failed" {
        json!({"code": 10000, "message": v.reason})
    } else {
        json!({"code": 0, "message": ""})
    };
    json!({"code": 200, "data": {"task_id": v.id, "model": "kling", "task_type": "motion_control",
        "status": word, "output": output, "error": error}, "message": "success"})
}

/// fal's response URL: the video, the failure as an error answer, or a 504
/// (as many times as scripted) for a finished job.
pub fn fal_result(v: &View, fake: &Fake) -> Reply {
    match v.generic {
        "queued" | "processing" => {
            json_reply(400, json!({"detail": "Request is still in progress"}))
        }
        _ if fake.with(|s| {
            let gateway = s.result_504s > 0;
            s.result_504s = s.result_504s.saturating_sub(1);
            gateway
        }) =>
        {
            (
                504,
                b"<html><body>504 Gateway Time-out</body></html>".to_vec(),
                vec![],
                false,
            )
        }
        "succeeded" => json_reply(
            200,
            json!({"video": {"url": v.url, "content_type": "video/mp4", "file_name": "out.mp4"}}),
        ),
        _ => json_reply(
            422,
            json!({"detail": [{"loc": ["body", "video_url"], "msg": v.reason, "type": "generation_error"}]}),
        ),
    }
}

/// One part of a multipart/form-data body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// The parts of a multipart/form-data request.
pub fn multipart(req: &Recorded) -> Result<Vec<Part>, String> {
    let ct = req.header("Content-Type").unwrap_or("");
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .ok_or(format!("not multipart/form-data: `{ct}`"))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let body = &req.bytes;
    let mut starts = Vec::new();
    let mut i = 0;
    while i + delimiter.len() <= body.len() {
        if body[i..].starts_with(&delimiter) {
            starts.push(i);
            i += delimiter.len();
        } else {
            i += 1;
        }
    }
    let mut parts = Vec::new();
    for pair in starts.windows(2) {
        let chunk = &body[pair[0] + delimiter.len()..pair[1]];
        let chunk = chunk
            .strip_prefix(b"\r\n")
            .ok_or("no line break after a boundary")?;
        let chunk = chunk
            .strip_suffix(b"\r\n")
            .ok_or("no line break before a boundary")?;
        let split = chunk
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("a part without headers")?;
        let head = String::from_utf8_lossy(&chunk[..split]).into_owned();
        let attr = |key: &str| {
            head.split(&format!("{key}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(String::from)
        };
        parts.push(Part {
            name: attr(" name")
                .or_else(|| attr(";name"))
                .ok_or("a part without a name")?,
            filename: attr("filename"),
            data: chunk[split + 4..].to_vec(),
        });
    }
    if !body.ends_with(format!("--{boundary}--\r\n").as_bytes()) {
        return Err("no closing boundary".into());
    }
    Ok(parts)
}

fn store(fake: &Fake, path: String, bytes: Vec<u8>) -> String {
    fake.with(|s| {
        if s.hosted.insert(path.clone(), bytes).is_some() {
            s.overwrites += 1;
        }
    });
    format!("{}{path}", fake.base)
}

fn refused(flavour: Flavour, why: String) -> Reply {
    match flavour {
        Flavour::Replicate => json_reply(400, json!({"detail": why})),
        Flavour::Kie => json_reply(400, json!({"success": false, "code": 400, "msg": why})),
        _ => json_reply(400, json!({"code": 400, "message": why})),
    }
}

/// The upload APIs.
pub fn upload(fake: &Fake, flavour: Flavour, req: &Recorded) -> Reply {
    let result = match flavour {
        Flavour::Fal => fal_initiate(fake, req),
        Flavour::Piapi => piapi_upload(fake, req),
        _ => multipart_upload(fake, flavour, req),
    };
    result.unwrap_or_else(|why| refused(flavour, why))
}

fn fal_initiate(fake: &Fake, req: &Recorded) -> Result<Reply, String> {
    if !req.path.contains("storage_type=fal-cdn-v3") {
        return Err("storage_type must be fal-cdn-v3".into());
    }
    let body: Value = serde_json::from_str(&req.body).map_err(|e| e.to_string())?;
    let name = body["file_name"]
        .as_str()
        .ok_or("file_name is required")?
        .to_string();
    body["content_type"]
        .as_str()
        .ok_or("content_type is required")?;
    let token = fake.with(|s| {
        let token = format!("t{}", s.upload_tokens.len() + 1);
        s.upload_tokens.insert(token.clone(), name.clone());
        token
    });
    Ok(json_reply(
        200,
        json!({
            "upload_url": format!("{}/fal-put/{token}?X-Goog-Signature=0123456789abcdef0123456789abcdef", fake.base),
            "file_url": format!("{}/hosted/fal/{name}", fake.base),
        }),
    ))
}

/// fal's signed upload URL: takes the bytes, and must not be given the key.
pub fn fal_put(fake: &Fake, token: &str, req: &Recorded) -> Reply {
    let name = fake.with(|s| s.upload_tokens.get(token).cloned());
    match (req.method.as_str(), name) {
        ("PUT", Some(_)) if req.header("Authorization").is_some() => json_reply(
            400,
            json!({"error": "a signed upload URL takes no Authorization"}),
        ),
        ("PUT", Some(name)) => {
            store(fake, format!("/hosted/fal/{name}"), req.bytes.clone());
            (200, Vec::new(), vec![], false)
        }
        _ => json_reply(403, json!({"error": "SignatureDoesNotMatch"})),
    }
}

fn piapi_upload(fake: &Fake, req: &Recorded) -> Result<Reply, String> {
    use base64::Engine;
    let body: Value = serde_json::from_str(&req.body).map_err(|e| e.to_string())?;
    let name = body["file_name"].as_str().ok_or("file_name is required")?;
    let data = body["file_data"].as_str().ok_or("file_data is required")?;
    if data.len() > 10_000_000 {
        return Ok(json_reply(
            413,
            json!({"code": 413, "message": "file_data over 10 MB"}),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("file_data is not base64: {e}"))?;
    let url = store(fake, format!("/hosted/piapi/{name}"), bytes);
    Ok(json_reply(
        200,
        json!({"code": 200, "data": {"url": url}, "message": "success"}),
    ))
}

fn multipart_upload(fake: &Fake, flavour: Flavour, req: &Recorded) -> Result<Reply, String> {
    let parts = multipart(req)?;
    let part = |name: &str| parts.iter().find(|p| p.name == name);
    let text = |name: &str| part(name).map(|p| String::from_utf8_lossy(&p.data).into_owned());
    let file_part = if flavour == Flavour::Replicate {
        "content"
    } else {
        "file"
    };
    let file = part(file_part).ok_or(format!("no `{file_part}` part"))?;
    let filename = file.filename.clone().unwrap_or_else(|| "upload.bin".into());
    let n = fake.with(|s| s.hosted.len() + 1);
    Ok(match flavour {
        Flavour::Replicate => {
            if file.data.len() > 100 * 1024 * 1024 {
                return Ok(json_reply(413, json!({"detail": "file too large"})));
            }
            let id = format!("file{n:04}");
            let url = store(fake, format!("/hosted/replicate/{id}"), file.data.clone());
            json_reply(
                201,
                json!({"id": id, "name": filename, "size": file.data.len(),
                "urls": {"get": url}, "expires_at": "2099-01-01T00:00:00.000Z"}),
            )
        }
        Flavour::Kie => {
            let folder = text("uploadPath").ok_or("no `uploadPath` part")?;
            let name = text("fileName").unwrap_or(filename);
            // A name used before is overwritten, as kie's page says.
            let url = store(
                fake,
                format!("/hosted/kie/{folder}/{name}"),
                file.data.clone(),
            );
            json_reply(
                200,
                json!({"success": true, "code": 200, "msg": "File uploaded successfully",
                "data": {"fileName": name, "filePath": format!("{folder}/{name}"), "downloadUrl": url,
                         "fileSize": file.data.len()}}),
            )
        }
        _ => {
            let url = store(
                fake,
                format!("/hosted/wavespeed/{n}/{filename}"),
                file.data.clone(),
            );
            json_reply(
                200,
                json!({"code": 200, "message": "success",
                "data": {"type": "file", "download_url": url, "filename": filename, "size": file.data.len()}}),
            )
        }
    })
}
