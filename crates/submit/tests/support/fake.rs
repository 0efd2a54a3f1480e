//! A fake provider server on 127.0.0.1 that follows each provider's documented
//! API (paths, auth headers, bodies, envelopes, status words, error codes,
//! upload APIs), records every request, and can be scripted. Like the
//! services, it fetches the links a create gives it, and a task whose link
//! cannot be fetched fails. One server answers as every provider (by path);
//! the marketplaces (fal, Replicate, kie, PiAPI, WaveSpeed) are in
//! `market.rs`. Shared by the library and CLI tests.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "market.rs"]
mod market;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy for binary uploads: see `bytes`).
    pub body: String,
    pub bytes: Vec<u8>,
    /// When the request arrived.
    pub at: Instant,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the next create request does.
#[derive(Debug, Clone)]
pub enum CreateStep {
    /// Create the task and answer normally.
    Ok,
    /// Answer with an error; no task is created.
    Reject {
        http: u16,
        body: Value,
        retry_after: Option<u64>,
    },
    /// Create the task, then answer with an error (e.g. 504 + code 5002).
    CreateThenFail { http: u16, body: Value },
    /// Create the task, then never answer: the connection is held until the
    /// client gives up (its timeout) or dies, so no answer can race the timeout.
    CreateThenHang,
}

/// Which API a request speaks, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Kling,
    Novita,
    Aihubmax,
    Fal,
    Replicate,
    Kie,
    Piapi,
    Wavespeed,
}

impl Flavour {
    pub fn is_market(self) -> bool {
        !matches!(self, Flavour::Kling | Flavour::Novita | Flavour::Aihubmax)
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create,
    /// A task's status, by the id in the path.
    Query(String),
    /// fal: a finished request's result, by id.
    Result(String),
    /// The provider's own upload API.
    Upload,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub flavour: Flavour,
    pub external: Option<String>,
    pub polls: usize,
    /// Why the task fails: a link it could not fetch.
    pub failure: Option<String>,
}

/// A link the fake fetched, as the services do when a task is created.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The link without its query (no signatures in test output).
    pub url: String,
    /// `video` or `image`.
    pub field: &'static str,
    pub status: u16,
    pub bytes: Vec<u8>,
    /// Why the fetch does not count as media, if it does not.
    pub problem: Option<String>,
}

#[derive(Debug)]
pub struct State {
    pub requests: Vec<Recorded>,
    pub create_script: VecDeque<CreateStep>,
    /// Generic words, one per query: queued, processing, succeeded, failed.
    pub statuses: Vec<&'static str>,
    /// aihubmax: queries that answer "completed" with empty results first.
    pub empty_results_polls: usize,
    /// aihubmax: results as `{url}` objects instead of strings.
    pub results_as_objects: bool,
    /// Downloads answered with 410 Gone before the file is served.
    pub expired_downloads: usize,
    pub fail_reason: String,
    /// Kling, novita, aihubmax: the exact `Authorization` header expected.
    pub expected_auth: Option<String>,
    /// The marketplaces: the key, expected in each one's documented header
    /// (`Authorization: Key …` at fal, `x-api-key` at PiAPI, Bearer elsewhere).
    pub api_key: Option<String>,
    /// fal: answers of a finished request's response URL that are 504 first.
    pub result_504s: usize,
    /// PiAPI: the result under `output.works[0].video` instead of `output.video_url`.
    pub piapi_works: bool,
    pub video: Vec<u8>,
    /// Every link fetched, in order.
    pub fetched: Vec<Fetched>,
    /// Files stored through the upload APIs, by the path they are served at.
    pub hosted: BTreeMap<String, Vec<u8>>,
    /// Stores of a name that was there already (kie overwrites).
    pub overwrites: usize,
    /// fal: upload tokens handed out, and the file each one stores.
    pub upload_tokens: BTreeMap<String, String>,
    pub tasks: Vec<Task>,
}

/// Status, body, extra headers, and whether to hold the connection unanswered.
pub type Reply = (u16, Vec<u8>, Vec<(String, String)>, bool);

pub fn json_reply(status: u16, body: Value) -> Reply {
    (
        status,
        body.to_string().into_bytes(),
        vec![("Content-Type".to_string(), "application/json".to_string())],
        false,
    )
}

fn bytes_reply(status: u16, body: Vec<u8>) -> Reply {
    (status, body, vec![], false)
}

#[derive(Clone)]
pub struct Fake {
    pub base: String,
    pub state: Arc<Mutex<State>>,
}

