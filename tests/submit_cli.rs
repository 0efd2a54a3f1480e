//! `preflight submit | status | tasks` against a fake provider on 127.0.0.1.

#[path = "../crates/submit/tests/support/fake.rs"]
pub(crate) mod fake;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::s3_server as s3;
use fake::{cdn, CreateStep, Fake};
use serde_json::Value;

pub(crate) const KEY: &str = "sk-cli-SECRET-77e1b2";
/// The signature in the fake fal's signed upload URLs.
const FAL_UPLOAD_SIGNATURE: &str = "0123456789abcdef0123456789abcdef";
const S3_ACCESS: &str = "AKIDPREFLIGHTTEST";
const S3_SECRET: &str = "s3-SECRET-9d2f6c0a7b";

/// No `X-Amz-Signature=` followed by a real (hex) value.
fn assert_no_signature(text: &str) {
    for (i, _) in text.match_indices("X-Amz-Signature=") {
        let value: String = text[i + 16..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        assert!(value.len() < 16, "a signature leaked: {}", &text[i..]);
    }
}

pub(crate) fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
        .display()
        .to_string()
}

pub(crate) struct Env {
    pub(crate) fake: Fake,
    pub(crate) tmp: tempfile::TempDir,
    provider: &'static str,
    extra: Vec<(String, String)>,
    s3: Option<s3::S3Server>,
}

/// The variable that holds `provider`'s key (their SDKs' names).
fn key_var(provider: &str) -> String {
    match provider {
        "fal" => "FAL_KEY".into(),
        "replicate" => "REPLICATE_API_TOKEN".into(),
        p => format!("{}_API_KEY", p.to_uppercase()),
    }
}

