//! `preflight submit` to the marketplaces (fal, replicate, kie, piapi,
//! wavespeed) against their fakes on loopback, with no bucket: an API key is
//! all it takes. Raw phone files are repaired, uploaded through the
//! provider's own upload API, submitted once and the result saved; the same
//! command again sends nothing at all. Also `check`, `fix` and `providers`
//! with their limits.

use std::path::Path;

use crate::submit_cli::fake::{cdn, Call};
use crate::submit_cli::{assert_compliant_mp4, ffprobe, fixture, raw_clip, tasks_json, Env};

/// SHA-256 by an independent tool (coreutils' sha256sum).
fn sha256_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(c.stdin.as_mut().unwrap(), bytes)?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().unwrap_or("").to_string()
}

/// The request sequence for the log, without query strings.
fn show(sequence: &[String]) -> String {
    sequence
        .iter()
        .map(|s| s.split('?').next().unwrap_or(s).to_string())
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// One command from a raw phone clip and a HEIC photo to a downloaded result
/// with no `--upload`; the same command again sends nothing.
fn raw_files_to_result_with_no_bucket(provider: &'static str) {
    let env = Env::new(provider);
    let out = env.tmp.path().join("results");
    let heic = fixture("images/heic_720x1280.heic");
    let clip = raw_clip().display().to_string();
    let args = [
        "submit",
        "--provider",
        provider,
        "--image",
        &heic,
        "--video",
        &clip,
        "--wait",
        "--out",
        out.to_str().unwrap(),
    ];
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("created {provider} task")),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("reencoded"),
        "the clip was repaired: {r:?}"
    );
    assert!(
        r.stderr.contains(&format!("to {provider} as ")),
        "uploaded through {provider}: {r:?}"
    );
    assert!(r.stdout.contains("saved "), "{r:?}");
    let saved: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    assert_eq!(saved.len(), 1, "one result downloaded");
    let p = ffprobe(&saved[0].path());
    assert_eq!(p["streams"][0]["codec_type"], "video", "{p}");

    // What the provider fetched: the repaired clip and the photo as JPEG,
    // from its own hosting, under the hash of their bytes.
    let fetched = env.fake.fetched();
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    let uploads = env.fake.api_calls(|c| *c == Call::Upload);
    for f in &fetched {
        assert_eq!((f.status, &f.problem), (200, &None), "{}", f.url);
        assert!(
            f.url.starts_with(&format!("{}/hosted/", env.fake.base)),
            "{}",
            f.url
        );
        // The name it was uploaded under (fal, kie, PiAPI: in the link too).
        let hash = sha256_hex(&f.bytes);
        assert!(
            uploads.iter().any(|u| u.body.contains(&hash)),
            "{} was not uploaded under its content hash {hash}",
            f.url
        );
    }
    let video = fetched.iter().find(|f| f.field == "video").unwrap();
    assert_compliant_mp4(&video.bytes, env.tmp.path());
    let image = fetched.iter().find(|f| f.field == "image").unwrap();
    let jpeg = env.tmp.path().join("sent.jpg");
    std::fs::write(&jpeg, &image.bytes).unwrap();
    assert_eq!(
        ffprobe(&jpeg)["streams"][0]["codec_name"],
        "mjpeg",
        "the HEIC went as JPEG"
    );
    assert_eq!(uploads.len(), 2, "video and image, each once");
    assert_eq!(env.fake.api_calls(|c| *c == Call::Create).len(), 1);
    assert_eq!(env.fake.tasks_created(), 1);
    let rows = tasks_json(&env);
    assert_eq!(rows[0]["status"], "succeeded");
    let first = env.fake.sequence();

    let again = env.run(&args);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("already submitted"), "{again:?}");
    assert!(
        again.stdout.contains("earlier: nothing to ask"),
        "{again:?}"
    );
    assert!(
        again.stderr.contains("(done earlier)"),
        "no second repair: {again:?}"
    );
    let second: Vec<String> = env.fake.sequence()[first.len()..].to_vec();
    assert!(second.is_empty(), "the second run sent {second:?}");
    eprintln!(
        "{provider}: first run, {} requests:\n  {}\n{provider}: second run, {} requests",
        first.len(),
        show(&first),
        second.len()
    );

    // Another task from the same files: the uploads are reused from the journal.
    let mut other = args.to_vec();
    other.extend(["--prompt", "slower"]);
    let third = env.run(&other);
    assert_eq!(third.code, 0, "{third:?}");
    assert!(
        third.stdout.contains(&format!("created {provider} task")),
        "{third:?}"
    );
    assert!(!third.stderr.contains("uploaded"), "{third:?}");
    assert_eq!(
        env.fake.api_calls(|c| *c == Call::Upload).len(),
        2,
        "no upload again"
    );
    assert_eq!(env.fake.tasks_created(), 2);
}