impl Fake {
    pub fn start(video: Vec<u8>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            create_script: VecDeque::new(),
            statuses: vec!["queued", "processing", "succeeded"],
            empty_results_polls: 0,
            results_as_objects: false,
            expired_downloads: 0,
            fail_reason: "content risk control".into(),
            expected_auth: None,
            api_key: None,
            result_504s: 0,
            piapi_works: false,
            video,
            fetched: Vec::new(),
            hosted: BTreeMap::new(),
            overwrites: 0,
            upload_tokens: BTreeMap::new(),
            tasks: Vec::new(),
        }));
        let fake = Fake {
            base: base.clone(),
            state: state.clone(),
        };
        let server = fake.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let server = server.clone();
                std::thread::spawn(move || server.handle(stream));
            }
        });
        fake
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Tasks the server created (each one would be paid for).
    pub fn tasks_created(&self) -> usize {
        self.with(|s| s.tasks.len())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    pub fn posts(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }

    /// Requests to the API (creates, queries, results), not uploads or files.
    pub fn api_calls(&self, call: fn(&Call) -> bool) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| classify(&r.method, &r.path).is_some_and(|(_, c)| call(&c)))
            .collect()
    }

    /// `METHOD path` of every request so far, in order (queries shortened).
    pub fn sequence(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Links fetched so far.
    pub fn fetched(&self) -> Vec<Fetched> {
        self.with(|s| s.fetched.clone())
    }

    pub fn script(&self, steps: Vec<CreateStep>) {
        self.with(|s| s.create_script = steps.into());
    }

    fn handle(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let Some(req) = read_request(&mut stream) else {
            return;
        };
        self.with(|s| s.requests.push(req.clone()));
        let (status, body, extra, hold) = self.route(&req);
        if hold {
            wait_for_hang_up(&mut stream);
            return;
        }
        let reason = match status {
            200 => "OK",
            201 => "Created",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            410 => "Gone",
            413 => "Payload Too Large",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            504 => "Gateway Timeout",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
        let _ = stream.flush();
    }

    fn route(&self, req: &Recorded) -> Reply {
        if let Some(reply) = self.serve_file(req) {
            return reply;
        }
        let Some((flavour, call)) = classify(&req.method, &req.path) else {
            return bytes_reply(404, b"no such path".to_vec());
        };
        if !self.auth_ok(flavour, req) {
            return auth_failed(flavour);
        }
        match call {
            Call::Create => self.create(flavour, req),
            Call::Query(id) => self.query(flavour, &id),
            Call::Result(id) => self.fal_result(&id),
            Call::Upload => market::upload(self, flavour, req),
        }
    }

    /// Public files: the CDN of tests that pass links of their own, results,
    /// files stored through the upload APIs, and fal's signed upload URLs.
    fn serve_file(&self, req: &Recorded) -> Option<Reply> {
        let path = req.path.split('?').next().unwrap_or("");
        if let Some(name) = path.strip_prefix("/cdn/") {
            let s = self.state.lock().unwrap();
            return Some(if name.ends_with(".mp4") || name.ends_with(".mov") {
                bytes_reply(200, s.video.clone())
            } else if name.ends_with(".jpg") || name.ends_with(".png") {
                let photo = std::fs::read(fixture("images/portrait_720x1280_ok.jpg")).unwrap();
                bytes_reply(200, photo)
            } else {
                bytes_reply(404, b"no such file".to_vec())
            });
        }
        if path.starts_with("/files/") {
            let mut s = self.state.lock().unwrap();
            if s.expired_downloads > 0 {
                s.expired_downloads -= 1;
                return Some(bytes_reply(410, b"gone".to_vec()));
            }
            return Some(bytes_reply(200, s.video.clone()));
        }
        if path.starts_with("/hosted/") && req.method == "GET" {
            let s = self.state.lock().unwrap();
            return Some(match s.hosted.get(path) {
                Some(bytes) => bytes_reply(200, bytes.clone()),
                None => bytes_reply(404, b"no such file".to_vec()),
            });
        }
        if let Some(token) = path.strip_prefix("/fal-put/") {
            return Some(market::fal_put(self, token, req));
        }
        None
    }

    fn auth_ok(&self, flavour: Flavour, req: &Recorded) -> bool {
        let (expected, key) = self.with(|s| (s.expected_auth.clone(), s.api_key.clone()));
        if flavour.is_market() {
            return market::auth_ok(flavour, req, key.as_deref());
        }
        let auth = req.header("Authorization").unwrap_or("");
        match expected {
            Some(e) => auth == e,
            None => auth.starts_with("Bearer ") && auth.len() > 7,
        }
    }

    fn create(&self, flavour: Flavour, req: &Recorded) -> Reply {
        let body_in: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if flavour.is_market() {
            if let Err(refusal) = market::check_create(flavour, &req.path, &body_in) {
                return refusal;
            }
        }
        let step = self.with(|s| s.create_script.pop_front().unwrap_or(CreateStep::Ok));
        if let CreateStep::Reject {
            http,
            body,
            retry_after,
        } = &step
        {
            let mut reply = json_reply(*http, body.clone());
            if let Some(r) = retry_after {
                reply.2.push(("Retry-After".into(), r.to_string()));
            }
            return reply;
        }
        // Fetch every link, as the services do, before taking the lock
        // (the links may point at this very server).
        let fetched = fetch_links(&body_in);
        let failure = fetched.iter().find_map(|f| {
            f.problem
                .clone()
                .map(|p| format!("cannot fetch the {}: {p}", f.field))
        });
        let external = body_in
            .get("external_task_id")
            .and_then(Value::as_str)
            .map(String::from);
        let mut s = self.state.lock().unwrap();
        s.fetched.extend(fetched);
        if let (Flavour::Kling, Some(e)) = (flavour, &external) {
            if s.tasks.iter().any(|t| t.external.as_deref() == Some(e)) {
                let b = json!({"code": 1201, "message": "external_task_id already exists", "request_id": "r"});
                return json_reply(400, b);
            }
        }
        let id = task_id(flavour, s.tasks.len() + 1);
        s.tasks.push(Task {
            id: id.clone(),
            flavour,
            external: external.clone(),
            polls: 0,
            failure,
        });
        drop(s);
        let (status, ok) = if flavour.is_market() {
            market::created(flavour, &id, &self.base)
        } else {
            (200, classic_created(flavour, &id, external, &body_in))
        };
        match step {
            CreateStep::CreateThenFail { http, body } => json_reply(http, body),
            CreateStep::CreateThenHang => (status, Vec::new(), vec![], true),
            _ => json_reply(status, ok),
        }
    }

    fn query(&self, flavour: Flavour, wanted: &str) -> Reply {
        let Some(view) = self.poll(wanted) else {
            return not_found(flavour);
        };
        if flavour.is_market() {
            return market::task_answer(flavour, &view, self);
        }
        let body = classic_task_answer(flavour, &view, self);
        json_reply(200, body)
    }

    /// fal's response URL.
    fn fal_result(&self, wanted: &str) -> Reply {
        let Some(view) = self.peek(wanted) else {
            return not_found(Flavour::Fal);
        };
        market::fal_result(&view, self)
    }

    /// The task's state at this query (each query moves it one step on).
    fn poll(&self, wanted: &str) -> Option<View> {
        self.view(wanted, true)
    }

    /// The task's state now, without moving it on.
    fn peek(&self, wanted: &str) -> Option<View> {
        self.view(wanted, false)
    }

    fn view(&self, wanted: &str, step: bool) -> Option<View> {
        let mut s = self.state.lock().unwrap();
        let statuses = s.statuses.clone();
        let reason = s.fail_reason.clone();
        let task = s
            .tasks
            .iter_mut()
            .find(|t| t.id == wanted || t.external.as_deref() == Some(wanted))?;
        let poll = if step {
            task.polls += 1;
            task.polls - 1
        } else {
            task.polls.saturating_sub(1)
        };
        let generic = statuses[poll.min(statuses.len() - 1)];
        // A task whose links could not be fetched fails once it is looked at.
        let (generic, reason) = match &task.failure {
            Some(f) if generic != "queued" => ("failed", f.clone()),
            _ => (generic, reason),
        };
        Some(View {
            id: task.id.clone(),
            external: task.external.clone(),
            generic,
            reason,
            url: format!("{}/files/{}.mp4", self.base, task.id),
            completed_polls: poll.saturating_sub(statuses.len() - 1),
        })
    }
}

/// A task as one query sees it.
pub struct View {
    pub id: String,
    pub external: Option<String>,
    /// queued, processing, succeeded or failed.
    pub generic: &'static str,
    pub reason: String,
    /// Its result link.
    pub url: String,
    /// Queries since it reached its last status.
    pub completed_polls: usize,
}

/// Which API and call a request is, by method and path.
pub fn classify(method: &str, path: &str) -> Option<(Flavour, Call)> {
    if let Some(found) = market::classify(method, path) {
        return Some(found);
    }
    let last = || path.rsplit('/').next().unwrap_or("").to_string();
    let flavour = if path.starts_with("/v3/async") {
        Flavour::Novita
    } else if path.starts_with("/v1/videos/generations") || path.starts_with("/v1/tasks") {
        Flavour::Aihubmax
    } else if path.starts_with("/v1/videos/motion-control")
        || path.starts_with("/kling/v1/videos/motion-control")
    {
        Flavour::Kling
    } else {
        return None;
    };
    let call = match (method, flavour) {
        ("POST", _) => Call::Create,
        (_, Flavour::Novita) => Call::Query(query_param(path, "task_id")),
        _ => Call::Query(last()),
    };
    Some((flavour, call))
}

/// A query parameter's value (undecoded).
pub fn query_param(path: &str, name: &str) -> String {
    path.split(&format!("{name}="))
        .nth(1)
        .unwrap_or("")
        .split('&')
        .next()
        .unwrap_or("")
        .to_string()
}

fn task_id(flavour: Flavour, n: usize) -> String {
    match flavour {
        Flavour::Kling => format!("86{n:010}"),
        Flavour::Novita => format!("novita-task-{n}"),
        Flavour::Aihubmax => format!("task-unified-1757165031-{n:08}"),
        other => market::task_id(other, n),
    }
}

fn auth_failed(flavour: Flavour) -> Reply {
    let body = match flavour {
        Flavour::Kling => {
            json!({"code": 1002, "message": "Authorization is invalid", "request_id": "r"})
        }
        Flavour::Novita => {
            json!({"code": 401, "reason": "FAILED_TO_AUTH", "message": "invalid key", "metadata": {}})
        }
        Flavour::Aihubmax => {
            json!({"error": {"message": "Invalid API key", "type": "authentication_error", "code": "invalid_api_key"}})
        }
        other => return market::auth_failed(other),
    };
    json_reply(401, body)
}

fn not_found(flavour: Flavour) -> Reply {
    let body = match flavour {
        Flavour::Kling => json!({"code": 1203, "message": "task not found", "request_id": "r"}),
        Flavour::Novita => {
            json!({"code": 404, "reason": "TASK_NOT_FOUND", "message": "task not found", "metadata": {}})
        }
        Flavour::Aihubmax => {
            json!({"error": {"message": "task not found", "type": "not_found", "code": "task_not_found"}})
        }
        other => return market::not_found(other),
    };
    json_reply(404, body)
}

fn classic_created(flavour: Flavour, id: &str, external: Option<String>, body_in: &Value) -> Value {
    match flavour {
        Flavour::Kling => json!({"code": 0, "message": "SUCCEED", "request_id": "r",
            "data": {"task_id": id, "task_info": {"external_task_id": external},
                     "task_status": "submitted", "created_at": 1722769557708u64, "updated_at": 1722769557708u64}}),
        Flavour::Novita => json!({"task_id": id}),
        _ => json!({"id": id, "model": body_in.get("model"), "type": "video.generation.task",
            "status": "pending", "progress": 0, "created": 1757165031u64, "results": []}),
    }
}

fn classic_task_answer(flavour: Flavour, v: &View, fake: &Fake) -> Value {
    match flavour {
        Flavour::Kling => kling_task(v),
        Flavour::Novita => novita_task(v),
        _ => {
            let (empty_polls, objects) =
                fake.with(|s| (s.empty_results_polls, s.results_as_objects));
            aihubmax_task(v, empty_polls, objects)
        }
    }
}

fn kling_task(v: &View) -> Value {
    let word = match v.generic {
        "queued" => "submitted",
        "processing" => "processing",
        "succeeded" => "succeed",
        _ => "failed",
    };
    let videos = if word == "succeed" {
        json!([{"id": "v1", "url": v.url, "watermark_url": v.url, "duration": "5.0"}])
    } else {
        json!([])
    };
    json!({"code": 0, "message": "SUCCEED", "request_id": "r", "data": {
        "task_id": v.id, "task_status": word,
        "task_status_msg": if word == "failed" { v.reason.as_str() } else { "" },
        "task_info": {"external_task_id": v.external},
        "task_result": {"videos": videos},
        "created_at": 1722769557708u64, "updated_at": 1722769557708u64}})
}

fn novita_task(v: &View) -> Value {
    let word = match v.generic {
        "queued" => "TASK_STATUS_QUEUED",
        "processing" => "TASK_STATUS_PROCESSING",
        "succeeded" => "TASK_STATUS_SUCCEED",
        _ => "TASK_STATUS_FAILED",
    };
    let videos = if v.generic == "succeeded" {
        json!([{"video_url": v.url, "video_url_ttl": "3600", "video_type": "mp4"}])
    } else {
        json!([])
    };
    let pct = match v.generic {
        "queued" => 0,
        "processing" => 40,
        _ => 100,
    };
    json!({"task": {"task_id": v.id, "task_type": "KLING_V3_MOTION_CONTROL", "status": word,
        "reason": if v.generic == "failed" { v.reason.as_str() } else { "" },
        "progress_percent": pct}, "videos": videos})
}

fn aihubmax_task(v: &View, empty_polls: usize, objects: bool) -> Value {
    let word = match v.generic {
        "queued" => "pending",
        "processing" => "processing",
        "succeeded" => "completed",
        _ => "failed",
    };
    let results = if word == "completed" && v.completed_polls >= empty_polls {
        if objects {
            json!([{"url": v.url}])
        } else {
            json!([v.url])
        }
    } else {
        json!([])
    };
    json!({"id": v.id, "model": "kling-v3-motion-control", "object": "video.generation.task",
        "type": "video", "status": word, "progress": if word == "completed" { 100 } else { 30 },
        "created": 1757165031u64, "results": results})
}

/// Where the repository's fixtures are, from either package's tests.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [here.join("fixtures"), here.join("../../fixtures")]
        .into_iter()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| here.join("fixtures"))
        .join(rel)
}