impl Env {
    pub(crate) fn new(provider: &'static str) -> Env {
        let fake = Fake::start(std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).unwrap());
        fake.with(|s| {
            s.expected_auth = Some(format!("Bearer {KEY}"));
            s.api_key = Some(KEY.to_string());
        });
        Env {
            fake,
            tmp: tempfile::tempdir().unwrap(),
            provider,
            extra: Vec::new(),
            s3: None,
        }
    }

    /// The same, with an S3 server on loopback and its credentials in the environment.
    fn with_store(provider: &'static str) -> Env {
        let mut env = Env::new(provider);
        let s3 = s3::S3Server::start("media", S3_ACCESS, S3_SECRET);
        env.extra.extend([
            ("AWS_ENDPOINT_URL".to_string(), s3.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".to_string(), S3_ACCESS.to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), S3_SECRET.to_string()),
            ("AWS_REGION".to_string(), "eu-west-3".to_string()),
        ]);
        env.s3 = Some(s3);
        env
    }

    fn s3(&self) -> &s3::S3Server {
        self.s3.as_ref().expect("an S3 server")
    }

    pub(crate) fn journal(&self) -> PathBuf {
        self.tmp.path().join("journal.sqlite3")
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_preflight"));
        c.env_clear()
            .env("HOME", self.tmp.path())
            .env("PREFLIGHT_JOURNAL", self.journal())
            .env("PREFLIGHT_POLL_MIN_MS", "10")
            .env("PREFLIGHT_POLL_MAX_MS", "40")
            .env("PREFLIGHT_BACKOFF_MIN_MS", "10")
            .env(
                format!("PREFLIGHT_{}_BASE_URL", self.provider.to_uppercase()),
                &self.fake.base,
            )
            .env(
                format!("PREFLIGHT_{}_UPLOAD_URL", self.provider.to_uppercase()),
                &self.fake.base,
            )
            .env(key_var(self.provider), KEY)
            .current_dir(self.tmp.path())
            .args(args);
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    /// Start a run in the background and return once the provider has made
    /// `tasks` tasks, so the caller can kill it mid-way.
    pub(crate) fn spawn_until_tasks(&self, args: &[&str], tasks: usize) -> std::process::Child {
        let child = self
            .cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while self.fake.tasks_created() < tasks {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the tasks never arrived"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = self
            .cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("run preflight");
        let run = Run::from(out);
        // Shown when a test fails (or with --nocapture).
        eprintln!("$ preflight {}\n{run:?}", args.join(" "));
        run.assert_no_key(self);
        run
    }
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    fn assert_no_key(&self, env: &Env) {
        let secrets = env.secrets();
        for secret in &secrets {
            assert!(
                !self.stdout.contains(secret.as_str()) && !self.stderr.contains(secret.as_str()),
                "secret printed: {secret}"
            );
        }
        assert_no_signature(&self.stdout);
        assert_no_signature(&self.stderr);
        for name in [
            "journal.sqlite3",
            "journal.sqlite3-wal",
            "journal.sqlite3-journal",
            "report.json",
        ] {
            if let Ok(bytes) = std::fs::read(env.tmp.path().join(name)) {
                for secret in &secrets {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "secret in {name}"
                    );
                }
                assert_no_signature(&String::from_utf8_lossy(&bytes));
            }
        }
    }
}

impl Env {
    /// The provider key, the storage secret, and every signature the provider was given.
    fn secrets(&self) -> Vec<String> {
        let mut out = vec![
            KEY.to_string(),
            S3_SECRET.to_string(),
            FAL_UPLOAD_SIGNATURE.to_string(),
        ];
        for post in self.fake.posts() {
            for (i, _) in post.body.match_indices("X-Amz-Signature=") {
                let sig: String = post.body[i + 16..]
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                out.push(sig);
            }
        }
        out
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub(crate) fn tasks_json(env: &Env) -> Vec<Value> {
    let r = env.run(&["tasks", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn submit_wait_download_end_to_end_without_leaking_the_key() {
    use base64::Engine;
    let env = Env::new("kling");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let out = env.tmp.path().join("results");
    let r = env.run(&[
        "submit",
        "--image",
        &image,
        "--video",
        &cdn("dance.mp4"),
        "--mode",
        "pro",
        "--keep-sound",
        "no",
        "--wait",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("created kling task 860000000001"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("saved ") && r.stdout.contains("720x1280"),
        "{r:?}"
    );
    assert!(r.stderr.contains("processing"), "progress on stderr: {r:?}");
    let saved = out.join("kling-860000000001.mp4");
    assert_eq!(
        std::fs::read(&saved).unwrap().len(),
        std::fs::metadata(fixture("videos/ok_720x1280_5s.mp4"))
            .unwrap()
            .len() as usize
    );
    let body = env.fake.posts()[0].json();
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&image).unwrap());
    assert_eq!(body["image_url"], Value::String(b64));
    assert_eq!(body["keep_original_sound"], "no");
    assert_eq!(body["mode"], "pro");
    let rows = tasks_json(&env);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "succeeded");
    assert_eq!(rows[0]["result_path"], saved.display().to_string());
    let table = env.run(&["tasks"]);
    assert!(
        table.stdout.contains("860000000001") && table.stdout.contains("succeeded"),
        "{table:?}"
    );
}

#[test]
fn repeated_command_returns_the_existing_task_and_status_refreshes_it() {
    let env = Env::new("novita");
    let args = [
        "submit",
        "-p",
        "novita",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &cdn("dance.mp4"),
    ];
    let first = env.run(&args);
    assert_eq!(first.code, 0, "{first:?}");
    let second = env.run(&args);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.stdout.contains("already submitted"), "{second:?}");
    assert_eq!(env.fake.posts().len(), 1);
    let st = env.run(&["status", "novita-task-1"]);
    assert_eq!(st.code, 0, "{st:?}");
    assert!(st.stdout.contains("novita novita-task-1: queued"), "{st:?}");
    let out = env.tmp.path().join("res");
    let st = env.run(&[
        "status",
        "novita-task-1",
        "--wait",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(st.code, 0, "{st:?}");
    assert!(out.join("novita-novita-task-1.mp4").exists(), "{st:?}");
    assert_eq!(env.fake.tasks_created(), 1);
    // --again pays for a new one, on purpose.
    let mut again = args.to_vec();
    again.push("--again");
    assert_eq!(env.run(&again).code, 0);
    assert_eq!(env.fake.tasks_created(), 2);
}

#[test]
fn non_compliant_image_is_repaired_refused_with_no_fix_or_sent_with_force() {
    let env = Env::new("kling");
    let tiny = fixture("images/tiny_200x150.png");
    let video = cdn("dance.mp4");
    let r = env.run(&["submit", "--image", &tiny, "--video", &video, "--no-fix"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("image.width.min") && r.stderr.contains("preflight fix"),
        "{r:?}"
    );
    assert!(env.fake.requests().is_empty());
    let r = env.run(&["submit", "--image", &tiny, "--video", &video, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.fake.posts().len(), 1);
    // By default the image is repaired into the cache and the repaired copy sent.
    let r = env.run(&[
        "submit", "--image", &tiny, "--video", &video, "--prompt", "x",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("tiny_200x150.png") && r.stderr.contains(".cache/preflight"),
        "{r:?}"
    );
    use base64::Engine;
    let body = env.fake.posts()[1].json();
    let sent = base64::engine::general_purpose::STANDARD
        .decode(body["image_url"].as_str().unwrap())
        .unwrap();
    assert_ne!(
        sent,
        std::fs::read(&tiny).unwrap(),
        "the repaired copy was sent"
    );
}

#[test]
fn local_inputs_that_must_be_links_need_an_upload_store() {
    let env = Env::new("kling");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let r = env.run(&["submit", "--image", &cdn("p.jpg"), "--video", &video]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("no upload store") && r.stderr.contains("--upload s3://"),
        "{r:?}"
    );
    let env = Env::new("aihubmax");
    let r = env.run(&[
        "submit",
        "-p",
        "aihubmax",
        "--image",
        &fixture("images/portrait_720x1280_ok.jpg"),
        "--video",
        &cdn("dance.mp4"),
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--upload-cmd"), "{r:?}");
    assert!(env.fake.requests().is_empty());
}

#[test]
fn missing_key_is_a_clear_usage_error() {
    let env = Env::new("highway");
    let out = env
        .cmd(&[
            "submit",
            "-p",
            "highway",
            "--image",
            &cdn("p.jpg"),
            "--video",
            &cdn("dance.mp4"),
        ])
        .env_remove("HIGHWAY_API_KEY")
        .output()
        .unwrap();
    let r = Run::from(out);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("HIGHWAY_API_KEY"), "{r:?}");
    assert!(env.fake.requests().is_empty());
}

#[test]
fn crash_between_create_and_record_never_creates_a_second_task() {
    let env = Env::new("powertokens");
    env.fake.script(vec![CreateStep::CreateThenHang]);
    let args = [
        "submit",
        "-p",
        "powertokens",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &cdn("dance.mp4"),
    ];
    let mut child = env.spawn_until_tasks(&args, 1);
    // The provider has made the task; the client dies before hearing of it.
    child.kill().unwrap();
    child.wait().unwrap();
    let rows = tasks_json(&env);
    assert_eq!(rows[0]["status"], "sending");
    let ext = rows[0]["external_task_id"].as_str().unwrap().to_string();
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("found powertokens task 860000000001"),
        "{r:?}"
    );
    assert!(r.stderr.contains(&ext), "{r:?}");
    assert_eq!(env.fake.posts().len(), 1, "no second create");
    assert_eq!(tasks_json(&env)[0]["task_id"], "860000000001");
}

#[test]
fn timeout_after_create_without_external_ids_is_never_recreated() {
    let mut env = Env::new("highway");
    env.extra
        .push(("PREFLIGHT_HTTP_TIMEOUT_MS".into(), "300".into()));
    env.fake.script(vec![CreateStep::CreateThenHang]);
    let args = [
        "submit",
        "-p",
        "highway",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &cdn("dance.mp4"),
    ];
    let r = env.run(&args);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("may or may not exist") && r.stderr.contains("--again"),
        "{r:?}"
    );
    let r = env.run(&args);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(env.fake.posts().len(), 1, "no blind second create");
    assert_eq!(tasks_json(&env)[0]["status"], "unknown");
}

#[test]
fn help_teaches_examples_keys_and_exit_codes() {
    let env = Env::new("kling");
    let r = env.run(&["submit", "--help"]);
    assert_eq!(r.code, 0);
    for needle in [
        "Examples:",
        "KLING_ACCESS_KEY",
        "PREFLIGHT_KLING_BASE_URL",
        "Exit status",
        "--again",
        "--negative-prompt",
    ] {
        assert!(r.stdout.contains(needle), "{needle} missing: {}", r.stdout);
    }
    let r = env.run(&["status", "--help"]);
    assert!(r.stdout.contains("--wait") && r.stdout.contains("PREFLIGHT_JOURNAL"));
}

#[test]
fn journal_defaults_to_the_data_folder_and_base_url_flag_wins() {
    let env = Env::new("novita");
    let data = env.tmp.path().join("data");
    let r = Run::from(
        env.cmd(&[
            "submit",
            "-p",
            "novita",
            "--image",
            &cdn("p.jpg"),
            "--video",
            &cdn("dance.mp4"),
            "--base-url",
            &env.fake.base,
        ])
        .env_remove("PREFLIGHT_JOURNAL")
        .env("XDG_DATA_HOME", &data)
        // The flag beats the environment: this address would refuse connections.
        .env("PREFLIGHT_NOVITA_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(data.join("preflight/journal.sqlite3").exists());
    assert!(!env.journal().exists());
    assert_eq!(env.fake.posts().len(), 1);
}

#[test]
fn status_of_a_task_outside_the_journal_needs_a_provider() {
    let env = Env::new("aihubmax");
    let r = env.run(&["status", "task-unified-1757165031-00000001"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--provider"), "{r:?}");
    // A task made elsewhere (say, in the provider's console).
    env.run(&[
        "submit",
        "-p",
        "aihubmax",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &cdn("dance.mp4"),
        "--journal",
        "other.sqlite3",
    ]);
    let r = env.run(&[
        "status",
        "-p",
        "aihubmax",
        "task-unified-1757165031-00000001",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("queued"), "{r:?}");
}

/// A raw phone clip, made once per run: 3.5 s of HEVC in a .mov, stored
/// 640x360 with a 90° rotation flag, AAC sound. Not H.264, rotated: `fix`
/// would re-encode it.
pub(crate) fn raw_clip() -> PathBuf {
    static CLIP: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CLIP.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("submit-media");
        std::fs::create_dir_all(&dir).unwrap();
        let clip = dir.join("phone_hevc_rotated.mov");
        if !clip.exists() {
            let encoded = dir.join(format!("encoded-{}.mov", std::process::id()));
            let part = dir.join(format!("part-{}.mov", std::process::id()));
            let ffmpeg = |args: &[&str], out: &std::path::Path| {
                let status = Command::new("ffmpeg")
                    .args(["-v", "error", "-y"])
                    .args(args)
                    .arg(out)
                    .status()
                    .expect("ffmpeg");
                assert!(status.success(), "ffmpeg {args:?}");
            };
            ffmpeg(
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=640x360:rate=30",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=440:sample_rate=44100",
                    "-t",
                    "3.5",
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-x265-params",
                    "log-level=none",
                    "-tag:v",
                    "hvc1",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-shortest",
                ],
                &encoded,
            );
            // The rotation flag sticks only on a stream copy (FFmpeg 5).
            let input = encoded.display().to_string();
            ffmpeg(
                &["-i", &input, "-c", "copy", "-metadata:s:v:0", "rotate=90"],
                &part,
            );
            let _ = std::fs::remove_file(&encoded);
            std::fs::rename(&part, &clip).unwrap();
        }
        clip
    })
    .clone()
}

pub(crate) fn ffprobe(path: &std::path::Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "ffprobe {}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What the fake provider fetched from a link: H.264 yuv420p in MP4, upright
/// 360x640, no rotation flag, moov before mdat.
pub(crate) fn assert_compliant_mp4(bytes: &[u8], dir: &std::path::Path) {
    let path = dir.join("fetched.mp4");
    std::fs::write(&path, bytes).unwrap();
    let p = ffprobe(&path);
    assert!(
        p["format"]["format_name"].as_str().unwrap().contains("mp4"),
        "{p}"
    );
    let v = p["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap();
    assert_eq!(v["codec_name"], "h264", "{v}");
    assert_eq!(v["pix_fmt"], "yuv420p", "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(360), Some(640)),
        "{v}"
    );
    let rotation = v["side_data_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["rotation"].as_i64())
        .find(|r| *r != 0);
    assert_eq!(rotation, None, "{v}");
    let at = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(at(b"moov") < at(b"mdat"), "faststart");
}

fn raw_pair_args<'a>(
    provider: &'a str,
    heic: &'a str,
    clip: &'a str,
    out: &'a str,
) -> Vec<&'a str> {
    vec![
        "submit",
        "-p",
        provider,
        "--image",
        heic,
        "--video",
        clip,
        "--upload",
        "s3://media/runs",
        "--wait",
        "--out",
        out,
    ]
}

/// One command from a raw phone clip and a HEIC photo to a downloaded result;
/// the same command again sends nothing.
fn raw_files_to_result(provider: &'static str) {
    let env = Env::with_store(provider);
    let out = env.tmp.path().join("results");
    let heic = fixture("images/heic_720x1280.heic");
    let clip = raw_clip().display().to_string();
    let args = raw_pair_args(provider, &heic, &clip, out.to_str().unwrap());
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("created {provider} task")),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("saved ") && r.stderr.contains("reencoded"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "one result downloaded"
    );

    let fetched = env.fake.fetched();
    let video = fetched
        .iter()
        .find(|f| f.field == "video")
        .expect("video fetched");
    assert_eq!(
        (video.status, &video.problem),
        (200, &None),
        "{:?}",
        video.url
    );
    assert!(video
        .url
        .starts_with(&format!("{}/media/runs/", env.s3().endpoint)));
    assert_compliant_mp4(&video.bytes, env.tmp.path());
    let body = env.fake.posts()[0].json();
    let links_only = provider == "aihubmax";
    let image_bytes = if links_only {
        let image = fetched
            .iter()
            .find(|f| f.field == "image")
            .expect("image fetched");
        assert_eq!((image.status, &image.problem), (200, &None));
        image.bytes.clone()
    } else {
        use base64::Engine;
        let field = if provider == "novita" || provider == "highway" {
            "image"
        } else {
            "image_url"
        };
        let text = body[field].as_str().unwrap();
        assert!(
            !text.starts_with("data:") && !text.starts_with("http"),
            "raw base64"
        );
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    };
    let jpeg = env.tmp.path().join("sent.jpg");
    std::fs::write(&jpeg, &image_bytes).unwrap();
    let p = ffprobe(&jpeg);
    assert_eq!(
        p["streams"][0]["codec_name"], "mjpeg",
        "the HEIC went as JPEG: {p}"
    );

    let objects = env.s3().objects();
    assert_eq!(objects.len(), if links_only { 2 } else { 1 }, "{objects:?}");
    assert!(objects
        .iter()
        .any(|o| o.starts_with("runs/") && o.ends_with(".mp4")));
    assert_eq!(env.s3().count("PUT"), objects.len());
    for q in env.s3().requests() {
        // A HEAD finds nothing, then the PUT, then the provider's GET.
        let want = if q.method == "HEAD" { 404 } else { 200 };
        assert!(
            q.path.starts_with("/media/runs/") && q.status == want,
            "{q:?}"
        );
    }

    let store_before = env.s3().requests().len();
    let again = env.run(&args);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("already submitted"), "{again:?}");
    assert!(
        again.stderr.contains("(done earlier)"),
        "no second repair: {again:?}"
    );
    assert_eq!(
        env.s3().requests().len(),
        store_before,
        "no store request at all"
    );
    assert_eq!(env.fake.posts().len(), 1, "no second task");
    assert_eq!(env.fake.tasks_created(), 1);
}

#[test]
fn raw_files_to_result_kling() {
    raw_files_to_result("kling");
}

#[test]
fn raw_files_to_result_powertokens() {
    raw_files_to_result("powertokens");
}

#[test]
fn raw_files_to_result_novita() {
    raw_files_to_result("novita");
}

#[test]
fn raw_files_to_result_highway() {
    raw_files_to_result("highway");
}

#[test]
fn raw_files_to_result_aihubmax_with_both_inputs_as_links() {
    raw_files_to_result("aihubmax");
}

#[test]
fn a_store_that_refuses_or_cannot_be_reached_creates_no_task() {
    let env = Env::with_store("novita");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let args = [
        "submit",
        "-p",
        "novita",
        "--image",
        &image,
        "--video",
        &video,
        "--upload",
        "s3://media/x",
    ];
    let wrong = "wrong-SECRET-5e5e5e";
    let r = Run::from(
        env.cmd(&args)
            .env("AWS_SECRET_ACCESS_KEY", wrong)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("refused the credentials") && r.stderr.contains("No task"),
        "{r:?}"
    );
    assert!(!r.stderr.contains(wrong) && !r.stdout.contains(wrong));
    r.assert_no_key(&env);
    let refused = env.s3().requests();
    assert!(
        !refused.is_empty() && refused.iter().all(|q| q.status == 403),
        "{refused:?}"
    );
    let r = Run::from(
        env.cmd(&args)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("could not reach the store"), "{r:?}");
    r.assert_no_key(&env);
    assert!(env.fake.requests().is_empty(), "no provider request");
    assert!(env.s3().objects().is_empty());
}

#[test]
fn an_expired_link_is_signed_again_before_a_create() {
    use submit::upload::{hash_file, S3Config, S3Store};
    let env = Env::with_store("highway");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let run = |prompt: &str| {
        env.run(&[
            "submit",
            "-p",
            "highway",
            "--image",
            &image,
            "--video",
            &video,
            "--upload",
            "s3://media/x",
            "--prompt",
            prompt,
        ])
    };
    assert_eq!(run("one").code, 0);
    // Two days pass: the journal's upload was signed the day before
    // yesterday for a day (the clock is moved in the journal, not waited for).
    let journal = submit::Journal::open(&env.journal()).unwrap();
    let lookup = |k: &str| {
        env.extra
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let store = S3Store::new(
        S3Config::from_lookup("s3://media/x", lookup).unwrap(),
        Default::default(),
    )
    .unwrap();
    let sha = hash_file(std::path::Path::new(&video)).unwrap();
    let mut row = journal
        .upload(&sha, store.label())
        .unwrap()
        .expect("the upload row");
    row.signed_at -= 2 * 86_400;
    row.ttl_s = 86_400;
    row.expires_at = Some(row.signed_at + row.ttl_s);
    journal.record_upload(&row).unwrap();
    drop(journal);
    // The store itself refuses that link now.
    let old = store.link(&row.key, row.signed_at, Duration::from_secs(86_400));
    match ureq::get(&old.url).call() {
        Err(ureq::Error::Status(403, _)) => {}
        other => panic!("the old link still works: {:?}", other.map(|r| r.status())),
    }
    let r = run("two");
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("signed again"), "{r:?}");
    let fetched = env.fake.fetched();
    assert_eq!(fetched.len(), 2);
    assert!(fetched.iter().all(|f| f.problem.is_none()), "{fetched:?}");
    assert_eq!(env.s3().count("PUT"), 1, "the object is not sent again");
    assert_eq!(env.fake.tasks_created(), 2);
}

#[test]
fn an_upload_command_link_that_serves_other_bytes_is_refused() {
    let env = Env::new("kling");
    let video = fixture("videos/short_2s_720x1280.mp4");
    // The link works, but serves another video than the one "uploaded".
    let cmd = format!(
        "up() {{ echo \"uploading $1\" >&2; echo {}; }}; up",
        cdn("other.mp4")
    );
    let r = env.run(&[
        "submit",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &video,
        "--force",
        "--upload-cmd",
        &cmd,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("does not serve the uploaded file"),
        "{r:?}"
    );
    assert!(env.fake.requests().is_empty());
    let ok = fixture("videos/ok_720x1280_5s.mp4");
    // The shared web server serves this very file for any `*.mp4`.
    let cmd = format!("up() {{ echo {}; }}; up", cdn("same.mp4"));
    let r = env.run(&[
        "submit",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &ok,
        "--upload-cmd",
        &cmd,
    ]);
    assert_eq!(r.code, 0, "the link serves the same bytes: {r:?}");
    assert_eq!(env.fake.posts()[0].json()["video_url"], cdn("same.mp4"));
}

/// Twelve pairs: two videos (one raw), one HEIC photo, a prompt each.
fn write_batch(dir: &std::path::Path) -> PathBuf {
    let media = dir.join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::copy(raw_clip(), media.join("clip.mov")).unwrap();
    std::fs::copy(fixture("videos/ok_720x1280_5s.mp4"), media.join("ok.mp4")).unwrap();
    std::fs::copy(
        fixture("images/heic_720x1280.heic"),
        media.join("photo.heic"),
    )
    .unwrap();
    let mut csv = String::from("image,video,prompt,mode\n");
    for i in 1..=12 {
        let video = if i % 2 == 0 { "ok.mp4" } else { "clip.mov" };
        csv.push_str(&format!(
            "media/photo.heic,media/{video},\"pair {i}, dancing\",\n"
        ));
    }
    let file = dir.join("pairs.csv");
    std::fs::write(&file, csv).unwrap();
    file
}

#[test]
fn a_killed_batch_resumes_with_one_task_per_pair_and_no_second_upload() {
    let env = Env::with_store("kling");
    env.fake.with(|s| {
        s.statuses = vec![
            "queued",
            "processing",
            "processing",
            "processing",
            "succeeded",
        ]
    });
    let batch = write_batch(&env.tmp.path().join("in"));
    let out = env.tmp.path().join("out");
    let args = [
        "submit",
        "--batch",
        batch.to_str().unwrap(),
        "--jobs",
        "3",
        "--upload",
        "s3://media/b",
        "--out",
        out.to_str().unwrap(),
        "--report",
        "report.json",
    ];
    let mut child = env.spawn_until_tasks(&args, 4);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_at = env.fake.tasks_created();
    assert!(killed_at < 12, "killed mid-way ({killed_at} tasks)");

    let r = env.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("12 pairs: 12 succeeded, 0 failed"),
        "{r:?}"
    );
    assert_eq!(env.fake.tasks_created(), 12, "exactly one task per pair");
    assert_eq!(env.fake.posts().len(), 12, "no create sent twice");
    assert_eq!(env.s3().count("PUT"), 2, "two videos, each uploaded once");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 12);
    let report: Value =
        serde_json::from_slice(&std::fs::read(env.tmp.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["succeeded"], 12);
    let pairs = report["pairs"].as_array().unwrap();
    assert!(pairs.iter().all(|p| p["status"] == "succeeded"));
    let created = pairs
        .iter()
        .filter(|p| p["submission"] == "created")
        .count();
    // The first run made every task this one did not. A create already sent
    // when the kill came may still land at the fake after `killed_at` was
    // read: that pair is found again (`recovered`), never created twice.
    let found_again = pairs
        .iter()
        .filter(|p| p["submission"] == "existing" || p["submission"] == "recovered")
        .count();
    assert_eq!(created + found_again, 12, "{report}");
    assert!(12 - created >= killed_at, "{report}");
    assert!(created > 0, "the rerun had pairs left to create: {report}");
    let prompts: std::collections::HashSet<String> = env
        .fake
        .posts()
        .iter()
        .map(|p| p.json()["prompt"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(prompts.len(), 12);
    assert!(prompts.contains("pair 7, dancing"));

    // Once more: everything is done, nothing is asked.
    let provider_before = env.fake.requests().len();
    let store_before = env.s3().requests().len();
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.fake.requests().len(), provider_before);
    assert_eq!(env.s3().requests().len(), store_before);
}

#[test]
fn batch_rate_limits_slow_down_and_failures_set_the_exit_status() {
    let env = Env::new("novita");
    env.fake.script(vec![
        CreateStep::Reject {
            http: 429,
            body: serde_json::json!({"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "slow down"}),
            retry_after: Some(1),
        },
        CreateStep::Ok,
        CreateStep::Ok,
    ]);
    let dir = env.tmp.path();
    let lines = [
        format!(
            r#"{{"image": "{}", "video": "{}", "prompt": "a"}}"#,
            cdn("a.jpg"),
            cdn("a.mp4")
        ),
        format!(
            r#"{{"image": "{}", "video": "{}", "prompt": "b", "provider": "novita"}}"#,
            cdn("b.jpg"),
            cdn("b.mp4")
        ),
        format!(
            r#"{{"image": "{}", "video": "{}", "mode": "turbo"}}"#,
            cdn("c.jpg"),
            cdn("c.mp4")
        ),
    ];
    std::fs::write(dir.join("pairs.jsonl"), lines.join("\n")).unwrap();
    let r = env.run(&[
        "submit",
        "-p",
        "novita",
        "--batch",
        "pairs.jsonl",
        "--jobs",
        "2",
        "--report",
        "report.json",
    ]);
    assert_eq!(r.code, 1, "one row is bad: {r:?}");
    assert!(r.stdout.contains("3 pairs: 2 succeeded, 1 failed"), "{r:?}");
    assert!(
        r.stdout.contains("line 3") && r.stdout.contains("turbo"),
        "{r:?}"
    );
    assert!(r.stderr.contains("busy"), "the 429 was waited out: {r:?}");
    assert_eq!(env.fake.tasks_created(), 2);
}

#[test]
fn batch_shards_split_the_pairs() {
    let env = Env::new("novita");
    let dir = env.tmp.path();
    let mut csv = String::from("image,video\n");
    for i in 0..8 {
        csv.push_str(&format!(
            "{},{}\n",
            cdn(&format!("{i}.jpg")),
            cdn(&format!("{i}.mp4"))
        ));
    }
    std::fs::write(dir.join("pairs.csv"), csv).unwrap();
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let r = env.run(&[
            "submit",
            "-p",
            "novita",
            "--batch",
            "pairs.csv",
            "--shard",
            &shard,
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        total = env.fake.tasks_created();
    }
    assert_eq!(total, 8, "every pair in exactly one shard");
    assert_eq!(env.fake.posts().len(), 8);
}

#[test]
fn the_fake_fails_a_task_whose_link_serves_no_media() {
    let env = Env::new("kling");
    let r = env.run(&[
        "submit",
        "--image",
        &cdn("p.jpg"),
        "--video",
        &cdn("missing.txt"),
        "--wait",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("cannot fetch the video") && r.stderr.contains("HTTP 404"),
        "{r:?}"
    );
}

#[test]
fn image_link_uploads_the_image_where_base64_would_do() {
    let env = Env::with_store("kling");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let r = env.run(&[
        "submit",
        "--image",
        &image,
        "--video",
        &cdn("dance.mp4"),
        "--upload",
        "s3://media/links",
        "--image-link",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let sent = env.fake.posts()[0].json()["image_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sent.starts_with(&format!("{}/media/links/", env.s3().endpoint)));
    let fetched = env.fake.fetched();
    let image_fetch = fetched.iter().find(|f| f.field == "image").unwrap();
    assert_eq!(
        image_fetch.bytes,
        std::fs::read(&image).unwrap(),
        "served as is"
    );
    assert_eq!(
        env.s3().objects().len(),
        1,
        "only the image: the video was a link"
    );
}

/// The pose models the test process itself uses (before `Env` clears the
/// environment).
fn models_dir() -> PathBuf {
    preflight::PoseModels::default_dir()
}

#[test]
fn strict_content_refuses_a_picture_without_a_person_before_any_upload() {
    let env = Env::with_store("novita");
    let models = models_dir();
    assert!(
        models.join("pose_detection.onnx").is_file(),
        "the pose models are missing from {}: run `bash scripts/setup.sh`",
        models.display()
    );
    let coffee = crate::util::photo("coffee.png");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let args = [
        "submit",
        "-p",
        "novita",
        "--image",
        coffee.to_str().unwrap(),
        "--video",
        &video,
        "--upload",
        "s3://media/x",
        "--strict-content",
    ];
    let r = Run::from(
        env.cmd(&args)
            .env("PREFLIGHT_MODELS", &models)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("content.person.missing")
            && r.stderr.contains("nothing was uploaded or created"),
        "{r:?}"
    );
    assert!(env.fake.requests().is_empty(), "no provider request");
    assert!(env.s3().objects().is_empty(), "nothing uploaded");

    // Without the flag the findings are printed first, then the pair is sent.
    let args_plain = &args[..args.len() - 1];
    let r = Run::from(
        env.cmd(args_plain)
            .env("PREFLIGHT_MODELS", &models)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let finding = r
        .stderr
        .find("content.person.missing")
        .expect("the finding is printed");
    let upload = r.stderr.find("uploaded").expect("then the upload");
    assert!(finding < upload, "{r:?}");
    assert_eq!(env.fake.tasks_created(), 1);

    // --strict-content without the models is a setup error.
    let empty = env.tmp.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let r = Run::from(
        env.cmd(&args)
            .env("PREFLIGHT_MODELS", &empty)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bash scripts/setup.sh"), "{r:?}");
    assert_eq!(env.fake.tasks_created(), 1);
}