#[test]
fn raw_files_to_result_fal_with_no_bucket() {
    raw_files_to_result_with_no_bucket("fal");
}

#[test]
fn raw_files_to_result_replicate_with_no_bucket() {
    raw_files_to_result_with_no_bucket("replicate");
}

#[test]
fn raw_files_to_result_kie_with_no_bucket() {
    raw_files_to_result_with_no_bucket("kie");
}

#[test]
fn raw_files_to_result_piapi_with_no_bucket() {
    raw_files_to_result_with_no_bucket("piapi");
}

#[test]
fn raw_files_to_result_wavespeed_with_no_bucket() {
    raw_files_to_result_with_no_bucket("wavespeed");
}

fn link_pair_args<'a>(provider: &'a str, out: &'a Path) -> Vec<String> {
    [
        "submit",
        "-p",
        provider,
        "--image",
        &cdn("photo.jpg"),
        "--video",
        &cdn("dance.mp4"),
        "--wait",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(env: &Env, args: &[String]) -> crate::submit_cli::Run {
    env.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_failed_fal_job_is_reported_failed_with_its_message() {
    let env = Env::new("fal");
    env.fake.with(|s| {
        s.statuses = vec!["queued", "processing", "failed"];
        s.fail_reason = "the video shows no person".into();
    });
    let r = run(&env, &link_pair_args("fal", &env.tmp.path().join("out")));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("failed at fal: body.video_url: the video shows no person"),
        "{r:?}"
    );
    assert_eq!(tasks_json(&env)[0]["status"], "failed");
}

#[test]
fn a_504_on_a_finished_fal_result_is_retried_and_the_result_saved() {
    let env = Env::new("fal");
    env.fake.with(|s| s.result_504s = 3);
    let r = run(&env, &link_pair_args("fal", &env.tmp.path().join("out")));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("HTTP 504"),
        "the 504 is shown as a wait: {r:?}"
    );
    assert!(
        r.stdout.contains("fal ") && r.stdout.contains("succeeded") && r.stdout.contains("saved "),
        "{r:?}"
    );
    assert_eq!(
        env.fake.api_calls(|c| matches!(c, Call::Result(_))).len(),
        4
    );
}

