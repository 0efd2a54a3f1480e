//! `preflight submit | status | tasks` against a fake provider on 127.0.0.1.

#[path = "../crates/submit/tests/support/fake.rs"]
mod fake;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use fake::{CreateStep, Fake};
use serde_json::Value;

const KEY: &str = "sk-cli-SECRET-77e1b2";
const VIDEO_URL: &str = "https://cdn.example.com/dance.mp4";

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
        .display()
        .to_string()
}

struct Env {
    fake: Fake,
    tmp: tempfile::TempDir,
    provider: &'static str,
    extra: Vec<(String, String)>,
}

impl Env {
    fn new(provider: &'static str) -> Env {
        let fake = Fake::start(std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).unwrap());
        fake.with(|s| s.expected_auth = Some(format!("Bearer {KEY}")));
        Env {
            fake,
            tmp: tempfile::tempdir().unwrap(),
            provider,
            extra: Vec::new(),
        }
    }

    fn journal(&self) -> PathBuf {
        self.tmp.path().join("journal.sqlite3")
    }

    fn cmd(&self, args: &[&str]) -> Command {
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
            .env(format!("{}_API_KEY", self.provider.to_uppercase()), KEY)
            .current_dir(self.tmp.path())
            .args(args);
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Run {
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

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
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
        assert!(
            !self.stdout.contains(KEY) && !self.stderr.contains(KEY),
            "key printed"
        );
        for name in [
            "journal.sqlite3",
            "journal.sqlite3-wal",
            "journal.sqlite3-journal",
        ] {
            if let Ok(bytes) = std::fs::read(env.tmp.path().join(name)) {
                assert!(
                    !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "key in {name}"
                );
            }
        }
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

fn tasks_json(env: &Env) -> Vec<Value> {
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
        VIDEO_URL,
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
        "https://cdn.example.com/p.jpg",
        "--video",
        VIDEO_URL,
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
fn non_compliant_image_is_refused_before_any_request_unless_forced() {
    let env = Env::new("kling");
    let tiny = fixture("images/tiny_200x150.png");
    let r = env.run(&["submit", "--image", &tiny, "--video", VIDEO_URL]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("image.width.min") && r.stderr.contains("preflight fix"),
        "{r:?}"
    );
    assert!(env.fake.requests().is_empty());
    let r = env.run(&["submit", "--image", &tiny, "--video", VIDEO_URL, "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.fake.posts().len(), 1);
}

#[test]
fn local_video_or_aihubmax_local_image_needs_a_public_url() {
    let env = Env::new("kling");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let r = env.run(&[
        "submit",
        "--image",
        "https://cdn.example.com/p.jpg",
        "--video",
        &video,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("public URL") && r.stderr.contains("preflight check"),
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
        VIDEO_URL,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("only a public URL"), "{r:?}");
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
            "https://cdn.example.com/p.jpg",
            "--video",
            VIDEO_URL,
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
    env.fake
        .script(vec![CreateStep::CreateThenHang(Duration::from_secs(30))]);
    let args = [
        "submit",
        "-p",
        "powertokens",
        "--image",
        "https://cdn.example.com/p.jpg",
        "--video",
        VIDEO_URL,
    ];
    let mut child = env
        .cmd(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while env.fake.tasks_created() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "create never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
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
    env.fake
        .script(vec![CreateStep::CreateThenHang(Duration::from_secs(2))]);
    let args = [
        "submit",
        "-p",
        "highway",
        "--image",
        "https://cdn.example.com/p.jpg",
        "--video",
        VIDEO_URL,
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
            "https://cdn.example.com/p.jpg",
            "--video",
            VIDEO_URL,
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
        "https://cdn.example.com/p.jpg",
        "--video",
        VIDEO_URL,
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
