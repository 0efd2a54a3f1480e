//! The library against a fake provider on loopback: exact requests, status
//! sequences, errors, and never a second paid task.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use preflight::{Model, Orientation, Provider};
use serde_json::{json, Value};
use submit::journal::state;
use submit::{
    Client, Credentials, HttpConfig, ImageInput, Inputs, Journal, Mode, Status, SubmitError,
    Submitted, Timing,
};
use support::fake::{cdn, CreateStep, Fake};

const KEY: &str = "sk-test-SECRET-4f9a1c";

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn video_bytes() -> Vec<u8> {
    std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).unwrap()
}

fn timing() -> Timing {
    Timing {
        poll_min: Duration::from_millis(10),
        poll_max: Duration::from_millis(40),
        poll_factor: 1.5,
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        create_attempts: 5,
        wait_timeout: Duration::from_secs(20),
        http: HttpConfig {
            connect_timeout: Duration::from_secs(2),
            io_timeout: Duration::from_secs(5),
        },
    }
}

struct Setup {
    fake: Fake,
    client: Client,
    journal: Journal,
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

fn setup_with(provider: Provider, t: &Timing) -> Setup {
    let fake = Fake::start(video_bytes());
    fake.with(|s| s.expected_auth = Some(format!("Bearer {KEY}")));
    let creds = Credentials::from_lookup(provider, |_| Some(KEY.to_string())).unwrap();
    let client = Client::new(provider, Some(fake.base.clone()), creds, t.http);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let journal = Journal::open(&dir.join("journal.sqlite3")).unwrap();
    Setup {
        fake,
        client,
        journal,
        _dir: tmp,
        dir,
    }
}

fn setup(provider: Provider) -> Setup {
    setup_with(provider, &timing())
}

fn url_inputs(provider: Provider) -> Inputs {
    Inputs {
        provider,
        model: Model::KlingV3,
        mode: Mode::Std,
        orientation: Orientation::Video,
        image: ImageInput::Url(cdn("photo.jpg")),
        video_url: cdn("dance.mp4"),
        video_sha256: None,
        prompt: None,
        negative_prompt: None,
        keep_sound: None,
    }
}

fn file_inputs(provider: Provider) -> (Inputs, String) {
    let bytes = std::fs::read(fixture("images/portrait_720x1280_ok.jpg")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let mut i = url_inputs(provider);
    i.image = ImageInput::from_bytes("portrait_720x1280_ok.jpg", &bytes);
    (i, b64)
}

fn quiet() -> impl FnMut(&str) {
    |_| {}
}

fn go(s: &Setup, inputs: &Inputs, again: bool, t: &Timing) -> Result<Submitted, SubmitError> {
    submit::submit(&s.client, &s.journal, inputs, again, t, &mut quiet())
}

fn journal_bytes(s: &Setup) -> Vec<u8> {
    let mut all = std::fs::read(s.dir.join("journal.sqlite3")).unwrap();
    if let Ok(wal) = std::fs::read(s.dir.join("journal.sqlite3-wal")) {
        all.extend(wal);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn kling_request_is_exactly_as_documented() {
    let s = setup(Provider::Kling);
    let (mut inputs, b64) = file_inputs(Provider::Kling);
    inputs.mode = Mode::Pro;
    inputs.prompt = Some("she dances".into());
    inputs.keep_sound = Some(false);
    let done = go(&s, &inputs, false, &timing()).unwrap();
    assert!(matches!(done, Submitted::Created(_)));
    let posts = s.fake.posts();
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert_eq!(p.path, "/v1/videos/motion-control");
    assert_eq!(
        p.header("Authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(p.header("Content-Type"), Some("application/json"));
    let body = p.json();
    let ext = body["external_task_id"].as_str().unwrap().to_string();
    assert!(ext.starts_with("preflight-"));
    assert_eq!(
        body,
        json!({
            "model_name": "kling-v3",
            "image_url": b64,
            "video_url": cdn("dance.mp4"),
            "character_orientation": "video",
            "mode": "pro",
            "prompt": "she dances",
            "keep_original_sound": "no",
            "external_task_id": ext,
        })
    );
    let img = body["image_url"].as_str().unwrap();
    assert!(!img.starts_with("data:") && !img.contains('\n'));
    // The journal keeps neither the key nor the base64.
    let row = done.record();
    assert_eq!(row.external_task_id.as_deref(), Some(ext.as_str()));
    assert_eq!(row.task_id.as_deref(), Some("860000000001"));
    let bytes = journal_bytes(&s);
    assert!(!contains(&bytes, KEY), "key in journal");
    assert!(!contains(&bytes, &b64[..64]), "base64 in journal");
    assert!(!format!("{:?}", s.client).contains(KEY));
}

#[test]
fn powertokens_goes_under_kling_prefix() {
    let s = setup(Provider::Powertokens);
    let inputs = url_inputs(Provider::Powertokens);
    let row = go(&s, &inputs, false, &timing()).unwrap().record().clone();
    let p = &s.fake.posts()[0];
    assert_eq!(p.path, "/kling/v1/videos/motion-control");
    let body = p.json();
    assert_eq!(body["model_name"], "kling-v3");
    assert_eq!(body["image_url"], cdn("photo.jpg"));
    assert_eq!(body["mode"], "std");
    assert!(body.get("keep_original_sound").is_none());
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut quiet()).unwrap();
    assert_eq!(task.status, Status::Succeeded);
    let gets: Vec<String> = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(gets[0], "/kling/v1/videos/motion-control/860000000001");
}

fn novita_like(provider: Provider) {
    let s = setup(provider);
    let (mut inputs, b64) = file_inputs(provider);
    inputs.mode = Mode::Pro;
    inputs.orientation = Orientation::Image;
    inputs.prompt = Some("smooth".into());
    inputs.negative_prompt = Some("blur".into());
    inputs.keep_sound = Some(true);
    let row = go(&s, &inputs, false, &timing()).unwrap().record().clone();
    let p = &s.fake.posts()[0];
    assert_eq!(p.path, "/v3/async/kling-v3.0-motion-control");
    assert_eq!(
        p.json(),
        json!({
            "image": b64,
            "video": cdn("dance.mp4"),
            "model_name": "kling-v3-0-pro",
            "character_orientation": "image",
            "prompt": "smooth",
            "negative_prompt": "blur",
            "keep_original_sound": true,
        })
    );
    assert!(row.external_task_id.is_none());
    let mut lines = Vec::new();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |l: &str| {
        lines.push(l.to_string())
    })
    .unwrap();
    assert_eq!(task.status, Status::Succeeded);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TASK_STATUS_PROCESSING (40%)")),
        "{lines:?}"
    );
    let get = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .unwrap();
    assert_eq!(get.path, "/v3/async/task-result?task_id=novita-task-1");
    let out = s.dir.join("out");
    let (path, facts) = submit::download(&s.client, &s.journal, &row, &task, &out).unwrap();
    assert!(matches!(facts, preflight::MediaFacts::Video(_)));
    assert_eq!(std::fs::read(&path).unwrap(), video_bytes());
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp file left: {names:?}");
    let row = s.journal.get(row.id).unwrap();
    assert_eq!(row.status, "succeeded");
    assert_eq!(
        row.result_path.as_deref(),
        Some(path.display().to_string().as_str())
    );
    // The download went out without the key.
    let dl = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/files/"))
        .unwrap();
    assert!(dl.header("Authorization").is_none());
}

#[test]
fn novita_request_and_result() {
    novita_like(Provider::Novita);
}

#[test]
fn highway_request_and_result() {
    novita_like(Provider::Highway);
}

#[test]
fn aihubmax_request_urls_only_and_waits_out_empty_results() {
    let s = setup(Provider::Aihubmax);
    s.fake.with(|st| {
        st.empty_results_polls = 3;
        st.results_as_objects = true;
    });
    let (file, _) = file_inputs(Provider::Aihubmax);
    let err = go(&s, &file, false, &timing()).unwrap_err();
    assert!(matches!(err, SubmitError::Refused(_)));
    assert!(err.to_string().contains("only a public URL"), "{err}");
    assert!(s.fake.requests().is_empty());

    let mut inputs = url_inputs(Provider::Aihubmax);
    inputs.model = Model::KlingV2_6;
    inputs.prompt = Some("p".into());
    inputs.keep_sound = Some(true);
    let row = go(&s, &inputs, false, &timing()).unwrap().record().clone();
    let p = &s.fake.posts()[0];
    assert_eq!(p.path, "/v1/videos/generations");
    assert_eq!(
        p.json(),
        json!({
            "model": "kling-v2-6-motion-control",
            "image_url": cdn("photo.jpg"),
            "video_url": cdn("dance.mp4"),
            "mode": "std",
            "prompt": "p",
            "character_orientation": "video",
            "keep_original_sound": "yes",
        })
    );
    let mut lines = Vec::new();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |l: &str| {
        lines.push(l.to_string())
    })
    .unwrap();
    assert!(task.videos[0].ends_with(".mp4"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("completed (no result links yet)")),
        "{lines:?}"
    );
    let gets = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(
        gets,
        3 + 3,
        "pending, processing, 3 empty completed, then links"
    );
}

#[test]
fn concurrency_limit_1303_backs_off_honouring_retry_after() {
    let s = setup(Provider::Kling);
    let busy = json!({"code": 1303, "message": "parallel task over resource pack limit", "request_id": "r"});
    s.fake.script(vec![
        CreateStep::Reject {
            http: 429,
            body: busy.clone(),
            retry_after: Some(1),
        },
        CreateStep::Reject {
            http: 429,
            body: busy,
            retry_after: None,
        },
    ]);
    let mut notes = Vec::new();
    let start = Instant::now();
    let done = submit::submit(
        &s.client,
        &s.journal,
        &url_inputs(Provider::Kling),
        false,
        &timing(),
        &mut |l: &str| notes.push(l.to_string()),
    )
    .unwrap();
    // Retry-After: 1 honoured (a sleep never returns early), then the
    // doubled backoff: the planned pauses are in the notes.
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert!(matches!(done, Submitted::Created(_)));
    assert_eq!(s.fake.posts().len(), 3);
    assert_eq!(s.fake.tasks_created(), 1);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].ends_with("trying again in 1.0 s"), "{notes:?}");
    assert!(notes[1].ends_with("trying again in 0.0 s"), "{notes:?}");
    // Same external id on every attempt.
    let ids: Vec<Value> = s
        .fake
        .posts()
        .iter()
        .map(|p| p.json()["external_task_id"].clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn rate_limit_gives_up_with_typed_error() {
    let mut t = timing();
    t.create_attempts = 2;
    let s = setup_with(Provider::Novita, &t);
    let busy = json!({"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "slow down", "metadata": {}});
    s.fake.script(vec![
        CreateStep::Reject {
            http: 429,
            body: busy.clone(),
            retry_after: None,
        },
        CreateStep::Reject {
            http: 429,
            body: busy,
            retry_after: None,
        },
    ]);
    let err = go(&s, &url_inputs(Provider::Novita), false, &t).unwrap_err();
    assert!(
        matches!(err, SubmitError::RateLimited { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(s.fake.tasks_created(), 0);
    // Nothing was created, so the same inputs may be sent again without --again.
    go(&s, &url_inputs(Provider::Novita), false, &t).unwrap();
    assert_eq!(s.fake.tasks_created(), 1);
}

#[test]
fn server_error_5002_after_create_is_looked_up_not_recreated() {
    let s = setup(Provider::Kling);
    s.fake.script(vec![CreateStep::CreateThenFail {
        http: 504,
        body: json!({"code": 5002, "message": "server timeout", "request_id": "r"}),
    }]);
    let done = go(&s, &url_inputs(Provider::Kling), false, &timing()).unwrap();
    assert!(matches!(done, Submitted::Recovered(_)), "{done:?}");
    assert_eq!(s.fake.posts().len(), 1);
    assert_eq!(s.fake.tasks_created(), 1);
    let ext = done.record().external_task_id.clone().unwrap();
    let lookup = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .unwrap();
    assert_eq!(lookup.path, format!("/v1/videos/motion-control/{ext}"));
    assert_eq!(done.record().task_id.as_deref(), Some("860000000001"));
}

#[test]
fn timeout_after_create_is_looked_up_not_recreated() {
    let mut t = timing();
    t.http.io_timeout = Duration::from_millis(300);
    let s = setup_with(Provider::Powertokens, &t);
    s.fake.script(vec![CreateStep::CreateThenHang]);
    let done = go(&s, &url_inputs(Provider::Powertokens), false, &t).unwrap();
    assert!(matches!(done, Submitted::Recovered(_)), "{done:?}");
    assert_eq!(s.fake.posts().len(), 1);
    assert_eq!(s.fake.tasks_created(), 1);
}

#[test]
fn timeout_without_external_ids_marks_unknown_and_never_recreates() {
    let mut t = timing();
    t.http.io_timeout = Duration::from_millis(300);
    let s = setup_with(Provider::Highway, &t);
    s.fake.script(vec![CreateStep::CreateThenHang]);
    let inputs = url_inputs(Provider::Highway);
    let err = go(&s, &inputs, false, &t).unwrap_err();
    assert!(matches!(err, SubmitError::Unknown { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("asking explicitly for a new (paid) task"));
    assert!(
        !err.to_string().contains("--"),
        "no CLI flags in library errors"
    );
    let rows = s.journal.list().unwrap();
    assert_eq!(rows[0].status, state::UNKNOWN);
    // The same command again: still no second create.
    let err = go(&s, &inputs, false, &t).unwrap_err();
    assert!(matches!(err, SubmitError::Unknown { .. }));
    assert_eq!(s.fake.posts().len(), 1);
    // --again pays for a new one, on purpose.
    let again = go(&s, &inputs, true, &t).unwrap();
    assert!(matches!(again, Submitted::Created(_)));
    assert_eq!(s.fake.posts().len(), 2);
}

#[test]
fn crash_between_create_and_record_is_recovered_by_external_id() {
    let s = setup(Provider::Kling);
    let inputs = url_inputs(Provider::Kling);
    // What a crashed run leaves: the row in `sending`, and the task at the provider.
    let row = s
        .journal
        .begin(&inputs, Some("preflight-crashed-run"), &s.fake.base)
        .unwrap();
    s.client
        .create(&inputs, &inputs.body(row.external_task_id.as_deref()))
        .unwrap();
    assert_eq!(s.journal.get(row.id).unwrap().status, state::SENDING);
    let done = go(&s, &inputs, false, &timing()).unwrap();
    assert!(matches!(done, Submitted::Recovered(_)), "{done:?}");
    assert_eq!(done.record().id, row.id);
    assert_eq!(done.record().task_id.as_deref(), Some("860000000001"));
    assert_eq!(s.fake.posts().len(), 1, "no second create");
}

#[test]
fn crash_before_create_sends_it_once() {
    let s = setup(Provider::Kling);
    let inputs = url_inputs(Provider::Kling);
    s.journal
        .begin(&inputs, Some("preflight-never-sent"), &s.fake.base)
        .unwrap();
    let done = go(&s, &inputs, false, &timing()).unwrap();
    assert!(matches!(done, Submitted::Created(_)));
    assert_eq!(
        s.fake.posts()[0].json()["external_task_id"],
        "preflight-never-sent"
    );
    assert_eq!(s.fake.tasks_created(), 1);
}

#[test]
fn repeated_submit_returns_the_existing_task() {
    let s = setup(Provider::Novita);
    let (inputs, _) = file_inputs(Provider::Novita);
    let first = go(&s, &inputs, false, &timing()).unwrap();
    let second = go(&s, &inputs, false, &timing()).unwrap();
    assert!(matches!(second, Submitted::Existing(_)));
    assert_eq!(first.record().task_id, second.record().task_id);
    let mut other = inputs.clone();
    other.prompt = Some("different".into());
    assert!(matches!(
        go(&s, &other, false, &timing()).unwrap(),
        Submitted::Created(_)
    ));
    assert_eq!(s.fake.tasks_created(), 2);
}

#[test]
fn typed_errors_carry_the_providers_message() {
    let s = setup(Provider::Kling);
    s.fake.script(vec![
        CreateStep::Reject {
            http: 400,
            body: json!({"code": 1201, "message": "video duration exceeds 10s", "request_id": "r"}),
            retry_after: None,
        },
        CreateStep::Reject {
            http: 400,
            body: json!({"code": 1301, "message": "risk control", "request_id": "r"}),
            retry_after: None,
        },
        CreateStep::Reject {
            http: 429,
            body: json!({"code": 1102, "message": "resource pack used up", "request_id": "r"}),
            retry_after: None,
        },
        CreateStep::Reject {
            http: 403,
            body: json!({"code": 1103, "message": "no access", "request_id": "r"}),
            retry_after: None,
        },
    ]);
    let i = url_inputs(Provider::Kling);
    let e = go(&s, &i, false, &timing()).unwrap_err();
    assert!(
        matches!(e, SubmitError::InvalidParameter { .. })
            && e.to_string().contains("video duration exceeds 10s"),
        "{e}"
    );
    assert!(matches!(
        go(&s, &i, false, &timing()).unwrap_err(),
        SubmitError::ContentPolicy { .. }
    ));
    assert!(matches!(
        go(&s, &i, false, &timing()).unwrap_err(),
        SubmitError::Balance { .. }
    ));
    assert!(matches!(
        go(&s, &i, false, &timing()).unwrap_err(),
        SubmitError::NoModelAccess { .. }
    ));
    assert_eq!(s.fake.tasks_created(), 0);
    assert!(s
        .journal
        .list()
        .unwrap()
        .iter()
        .all(|r| r.status == state::REJECTED));

    let n = setup(Provider::Novita);
    n.fake.script(vec![CreateStep::Reject { http: 400, body: json!({"code": 400, "reason": "NOT_ENOUGH_BALANCE", "message": "top up", "metadata": {}}), retry_after: None }]);
    assert!(matches!(
        go(&n, &url_inputs(Provider::Novita), false, &timing()).unwrap_err(),
        SubmitError::Balance { .. }
    ));

    let a = setup(Provider::Aihubmax);
    a.fake
        .with(|st| st.expected_auth = Some("Bearer other".into()));
    let e = go(&a, &url_inputs(Provider::Aihubmax), false, &timing()).unwrap_err();
    assert!(matches!(e, SubmitError::Auth { .. }), "{e:?}");
    assert!(e.to_string().contains("AIHUBMAX_API_KEY") && !e.to_string().contains(KEY));
}

#[test]
fn failed_task_reports_the_reason() {
    let s = setup(Provider::Kling);
    s.fake.with(|st| st.statuses = vec!["queued", "failed"]);
    let row = go(&s, &url_inputs(Provider::Kling), false, &timing())
        .unwrap()
        .record()
        .clone();
    let e = submit::wait(&s.client, &s.journal, &row, &timing(), &mut quiet()).unwrap_err();
    assert!(
        matches!(e, SubmitError::TaskFailed { .. })
            && e.to_string().contains("content risk control"),
        "{e}"
    );
    assert_eq!(s.journal.get(row.id).unwrap().status, "failed");
}

#[test]
fn slow_completion_times_out_then_resumes() {
    let mut t = timing();
    t.wait_timeout = Duration::from_millis(150);
    let s = setup_with(Provider::Kling, &t);
    let mut seq = vec!["queued"; 3];
    seq.extend(vec!["processing"; 20]);
    seq.push("succeeded");
    s.fake.with(|st| st.statuses = seq);
    let row = go(&s, &url_inputs(Provider::Kling), false, &t)
        .unwrap()
        .record()
        .clone();
    let e = submit::wait(&s.client, &s.journal, &row, &t, &mut quiet()).unwrap_err();
    assert!(matches!(e, SubmitError::WaitTimeout { .. }), "{e:?}");
    assert!(e.to_string().contains("860000000001") && !e.to_string().contains("--"));
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut quiet()).unwrap();
    assert_eq!(task.status, Status::Succeeded);
    assert_eq!(s.fake.tasks_created(), 1);
}

#[test]
fn expired_link_is_a_clear_error() {
    let s = setup(Provider::Aihubmax);
    s.fake.with(|st| st.expired_downloads = 100);
    let row = go(&s, &url_inputs(Provider::Aihubmax), false, &timing())
        .unwrap()
        .record()
        .clone();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut quiet()).unwrap();
    let e = submit::download(&s.client, &s.journal, &row, &task, &s.dir.join("out")).unwrap_err();
    assert!(
        matches!(e, SubmitError::LinkExpired { status: 410, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("expired") && e.to_string().contains("fresh link"));
    let left = std::fs::read_dir(s.dir.join("out"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "no partial file");
    // One expired answer: a fresh query, then the file.
    s.fake.with(|st| st.expired_downloads = 1);
    let (path, _) =
        submit::download(&s.client, &s.journal, &row, &task, &s.dir.join("out")).unwrap();
    assert!(path.exists());
}

#[test]
fn refused_before_any_request() {
    let s = setup(Provider::Kling);
    let mut long = url_inputs(Provider::Kling);
    long.prompt = Some("x".repeat(2501));
    assert!(go(&s, &long, false, &timing())
        .unwrap_err()
        .to_string()
        .contains("2501 characters"));
    let mut neg = url_inputs(Provider::Kling);
    neg.negative_prompt = Some("blur".into());
    assert!(go(&s, &neg, false, &timing())
        .unwrap_err()
        .to_string()
        .contains("no negative prompt"));
    let mut local = url_inputs(Provider::Kling);
    local.video_url = "dance.mp4".into();
    assert!(go(&s, &local, false, &timing())
        .unwrap_err()
        .to_string()
        .contains("public http(s) URL"));
    let mut model = url_inputs(Provider::Novita);
    model.model = Model::KlingV2_6;
    let n = setup(Provider::Novita);
    assert!(go(&n, &model, false, &timing()).is_err());
    let mut ok = url_inputs(Provider::Kling);
    ok.prompt = Some("é".repeat(2500));
    go(&s, &ok, false, &timing()).unwrap();
    assert_eq!(s.fake.posts().len(), 1, "only the valid one was sent");
    assert!(n.fake.requests().is_empty());
}

#[test]
fn legacy_jwt_auth_is_sent_as_bearer_jwt() {
    let fake = Fake::start(video_bytes());
    let creds = Credentials::from_lookup(Provider::Kling, |k| match k {
        "KLING_ACCESS_KEY" => Some("ak-123".into()),
        "KLING_SECRET_KEY" => Some("sk-456".into()),
        _ => None,
    })
    .unwrap();
    let client = Client::new(
        Provider::Kling,
        Some(fake.base.clone()),
        creds,
        timing().http,
    );
    let inputs = url_inputs(Provider::Kling);
    client.create(&inputs, &inputs.body(None)).unwrap();
    let auth = fake.posts()[0].header("Authorization").unwrap().to_string();
    let token = auth.strip_prefix("Bearer ").unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert!(!auth.contains("sk-456"));
}

#[test]
fn polling_intervals_grow_up_to_the_cap() {
    let mut t = timing();
    t.poll_min = Duration::from_millis(20);
    t.poll_factor = 2.0;
    t.poll_max = Duration::from_millis(80);
    let s = setup_with(Provider::Kling, &t);
    s.fake.with(|st| {
        st.statuses = vec![
            "queued",
            "processing",
            "processing",
            "processing",
            "processing",
            "succeeded",
        ]
    });
    let row = go(&s, &url_inputs(Provider::Kling), false, &t)
        .unwrap()
        .record()
        .clone();
    submit::wait(&s.client, &s.journal, &row, &t, &mut quiet()).unwrap();
    let at: Vec<Instant> = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.at)
        .collect();
    assert_eq!(at.len(), 6);
    // The schedule itself: 20, 40, 80, 80, 80 ms (doubling, capped).
    let planned: Vec<Duration> = t.poll_intervals().take(5).collect();
    let ms = |v: u64| Duration::from_millis(v);
    assert_eq!(planned, [ms(20), ms(40), ms(80), ms(80), ms(80)]);
    // And it is followed: each gap is at least its pause (a sleep never
    // returns early; how much longer a loaded machine takes is not asserted).
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, pause) in gaps.iter().zip(&planned) {
        assert!(gap >= pause, "{gaps:?} vs {planned:?}");
    }
}