/// A link on a public web server (a shared fake on loopback) serving a
/// compliant video for `*.mp4`/`*.mov` and a JPEG photo for `*.jpg`/`*.png`.
pub fn cdn(name: &str) -> String {
    static CDN: OnceLock<Fake> = OnceLock::new();
    let cdn = CDN.get_or_init(|| {
        Fake::start(std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).expect("video fixture"))
    });
    format!("{}/cdn/{name}", cdn.base)
}

/// The links in a create body, at any depth, each with the kind of media it
/// must serve: `video_url`, `video`, `video_urls` (kie) are videos;
/// `image_url`, `image`, `input_urls` (kie) are images.
fn links_in(body: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Some(map) = body.as_object() else {
        return out;
    };
    for (key, value) in map {
        let field = match key.as_str() {
            "video_url" | "video" | "video_urls" => Some("video"),
            "image_url" | "image" | "input_urls" => Some("image"),
            _ => None,
        };
        let texts: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        match field {
            Some(field) => out.extend(
                texts
                    .into_iter()
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .map(|u| (field, u.to_string())),
            ),
            None => out.extend(links_in(value)),
        }
    }
    out
}

/// Whether `bytes` start like the media `field` names.
fn is_media(field: &str, bytes: &[u8]) -> bool {
    match field {
        "video" => bytes.len() > 12 && &bytes[4..8] == b"ftyp",
        _ => {
            bytes.starts_with(&[0xFF, 0xD8, 0xFF])
                || bytes.starts_with(b"\x89PNG")
                || (bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
        }
    }
}

/// GET each link and judge it as a service would: status 200, a sane size,
/// and the first bytes of an MP4/MOV (`ftyp`) or a JPEG/PNG/WebP.
fn fetch_links(body: &Value) -> Vec<Fetched> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    links_in(body)
        .into_iter()
        .map(|(field, url)| {
            let shown = url.split('?').next().unwrap_or("").to_string();
            let loopback = shown.starts_with("http://127.0.0.1:");
            let (status, bytes) = if !loopback {
                // Tests never leave the machine: anything else is unreachable.
                (0, Vec::new())
            } else {
                match agent.get(&url).call() {
                    Ok(r) => {
                        let status = r.status();
                        let mut bytes = Vec::new();
                        let _ = r.into_reader().take(200_000_000).read_to_end(&mut bytes);
                        (status, bytes)
                    }
                    Err(ureq::Error::Status(code, _)) => (code, Vec::new()),
                    Err(_) => (0, Vec::new()),
                }
            };
            let problem = if status == 0 {
                Some(format!("{shown} is unreachable"))
            } else if status != 200 {
                Some(format!("{shown} answered HTTP {status}"))
            } else if !is_media(field, &bytes) {
                Some(format!(
                    "{shown} does not serve a {field} ({} bytes)",
                    bytes.len()
                ))
            } else {
                None
            };
            Fetched {
                url: shown,
                field,
                status,
                bytes,
                problem,
            }
        })
        .collect()
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().ok()?;
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
        at: Instant::now(),
    })
}

/// Blocks until the peer closes the connection (or it fails): what a server
/// that never answers looks like to the client.
fn wait_for_hang_up(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(None);
    let mut buf = [0u8; 512];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}