#[test]
fn a_video_over_piapis_upload_limit_is_refused_before_anything_is_sent() {
    let env = Env::new("piapi");
    let big = env.tmp.path().join("big.mp4");
    // 8 MB, sent as is (--force): over the 10 MB of base64 PiAPI's upload takes.
    let mut bytes = std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).unwrap();
    bytes.resize(8_000_000, 0);
    std::fs::write(&big, bytes).unwrap();
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let r = env.run(&[
        "submit",
        "-p",
        "piapi",
        "--force",
        "--image",
        &image,
        "--video",
        big.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("8000000 bytes") && r.stderr.contains("No task was created"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("--upload s3://BUCKET/PREFIX") && r.stderr.contains("--upload-cmd"),
        "{r:?}"
    );
    assert!(
        env.fake.requests().is_empty(),
        "nothing sent: {:?}",
        env.fake.sequence()
    );
}

#[test]
fn a_run_killed_while_waiting_resumes_the_same_job() {
    let env = Env::new("wavespeed");
    env.fake.with(|s| {
        s.statuses = std::iter::once("queued")
            .chain(std::iter::repeat_n("processing", 30))
            .chain(std::iter::once("succeeded"))
            .collect()
    });
    let out = env.tmp.path().join("out");
    let args = link_pair_args("wavespeed", &out);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = env
        .cmd(&refs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once it is following the task: its id is in the journal then.
    let start = std::time::Instant::now();
    while env
        .fake
        .api_calls(|c| matches!(c, Call::Query(_)))
        .is_empty()
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "no query came"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let r = env.run(&refs);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("already submitted") && r.stdout.contains("saved "),
        "{r:?}"
    );
    assert_eq!(
        env.fake.api_calls(|c| *c == Call::Create).len(),
        1,
        "one create"
    );
    assert_eq!(env.fake.tasks_created(), 1);
}

#[test]
fn a_replicate_result_is_downloaded_by_status_even_without_out() {
    let env = Env::new("replicate");
    let r = env.run(&[
        "submit",
        "-p",
        "replicate",
        "--image",
        &cdn("photo.jpg"),
        "--video",
        &cdn("dance.mp4"),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let task = tasks_json(&env)[0]["task_id"].as_str().unwrap().to_string();
    let r = env.run(&["status", &task, "--wait"]);
    assert_eq!(r.code, 0, "{r:?}");
    let saved = env.tmp.path().join(format!("replicate-{task}.mp4"));
    assert!(saved.is_file(), "{r:?}");
    // Gone: said so, with what to do.
    env.fake.with(|s| s.expired_downloads = 100);
    std::fs::remove_file(&saved).unwrap();
    let r = env.run(&["status", &task]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("is gone") && r.stderr.contains("one hour after the prediction ends"),
        "{r:?}"
    );
    assert!(r.stderr.contains("--again"), "{r:?}");
}

#[test]
fn upload_provider_is_refused_where_the_provider_hosts_nothing() {
    let env = Env::new("novita");
    let image = fixture("images/portrait_720x1280_ok.jpg");
    let video = fixture("videos/ok_720x1280_5s.mp4");
    let r = env.run(&[
        "submit", "-p", "novita", "--upload", "provider", "--image", &image, "--video", &video,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("novita hosts no uploads of its own"),
        "{r:?}"
    );
    assert!(env.fake.requests().is_empty());
}

#[test]
fn a_wait_that_times_out_is_resumed_by_the_same_command_without_a_second_task() {
    let env = Env::new("kie");
    let out = env.tmp.path().join("out");
    let mut args = link_pair_args("kie", &out);
    args.extend(["--timeout".to_string(), "0".to_string()]);
    let r = run(&env, &args);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("still queued") && r.stderr.contains("--wait"),
        "{r:?}"
    );
    args.truncate(args.len() - 2);
    let again = run(&env, &args);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains("already submitted") && again.stdout.contains("saved "),
        "{again:?}"
    );
    assert_eq!(env.fake.api_calls(|c| *c == Call::Create).len(), 1);
}

/// `check` and `fix` know the marketplaces' limits: Replicate's 340 px image
/// minimum, kie's WebP images and MKV videos (read back with identify).
#[test]
fn check_and_fix_apply_the_marketplaces_limits() {
    let env = Env::new("replicate");
    let photo = env.tmp.path().join("narrow.jpg");
    let made = std::process::Command::new("convert")
        .args(["-size", "320x560", "gradient:red-blue"])
        .arg(&photo)
        .status()
        .expect("ImageMagick convert");
    assert!(made.success());
    let photo = photo.to_str().unwrap();
    let r = env.run(&["check", "--provider", "replicate", photo]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("image.width.min") && r.stdout.contains("340"),
        "{r:?}"
    );
    assert_eq!(env.run(&["check", "--provider", "fal", photo]).code, 0);
    let out = env.tmp.path().join("fixed");
    let r = env.run(&[
        "fix",
        "--provider",
        "replicate",
        "--out",
        out.to_str().unwrap(),
        photo,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let size = std::process::Command::new("identify")
        .args(["-format", "%wx%h"])
        .arg(out.join("narrow.jpg"))
        .output()
        .expect("identify");
    assert_eq!(String::from_utf8_lossy(&size.stdout), "340x595");

    let webp = fixture("images/webp_720x1280.webp");
    let mkv = fixture("videos/mkv_640x360.mkv");
    assert_eq!(
        env.run(&["check", "--provider", "kie", &webp, &mkv]).code,
        0
    );
    assert_eq!(
        env.run(&["check", "--provider", "piapi", &webp, &mkv]).code,
        1
    );
    let kie_out = env.tmp.path().join("kie");
    let r = env.run(&[
        "fix",
        "--provider",
        "kie",
        "--json",
        "--out",
        kie_out.to_str().unwrap(),
        &webp,
        &mkv,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.matches("\"action\":\"copied\"").count(),
        2,
        "{r:?}"
    );
    let providers = env.run(&["providers"]);
    for p in ["fal", "replicate", "kie", "piapi", "wavespeed"] {
        assert!(
            providers.stdout.lines().any(|l| l.starts_with(p)),
            "{p}: {providers:?}"
        );
    }
}
