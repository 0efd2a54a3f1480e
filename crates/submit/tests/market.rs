//! The marketplaces (fal, Replicate, kie, PiAPI, WaveSpeed) through the
//! library, against the fake server's versions of their APIs: auth headers,
//! bodies, their upload APIs, their quirks, and never a second paid task.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use preflight::{Model, Orientation, Provider};
use serde_json::Value;
use submit::hosted::Hosted;
use submit::journal::state;
use submit::{
    Client, Credentials, HttpConfig, ImageInput, Inputs, Journal, Mode, Status, SubmitError,
    Submitted, Timing,
};
use support::fake::{cdn, Call, CreateStep, Fake};

const KEY: &str = "mk-test-SECRET-0b7d2e";

const MARKETS: [Provider; 5] = [
    Provider::Fal,
    Provider::Replicate,
    Provider::Kie,
    Provider::Piapi,
    Provider::Wavespeed,
];

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn timing() -> Timing {
    Timing {
        poll_min: Duration::from_millis(5),
        poll_max: Duration::from_millis(20),
        poll_factor: 1.5,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
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
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn setup_with(provider: Provider, t: &Timing) -> Setup {
    let fake = Fake::start(std::fs::read(fixture("videos/ok_720x1280_5s.mp4")).unwrap());
    fake.with(|s| s.api_key = Some(KEY.to_string()));
    let creds = Credentials::from_lookup(provider, |_| Some(KEY.to_string())).unwrap();
    let client = Client::new(provider, Some(fake.base.clone()), creds, t.http)
        .with_upload_url(Some(fake.base.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let journal = Journal::open(&dir.join("journal.sqlite3")).unwrap();
    Setup {
        fake,
        client,
        journal,
        _tmp: tmp,
        dir,
    }
}

fn setup(provider: Provider) -> Setup {
    setup_with(provider, &timing())
}

fn inputs(provider: Provider) -> Inputs {
    Inputs {
        provider,
        model: Model::KlingV3,
        mode: Mode::Pro,
        orientation: Orientation::Image,
        image: ImageInput::Url(cdn("photo.jpg")),
        video_url: cdn("dance.mp4"),
        video_sha256: None,
        prompt: Some("dance".into()),
        negative_prompt: None,
        keep_sound: None,
    }
}

fn go(s: &Setup, inputs: &Inputs) -> Result<Submitted, SubmitError> {
    submit::submit(&s.client, &s.journal, inputs, false, &timing(), &mut |_| {})
}

fn journal_bytes(dir: &Path) -> Vec<u8> {
    let mut all = std::fs::read(dir.join("journal.sqlite3")).unwrap();
    if let Ok(wal) = std::fs::read(dir.join("journal.sqlite3-wal")) {
        all.extend(wal);
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The header each page names, with the key in it.
fn auth_of(provider: Provider, r: &support::fake::Recorded) -> Option<String> {
    match provider {
        Provider::Fal => r.header("Authorization").map(String::from),
        Provider::Piapi => r.header("x-api-key").map(|k| format!("x-api-key {k}")),
        _ => r.header("Authorization").map(String::from),
    }
}

fn expected_auth(provider: Provider) -> String {
    match provider {
        Provider::Fal => format!("Key {KEY}"),
        Provider::Piapi => format!("x-api-key {KEY}"),
        _ => format!("Bearer {KEY}"),
    }
}

/// The create's path and body as each page describes them.
fn assert_create_as_documented(provider: Provider, create: &support::fake::Recorded) {
    let b = create.json();
    match provider {
        Provider::Fal => {
            assert_eq!(create.path, "/fal-ai/kling-video/v3/pro/motion-control");
            assert_eq!(b["character_orientation"], "image");
            assert_eq!(b["image_url"].as_str(), Some(cdn("photo.jpg").as_str()));
            assert!(b.get("mode").is_none(), "the mode is in the path");
        }
        Provider::Replicate => {
            assert_eq!(
                create.path,
                "/v1/models/kwaivgi/kling-v3-motion-control/predictions"
            );
            assert_eq!(b["input"]["mode"], "pro");
            assert_eq!(b["input"]["character_orientation"], "image");
        }
        Provider::Kie => {
            assert_eq!(create.path, "/api/v1/jobs/createTask");
            assert_eq!(b["model"], "kling-3.0/motion-control");
            assert_eq!(b["input"]["mode"], "1080p");
            assert_eq!(
                b["input"]["video_urls"][0].as_str(),
                Some(cdn("dance.mp4").as_str())
            );
        }
        Provider::Piapi => {
            assert_eq!(create.path, "/api/v1/task");
            assert_eq!(
                (b["model"].as_str(), b["task_type"].as_str()),
                (Some("kling"), Some("motion_control"))
            );
            assert_eq!(b["input"]["motion_direction"], "image");
            assert_eq!(b["input"]["version"], "3.0");
        }
        _ => {
            assert_eq!(create.path, "/api/v3/kwaivgi/kling-v3.0-pro/motion-control");
            assert_eq!(b["video"].as_str(), Some(cdn("dance.mp4").as_str()));
        }
    }
    assert_eq!(
        auth_of(provider, create),
        Some(expected_auth(provider)),
        "{provider}"
    );
}

#[test]
fn each_marketplace_is_asked_as_documented_and_its_result_downloaded() {
    for provider in MARKETS {
        let s = setup(provider);
        let done = go(&s, &inputs(provider)).unwrap();
        assert!(
            matches!(done, Submitted::Created(_)),
            "{provider}: {done:?}"
        );
        let row = done.record().clone();
        assert_eq!(
            row.status, "queued",
            "{provider}: the task id is recorded right after the create"
        );
        assert!(row.task_id.is_some(), "{provider}");
        let posts = s.fake.posts();
        assert_eq!(posts.len(), 1, "{provider}");
        assert_create_as_documented(provider, &posts[0]);
        let fetched = s.fake.fetched();
        assert_eq!(fetched.len(), 2, "{provider}: both links fetched");
        assert!(
            fetched.iter().all(|f| f.problem.is_none()),
            "{provider}: {fetched:?}"
        );

        let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap();
        assert_eq!(task.status, Status::Succeeded, "{provider}");
        let (path, facts) =
            submit::download(&s.client, &s.journal, &row, &task, &s.dir.join("out")).unwrap();
        assert!(
            path.is_file() && matches!(facts, preflight::MediaFacts::Video(_)),
            "{provider}"
        );
        for q in s
            .fake
            .api_calls(|c| matches!(c, Call::Query(_) | Call::Result(_)))
        {
            assert_eq!(
                auth_of(provider, &q),
                Some(expected_auth(provider)),
                "{provider} {}",
                q.path
            );
        }
        let journal = journal_bytes(&s.dir);
        assert!(
            !contains(&journal, KEY),
            "{provider}: no key in the journal"
        );
        // The same inputs again: the journal's task, nothing sent.
        assert!(matches!(
            go(&s, &inputs(provider)).unwrap(),
            Submitted::Existing(_)
        ));
        assert_eq!(s.fake.posts().len(), 1, "{provider}");
    }
}

#[test]
fn fal_queries_the_urls_its_create_answer_gave() {
    let s = setup(Provider::Fal);
    let row = go(&s, &inputs(Provider::Fal)).unwrap().record().clone();
    let id = row.task_id.clone().unwrap();
    assert_eq!(
        row.status_url.as_deref(),
        Some(format!("{}/fal-ai/kling-video/requests/{id}/status", s.fake.base).as_str())
    );
    submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap();
    let paths: Vec<String> = s.fake.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.contains(&format!("/fal-ai/kling-video/requests/{id}/status")));
    assert!(paths.contains(&format!("/fal-ai/kling-video/requests/{id}")));
}

#[test]
fn a_failed_fal_job_ends_completed_and_fails_with_the_message_of_its_result() {
    let s = setup(Provider::Fal);
    s.fake.with(|st| {
        st.statuses = vec!["queued", "processing", "failed"];
        st.fail_reason = "no person could be found in the image".into();
    });
    let row = go(&s, &inputs(Provider::Fal)).unwrap().record().clone();
    let e = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, SubmitError::TaskFailed { .. }), "{e:?}");
    assert!(e.to_string().contains("no person could be found"), "{e}");
    assert_eq!(s.journal.get(row.id).unwrap().status, "failed");
    // It said COMPLETED: the failure came from the response URL.
    let statuses: Vec<String> = s.fake.requests().iter().map(|r| r.path.clone()).collect();
    assert!(statuses
        .iter()
        .any(|p| p.ends_with(&row.task_id.clone().unwrap())));
}

#[test]
fn a_504_on_a_finished_fal_result_is_asked_again_not_a_failure() {
    let s = setup(Provider::Fal);
    s.fake.with(|st| st.result_504s = 2);
    let row = go(&s, &inputs(Provider::Fal)).unwrap().record().clone();
    let mut notes = Vec::new();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |l| {
        notes.push(l.to_string())
    })
    .unwrap();
    assert_eq!(task.status, Status::Succeeded);
    assert_eq!(task.videos.len(), 1);
    let results = s.fake.api_calls(|c| matches!(c, Call::Result(_)));
    assert_eq!(results.len(), 3, "two 504s, then the result");
    assert!(notes.iter().any(|n| n.contains("HTTP 504")), "{notes:?}");
}

#[test]
fn a_deleted_replicate_result_is_said_to_be_gone() {
    let s = setup(Provider::Replicate);
    s.fake.with(|st| st.expired_downloads = 100);
    let row = go(&s, &inputs(Provider::Replicate))
        .unwrap()
        .record()
        .clone();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap();
    let queries = s.fake.api_calls(|c| matches!(c, Call::Query(_))).len();
    let e = submit::download(&s.client, &s.journal, &row, &task, &s.dir.join("out")).unwrap_err();
    assert!(
        matches!(e, SubmitError::ResultGone { status: 410, .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("one hour after the prediction ends") && text.contains("new (paid) task"),
        "{text}"
    );
    assert_eq!(
        s.fake.api_calls(|c| matches!(c, Call::Query(_))).len(),
        queries,
        "asking again would give the same dead link: not asked"
    );
}

#[test]
fn a_failed_task_reports_each_marketplaces_reason() {
    for provider in MARKETS {
        let s = setup(provider);
        s.fake.with(|st| {
            st.statuses = vec!["queued", "failed"];
            st.fail_reason = format!("{provider} refused the motion");
        });
        let row = go(&s, &inputs(provider)).unwrap().record().clone();
        let e = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{provider} refused the motion")),
            "{provider}: {e}"
        );
    }
}

#[test]
fn piapi_results_are_read_in_either_shape() {
    let s = setup(Provider::Piapi);
    s.fake.with(|st| st.piapi_works = true);
    let row = go(&s, &inputs(Provider::Piapi)).unwrap().record().clone();
    let task = submit::wait(&s.client, &s.journal, &row, &timing(), &mut |_| {}).unwrap();
    assert!(task.videos[0].ends_with(".mp4"), "{task:?}");
}

#[test]
fn a_create_without_answer_stays_unknown_and_is_never_sent_again() {
    let mut t = timing();
    t.http.io_timeout = Duration::from_millis(300);
    for provider in MARKETS {
        let s = setup_with(provider, &t);
        s.fake.script(vec![CreateStep::CreateThenHang]);
        let e = submit::submit(
            &s.client,
            &s.journal,
            &inputs(provider),
            false,
            &t,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(e, SubmitError::Unknown { .. }),
            "{provider}: {e:?}"
        );
        let rows = s.journal.list().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, state::UNKNOWN, "{provider}");
        let again = submit::submit(
            &s.client,
            &s.journal,
            &inputs(provider),
            false,
            &t,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(again, SubmitError::Unknown { .. }),
            "{provider}: {again:?}"
        );
        assert_eq!(s.fake.posts().len(), 1, "{provider}: never re-sent blindly");
        assert_eq!(s.fake.tasks_created(), 1);
    }
}

#[test]
fn a_run_killed_between_create_and_record_leaves_unknown_not_a_second_task() {
    for provider in MARKETS {
        let s = setup(provider);
        let inputs = inputs(provider);
        // What a killed run leaves: the row in `sending`, the task at the provider.
        let row = s.journal.begin(&inputs, None, &s.fake.base).unwrap();
        s.client.create(&inputs, &inputs.body(None)).unwrap();
        assert_eq!(s.journal.get(row.id).unwrap().status, state::SENDING);
        let e = go(&s, &inputs).unwrap_err();
        assert!(
            matches!(e, SubmitError::Unknown { row: r, .. } if r == row.id),
            "{provider}: {e:?}"
        );
        assert_eq!(s.fake.posts().len(), 1, "{provider}: no second create");
    }
}

#[test]
fn bodies_a_page_does_not_describe_are_refused_by_the_fake() {
    // The fake holds the line the services hold: this guards the tests themselves.
    let s = setup(Provider::Kie);
    let mut i = inputs(Provider::Kie);
    i.keep_sound = Some(true);
    assert!(
        matches!(go(&s, &i), Err(SubmitError::Refused(_))),
        "refused before sending"
    );
    assert_eq!(s.fake.posts().len(), 0);
    let mut body = inputs(Provider::Kie).body(None);
    body["input"]["keep_original_sound"] = Value::Bool(true);
    let e = s.client.create(&inputs(Provider::Kie), &body).unwrap_err();
    assert!(matches!(e, SubmitError::InvalidParameter { .. }), "{e:?}");
    assert!(e.to_string().contains("keep_original_sound"), "{e}");
}

fn upload(
    provider: Provider,
    file: &Path,
) -> (Setup, Result<submit::hosted::HostedObject, SubmitError>) {
    let s = setup(provider);
    let sha = submit::link::hash_file(file).unwrap();
    let result = Hosted::of(&s.client).unwrap().upload(file, &sha);
    (s, result)
}

#[test]
fn each_upload_api_stores_the_bytes_under_their_hash_and_gives_a_link() {
    let file = fixture("images/portrait_720x1280_ok.jpg");
    let bytes = std::fs::read(&file).unwrap();
    let sha = submit::link::hash_file(&file).unwrap();
    for provider in MARKETS {
        let (s, result) = upload(provider, &file);
        let object = result.unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(object.name, format!("{sha}.jpg"));
        assert_eq!(object.bytes, bytes.len() as u64);
        let served = ureq::get(&object.link.url).call().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut served.into_reader(), &mut got).unwrap();
        assert_eq!(got, bytes, "{provider}: the link serves the file");
        let requests = s.fake.requests();
        let api = &requests[0];
        assert_eq!(
            auth_of(provider, api),
            Some(expected_auth(provider)),
            "{provider}"
        );
        match provider {
            Provider::Fal => {
                assert_eq!(api.path, "/storage/upload/initiate?storage_type=fal-cdn-v3");
                assert_eq!(api.json()["file_name"].as_str(), Some(object.name.as_str()));
                let put = &requests[1];
                assert_eq!(put.method, "PUT");
                assert!(
                    put.header("Authorization").is_none(),
                    "no key to the signed URL"
                );
                assert_eq!(put.header("Content-Type"), Some("image/jpeg"));
            }
            Provider::Kie => {
                assert_eq!(api.path, "/api/file-stream-upload");
                assert!(object.link.url.ends_with(&format!("/preflight/{sha}.jpg")));
                assert!(object.link.expires_at.is_some(), "kie keeps files 3 days");
            }
            Provider::Piapi => {
                assert_eq!(api.json()["file_name"].as_str(), Some(object.name.as_str()));
                assert!(
                    object.link.expires_at.is_some(),
                    "PiAPI keeps files 24 hours"
                );
            }
            Provider::Replicate => {
                assert_eq!(api.path, "/v1/files");
                assert_eq!(
                    object.link.expires_at,
                    Some(4070908800),
                    "its answer's expires_at"
                );
            }
            _ => assert_eq!(api.path, "/api/v3/media/upload/binary"),
        }
    }
}

#[test]
fn kie_overwrites_a_reused_name_so_names_are_content_hashes() {
    let a = fixture("images/portrait_720x1280_ok.jpg");
    let s = setup(Provider::Kie);
    let hosted = Hosted::of(&s.client).unwrap();
    let sha = submit::link::hash_file(&a).unwrap();
    let first = hosted.upload(&a, &sha).unwrap();
    let second = hosted.upload(&a, &sha).unwrap();
    assert_eq!(first.link.url, second.link.url);
    assert_eq!(
        s.fake.with(|st| st.overwrites),
        1,
        "the same bytes, the same name"
    );
}

#[test]
fn a_file_over_piapis_upload_limit_is_refused_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.mp4");
    std::fs::write(&big, vec![0u8; 7_500_001]).unwrap();
    let (s, result) = upload(Provider::Piapi, &big);
    let e = result.unwrap_err();
    assert!(
        matches!(
            e,
            SubmitError::UploadTooLarge {
                limit: 7_500_000,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("S3 bucket or an upload command") && text.contains("No task was created"),
        "{text}"
    );
    assert!(s.fake.requests().is_empty(), "nothing sent");
}

#[test]
fn a_refused_key_at_the_upload_api_names_the_variable() {
    let file = fixture("images/portrait_720x1280_ok.jpg");
    for provider in [Provider::Fal, Provider::Piapi] {
        let s = setup(provider);
        s.fake.with(|st| st.api_key = Some("another key".into()));
        let sha = submit::link::hash_file(&file).unwrap();
        let e = Hosted::of(&s.client)
            .unwrap()
            .upload(&file, &sha)
            .unwrap_err();
        assert!(matches!(e, SubmitError::Auth { .. }), "{provider}: {e:?}");
        let var = if provider == Provider::Fal {
            "FAL_KEY"
        } else {
            "PIAPI_API_KEY"
        };
        assert!(
            e.to_string().contains(var) && !e.to_string().contains(KEY),
            "{e}"
        );
    }
}
