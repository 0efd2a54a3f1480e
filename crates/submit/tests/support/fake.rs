//! A fake provider server on 127.0.0.1 that follows each provider's documented
//! API (paths, bodies, envelopes, status words, error codes), records every
//! request, and can be scripted. Shared by the library and CLI tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
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

#[derive(Debug, Clone)]
struct Task {
    id: String,
    external: Option<String>,
    polls: usize,
    /// Why the task fails: a link it could not fetch.
    failure: Option<String>,
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
    pub expected_auth: Option<String>,
    pub video: Vec<u8>,
    /// Every link fetched, in order.
    pub fetched: Vec<Fetched>,
    tasks: Vec<Task>,
}

/// Status, body, extra headers, and how long to stay silent before answering.
/// Status, body, extra headers, and whether to hold the connection unanswered.
type Reply = (u16, Vec<u8>, Vec<(String, String)>, bool);

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
            video,
            fetched: Vec::new(),
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
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            410 => "Gone",
            429 => "Too Many Requests",
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
        let json_h = vec![("Content-Type".to_string(), "application/json".to_string())];
        let path = req.path.as_str();
        if let Some(name) = path.strip_prefix("/cdn/") {
            // A public web server for tests that pass links of their own.
            let s = self.state.lock().unwrap();
            return if name.ends_with(".mp4") || name.ends_with(".mov") {
                (200, s.video.clone(), vec![], false)
            } else if name.ends_with(".jpg") || name.ends_with(".png") {
                (
                    200,
                    std::fs::read(fixture("images/portrait_720x1280_ok.jpg")).unwrap(),
                    vec![],
                    false,
                )
            } else {
                (404, b"no such file".to_vec(), vec![], false)
            };
        }
        if let Some(name) = path.strip_prefix("/files/") {
            let mut s = self.state.lock().unwrap();
            if s.expired_downloads > 0 {
                s.expired_downloads -= 1;
                return (410, b"gone".to_vec(), vec![], false);
            }
            let _ = name;
            return (200, s.video.clone(), vec![], false);
        }
        let flavour = if path.starts_with("/v3/async") {
            "novita"
        } else if path.starts_with("/v1/videos/generations") || path.starts_with("/v1/tasks") {
            "aihubmax"
        } else if path.starts_with("/v1/videos/motion-control")
            || path.starts_with("/kling/v1/videos/motion-control")
        {
            "kling"
        } else {
            return (404, b"no such path".to_vec(), vec![], false);
        };
        // Auth.
        let auth = req.header("Authorization").unwrap_or("").to_string();
        let expected = self.with(|s| s.expected_auth.clone());
        let auth_ok = match expected {
            Some(e) => auth == e,
            None => auth.starts_with("Bearer ") && auth.len() > 7,
        };
        if !auth_ok {
            let body = match flavour {
                "kling" => {
                    json!({"code": 1002, "message": "Authorization is invalid", "request_id": "r"})
                }
                "novita" => {
                    json!({"code": 401, "reason": "FAILED_TO_AUTH", "message": "invalid key", "metadata": {}})
                }
                _ => {
                    json!({"error": {"message": "Invalid API key", "type": "authentication_error", "code": "invalid_api_key"}})
                }
            };
            return (401, body.to_string().into_bytes(), json_h, false);
        }
        let base = self.base.clone();
        if req.method == "POST" {
            let step = self.with(|s| s.create_script.pop_front().unwrap_or(CreateStep::Ok));
            if let CreateStep::Reject {
                http,
                body,
                retry_after,
            } = &step
            {
                let mut h = json_h.clone();
                if let Some(r) = retry_after {
                    h.push(("Retry-After".into(), r.to_string()));
                }
                return (*http, body.to_string().into_bytes(), h, false);
            }
            let body_in: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            // Fetch every link, as the services do, before taking the lock
            // (the links may point at this very server).
            let fetched = fetch_links(&body_in);
            let failure = fetched.iter().find_map(|f| {
                f.problem
                    .clone()
                    .map(|p| format!("cannot fetch the {}: {p}", f.field))
            });
            let mut s = self.state.lock().unwrap();
            s.fetched.extend(fetched);
            let n = s.tasks.len() + 1;
            let id = match flavour {
                "kling" => format!("86{n:010}"),
                "novita" => format!("novita-task-{n}"),
                _ => format!("task-unified-1757165031-{n:08}"),
            };
            let external = body_in
                .get("external_task_id")
                .and_then(Value::as_str)
                .map(String::from);
            if flavour == "kling" {
                if let Some(e) = &external {
                    if s.tasks.iter().any(|t| t.external.as_deref() == Some(e)) {
                        let b = json!({"code": 1201, "message": "external_task_id already exists", "request_id": "r"});
                        return (400, b.to_string().into_bytes(), json_h, false);
                    }
                }
            }
            s.tasks.push(Task {
                id: id.clone(),
                external: external.clone(),
                polls: 0,
                failure,
            });
            let ok = match flavour {
                "kling" => json!({"code": 0, "message": "SUCCEED", "request_id": "r",
                    "data": {"task_id": id, "task_info": {"external_task_id": external},
                             "task_status": "submitted", "created_at": 1722769557708u64, "updated_at": 1722769557708u64}}),
                "novita" => json!({"task_id": id}),
                _ => {
                    json!({"id": id, "model": body_in.get("model"), "type": "video.generation.task",
                    "status": "pending", "progress": 0, "created": 1757165031u64, "results": []})
                }
            };
            return match step {
                CreateStep::CreateThenFail { http, body } => {
                    (http, body.to_string().into_bytes(), json_h, false)
                }
                CreateStep::CreateThenHang => (200, Vec::new(), json_h, true),
                _ => (200, ok.to_string().into_bytes(), json_h, false),
            };
        }
        // Queries.
        let mut s = self.state.lock().unwrap();
        let wanted = match flavour {
            "kling" => path.rsplit('/').next().unwrap_or("").to_string(),
            "novita" => path
                .split("task_id=")
                .nth(1)
                .unwrap_or("")
                .split('&')
                .next()
                .unwrap_or("")
                .to_string(),
            _ => path.rsplit('/').next().unwrap_or("").to_string(),
        };
        let statuses = s.statuses.clone();
        let empty_polls = s.empty_results_polls;
        let objects = s.results_as_objects;
        let reason = s.fail_reason.clone();
        let Some(task) = s
            .tasks
            .iter_mut()
            .find(|t| t.id == wanted || t.external.as_deref() == Some(wanted.as_str()))
        else {
            let b = match flavour {
                "kling" => json!({"code": 1203, "message": "task not found", "request_id": "r"}),
                "novita" => {
                    json!({"code": 404, "reason": "TASK_NOT_FOUND", "message": "task not found", "metadata": {}})
                }
                _ => {
                    json!({"error": {"message": "task not found", "type": "not_found", "code": "task_not_found"}})
                }
            };
            return (404, b.to_string().into_bytes(), json_h, false);
        };
        let poll = task.polls;
        task.polls += 1;
        let generic = statuses[poll.min(statuses.len() - 1)];
        // A task whose links could not be fetched fails once it is looked at.
        let (generic, reason) = match &task.failure {
            Some(f) if generic != "queued" => ("failed", f.clone()),
            _ => (generic, reason),
        };
        let url = format!("{base}/files/{}.mp4", task.id);
        let id = task.id.clone();
        let external = task.external.clone();
        let body = match flavour {
            "kling" => {
                let word = match generic {
                    "queued" => "submitted",
                    "processing" => "processing",
                    "succeeded" => "succeed",
                    _ => "failed",
                };
                let videos = if word == "succeed" {
                    json!([{"id": "v1", "url": url, "watermark_url": url, "duration": "5.0"}])
                } else {
                    json!([])
                };
                json!({"code": 0, "message": "SUCCEED", "request_id": "r", "data": {
                    "task_id": id, "task_status": word,
                    "task_status_msg": if word == "failed" { reason.as_str() } else { "" },
                    "task_info": {"external_task_id": external},
                    "task_result": {"videos": videos},
                    "created_at": 1722769557708u64, "updated_at": 1722769557708u64}})
            }
            "novita" => {
                let word = match generic {
                    "queued" => "TASK_STATUS_QUEUED",
                    "processing" => "TASK_STATUS_PROCESSING",
                    "succeeded" => "TASK_STATUS_SUCCEED",
                    _ => "TASK_STATUS_FAILED",
                };
                let videos = if generic == "succeeded" {
                    json!([{"video_url": url, "video_url_ttl": "3600", "video_type": "mp4"}])
                } else {
                    json!([])
                };
                let pct = match generic {
                    "queued" => 0,
                    "processing" => 40,
                    _ => 100,
                };
                json!({"task": {"task_id": id, "task_type": "KLING_V3_MOTION_CONTROL", "status": word,
                    "reason": if generic == "failed" { reason.as_str() } else { "" },
                    "progress_percent": pct}, "videos": videos})
            }
            _ => {
                let word = match generic {
                    "queued" => "pending",
                    "processing" => "processing",
                    "succeeded" => "completed",
                    _ => "failed",
                };
                let completed_polls = poll.saturating_sub(statuses.len() - 1);
                let results = if word == "completed" && completed_polls >= empty_polls {
                    if objects {
                        json!([{"url": url}])
                    } else {
                        json!([url])
                    }
                } else {
                    json!([])
                };
                json!({"id": id, "model": "kling-v3-motion-control", "object": "video.generation.task",
                    "type": "video", "status": word, "progress": if word == "completed" { 100 } else { 30 },
                    "created": 1757165031u64, "results": results})
            }
        };
        (200, body.to_string().into_bytes(), json_h, false)
    }
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

/// The links in a create body, each with the kind of media it must serve.
fn links_in(body: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (key, field) in [
        ("video_url", "video"),
        ("video", "video"),
        ("image_url", "image"),
        ("image", "image"),
    ] {
        if let Some(u) = body.get(key).and_then(Value::as_str) {
            if u.starts_with("http://") || u.starts_with("https://") {
                out.push((field, u.to_string()));
            }
        }
    }
    out
}

/// GET each link and judge it as a service would: status 200, a sane size,
/// and the first bytes of an MP4/MOV (`ftyp`) or a JPEG/PNG.
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
            let media = match field {
                "video" => bytes.len() > 12 && &bytes[4..8] == b"ftyp",
                _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG"),
            };
            let problem = if status == 0 {
                Some(format!("{shown} is unreachable"))
            } else if status != 200 {
                Some(format!("{shown} answered HTTP {status}"))
            } else if !media {
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
