//! The provider table: where each provider lives, how it is asked and
//! authorised, which dialect it speaks and how it takes uploads, exactly as
//! `shared/providers.md` describes them. Pure: no I/O. Above the dialects
//! (which it names) and the task words; below auth, the client and uploads.

use std::time::Duration;

use preflight::{Provider, Spec};
use serde_json::Value;

use crate::dialect::{
    aihubmax, fal, kie, kling, novita, piapi, protocol, replicate, wavespeed, Answer, Dialect,
};
use crate::error::SubmitError;
use crate::link::{encode_component, is_url, redact_link};
use crate::task::{ImageInput, Inputs, TaskHandle, TaskState, MAX_PROMPT_CHARS};

/// How the API key goes into a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `Authorization: Key <key>` (fal).
    Key,
    /// `x-api-key: <key>` (PiAPI).
    XApiKey,
}

/// How a provider's own upload API takes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadShape {
    /// POST `path` with JSON `{content_type, file_name}` → `{upload_url,
    /// file_url}`; then PUT the bytes to `upload_url` (no key: it is signed);
    /// `file_url` is the link (fal).
    Initiate { path: &'static str },
    /// POST `path` as multipart/form-data, the file in part `file_part`, the
    /// object's name in `name_part` and a folder in `folder_part` when the API
    /// takes them; the link is at the JSON pointer `link`, its expiry (ISO
    /// 8601) at `expires` (Replicate, kie, WaveSpeed).
    Multipart {
        path: &'static str,
        file_part: &'static str,
        name_part: Option<&'static str>,
        folder_part: Option<(&'static str, &'static str)>,
        link: &'static str,
        expires: Option<&'static str>,
    },
    /// POST `path` with JSON `{name_field: name, data_field: base64}`; the
    /// link is at the JSON pointer `link` (PiAPI).
    Base64Json {
        path: &'static str,
        name_field: &'static str,
        data_field: &'static str,
        link: &'static str,
    },
}

/// A provider's own file hosting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadApi {
    /// The documented upload address; `None`: the API's own base.
    pub base_url: Option<&'static str>,
    pub shape: UploadShape,
    /// Largest file the API takes, in bytes.
    pub max_bytes: Option<u64>,
    /// Where that limit comes from, for the message when a file is larger.
    pub limit_note: &'static str,
    /// How long the service keeps a file, when its page says (and the
    /// answer does not).
    pub kept: Option<Duration>,
}

/// One provider: where it lives, how it is asked, and which dialect it speaks.
pub struct Row {
    pub provider: Provider,
    /// The documented address.
    pub base_url: &'static str,
    /// The create path; `{model}` stands for the dialect's wire model.
    pub create_path: &'static str,
    /// The query path; `{id}` stands for the (percent-encoded) task id.
    pub query_path: &'static str,
    /// Where the result of a finished task is asked for, when that is a
    /// request of its own (fal); `{id}` as above.
    pub result_path: Option<&'static str>,
    /// Variables that may hold the API key, first found wins.
    pub key_vars: &'static [&'static str],
    /// Access key and secret key variables, signed into a JWT (Kling's legacy scheme).
    pub jwt_vars: Option<(&'static str, &'static str)>,
    pub auth: AuthScheme,
    pub dialect: &'static Dialect,
    /// Accepts a caller-chosen `external_task_id` and can be asked by it.
    pub external_task_id: bool,
    /// Takes the image only as a link (no base64).
    pub image_links_only: bool,
    /// Its own file hosting, if it has one.
    pub upload: Option<UploadApi>,
    /// How long result links live, for messages.
    pub results_kept: &'static str,
    /// Asking the task again gives a fresh result link (false: the result is
    /// deleted, and a new query gives the same dead link).
    pub results_refetchable: bool,
}

const DAY: u64 = 24 * 3600;

/// Every provider, as `shared/providers.md` describes them.
pub const ROWS: [Row; 10] = [
    Row {
        provider: Provider::Kling,
        base_url: "https://api-singapore.klingai.com",
        create_path: "/v1/videos/motion-control",
        query_path: "/v1/videos/motion-control/{id}",
        result_path: None,
        key_vars: &["KLING_API_KEY"],
        jwt_vars: Some(("KLING_ACCESS_KEY", "KLING_SECRET_KEY")),
        auth: AuthScheme::Bearer,
        dialect: &kling::DIALECT,
        external_task_id: true,
        image_links_only: false,
        upload: None,
        results_kept: "30 days",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Powertokens,
        base_url: "https://api.powertokens.ai",
        create_path: "/kling/v1/videos/motion-control",
        query_path: "/kling/v1/videos/motion-control/{id}",
        result_path: None,
        key_vars: &["POWERTOKENS_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &kling::DIALECT,
        external_task_id: true,
        image_links_only: false,
        upload: None,
        results_kept: "30 days",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Novita,
        base_url: "https://api.novita.ai",
        create_path: "/v3/async/kling-v3.0-motion-control",
        query_path: "/v3/async/task-result?task_id={id}",
        result_path: None,
        key_vars: &["NOVITA_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &novita::DIALECT,
        external_task_id: false,
        image_links_only: false,
        upload: None,
        results_kept: "for the time its video_url_ttl says",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Highway,
        base_url: "https://api.highwayapi.ai",
        create_path: "/v3/async/kling-v3.0-motion-control",
        query_path: "/v3/async/task-result?task_id={id}",
        result_path: None,
        key_vars: &["HIGHWAY_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &novita::DIALECT,
        external_task_id: false,
        image_links_only: false,
        upload: None,
        results_kept: "for the time its video_url_ttl says",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Aihubmax,
        base_url: "https://api.aihubmax.com",
        create_path: "/v1/videos/generations",
        query_path: "/v1/tasks/{id}",
        result_path: None,
        key_vars: &["AIHUBMAX_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &aihubmax::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: None,
        results_kept: "24 hours",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Fal,
        base_url: "https://queue.fal.run",
        create_path: "/fal-ai/kling-video/{model}/motion-control",
        // Used when the create answer gives no URLs of its own (see TaskHandle).
        query_path: "/fal-ai/kling-video/requests/{id}/status",
        result_path: Some("/fal-ai/kling-video/requests/{id}"),
        key_vars: &["FAL_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Key,
        dialect: &fal::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: Some(UploadApi {
            base_url: Some("https://rest.alpha.fal.ai"),
            shape: UploadShape::Initiate {
                path: "/storage/upload/initiate?storage_type=fal-cdn-v3",
            },
            max_bytes: None,
            limit_note: "",
            kept: None,
        }),
        results_kept: "for a limited time",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Replicate,
        base_url: "https://api.replicate.com",
        create_path: "/v1/models/kwaivgi/{model}/predictions",
        query_path: "/v1/predictions/{id}",
        result_path: None,
        key_vars: &["REPLICATE_API_TOKEN"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &replicate::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: Some(UploadApi {
            base_url: None,
            shape: UploadShape::Multipart {
                path: "/v1/files",
                file_part: "content",
                name_part: None,
                folder_part: None,
                link: "/urls/get",
                expires: Some("/expires_at"),
            },
            max_bytes: Some(100 * 1024 * 1024),
            limit_note: "its files API answers 413 above 100 MiB",
            kept: None,
        }),
        results_kept: "one hour after the prediction ends, then deletes them",
        results_refetchable: false,
    },
    Row {
        provider: Provider::Kie,
        base_url: "https://api.kie.ai",
        create_path: "/api/v1/jobs/createTask",
        query_path: "/api/v1/jobs/recordInfo?taskId={id}",
        result_path: None,
        key_vars: &["KIE_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &kie::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: Some(UploadApi {
            base_url: Some("https://kieai.redpandaai.co"),
            shape: UploadShape::Multipart {
                path: "/api/file-stream-upload",
                file_part: "file",
                // A reused name overwrites: objects are named by content hash.
                name_part: Some("fileName"),
                folder_part: Some(("uploadPath", "preflight")),
                link: "/data/downloadUrl",
                expires: None,
            },
            max_bytes: None,
            limit_note: "",
            kept: Some(Duration::from_secs(3 * DAY)),
        }),
        results_kept: "for a limited time",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Piapi,
        base_url: "https://api.piapi.ai",
        create_path: "/api/v1/task",
        query_path: "/api/v1/task/{id}",
        result_path: None,
        key_vars: &["PIAPI_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::XApiKey,
        dialect: &piapi::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: Some(UploadApi {
            base_url: Some("https://upload.theapi.app"),
            shape: UploadShape::Base64Json {
                path: "/api/ephemeral_resource",
                name_field: "file_name",
                data_field: "file_data",
                link: "/data/url",
            },
            // 10 MB of base64 (read as 10^7 characters, the reading that is
            // never refused) holds 7.5 MB of file.
            max_bytes: Some(7_500_000),
            limit_note: "its upload takes the file as base64 of at most 10 MB",
            kept: Some(Duration::from_secs(DAY)),
        }),
        results_kept: "for a limited time",
        results_refetchable: true,
    },
    Row {
        provider: Provider::Wavespeed,
        base_url: "https://api.wavespeed.ai",
        create_path: "/api/v3/kwaivgi/{model}/motion-control",
        query_path: "/api/v3/predictions/{id}/result",
        result_path: None,
        key_vars: &["WAVESPEED_API_KEY"],
        jwt_vars: None,
        auth: AuthScheme::Bearer,
        dialect: &wavespeed::DIALECT,
        external_task_id: false,
        image_links_only: true,
        upload: Some(UploadApi {
            base_url: None,
            shape: UploadShape::Multipart {
                path: "/api/v3/media/upload/binary",
                file_part: "file",
                name_part: None,
                folder_part: None,
                link: "/data/download_url",
                expires: None,
            },
            max_bytes: Some(100_000_000),
            limit_note: "its upload takes videos up to 100 MB",
            kept: Some(Duration::from_secs(7 * DAY)),
        }),
        results_kept: "for a limited time",
        results_refetchable: true,
    },
];

/// The provider's row.
pub fn row(provider: Provider) -> &'static Row {
    // Every `Provider` has a row (a unit test walks `Provider::ALL`).
    ROWS.iter()
        .find(|r| r.provider == provider)
        .unwrap_or(&ROWS[0])
}

/// Providers that accept a caller-chosen `external_task_id` and can be queried by it.
pub fn supports_external_id(provider: Provider) -> bool {
    row(provider).external_task_id
}

/// The environment variable(s) that hold a provider's key, as people read them.
pub fn key_hint(provider: Provider) -> String {
    let row = row(provider);
    let mut hint = row.key_vars.join(" or ");
    if let Some((access, secret)) = row.jwt_vars {
        hint.push_str(&format!(" (or {access} and {secret})"));
    }
    hint
}

impl Inputs {
    /// Refuse, before any request, what the provider would refuse anyway.
    pub fn validate(&self) -> Result<Spec, SubmitError> {
        let spec = Spec::lookup(self.provider, self.model, self.orientation)
            .map_err(|e| SubmitError::Refused(e.to_string()))?;
        if !is_url(&self.video_url) {
            return Err(SubmitError::Refused(format!(
                "{} needs the video as a public http(s) URL, not `{}`: upload it to storage the provider can fetch from",
                self.provider, self.video_url
            )));
        }
        if let ImageInput::Url(u) | ImageInput::Link { url: u, .. } = &self.image {
            if !is_url(u) {
                return Err(SubmitError::Refused(format!(
                    "the image `{u}` is neither a file nor an http(s) URL"
                )));
            }
        }
        if matches!(self.image, ImageInput::Base64 { .. }) && row(self.provider).image_links_only {
            return Err(SubmitError::Refused(format!(
                "{} accepts only a public URL for the image: upload {} to storage the provider can fetch from",
                self.provider,
                self.image.source()
            )));
        }
        self.validate_fields()?;
        Ok(spec)
    }

    /// Prompts within the limit, and no field the dialect does not have.
    fn validate_fields(&self) -> Result<(), SubmitError> {
        for (name, text) in [
            ("prompt", &self.prompt),
            ("negative prompt", &self.negative_prompt),
        ] {
            if let Some(t) = text {
                let n = t.chars().count();
                if n > MAX_PROMPT_CHARS {
                    return Err(SubmitError::Refused(format!(
                        "the {name} has {n} characters; providers accept at most {MAX_PROMPT_CHARS}"
                    )));
                }
            }
        }
        let dialect = row(self.provider).dialect;
        if self.negative_prompt.is_some() && !dialect.negative_prompt {
            return Err(SubmitError::Refused(format!(
                "{} has no negative prompt field; describe what to avoid inside the prompt instead \
                 (Kling's prompt \"can include positive and negative descriptions\"), or use novita, highway or wavespeed",
                self.provider
            )));
        }
        if self.keep_sound.is_some() && !dialect.keep_sound {
            return Err(SubmitError::Refused(format!(
                "{} has no field to keep or drop the video's sound; leave the setting out \
                 (or repair the video without sound first: `preflight fix --keep-sound no`)",
                self.provider
            )));
        }
        Ok(())
    }

    /// The model name this provider expects.
    pub fn wire_model(&self) -> String {
        (row(self.provider).dialect.wire_model)(self)
    }

    /// The JSON body of the create request.
    pub fn body(&self, external_task_id: Option<&str>) -> Value {
        self.body_with(self.image.wire(), external_task_id)
    }

    /// The body as the journal keeps it: base64 replaced by its length and hash.
    pub fn redacted_body(&self, external_task_id: Option<&str>) -> Value {
        let shown = Inputs {
            video_url: redact_link(&self.video_url),
            image: ImageInput::Url(String::new()),
            ..self.clone()
        };
        shown.body_with(&self.image.redacted(), external_task_id)
    }

    fn body_with(&self, image: &str, external_task_id: Option<&str>) -> Value {
        Value::Object((row(self.provider).dialect.body)(
            self,
            image,
            external_task_id,
        ))
    }
}

pub fn default_base_url(provider: Provider) -> &'static str {
    row(provider).base_url
}

/// `PREFLIGHT_<PROVIDER>_BASE_URL`.
pub fn base_url_env(provider: Provider) -> String {
    format!(
        "PREFLIGHT_{}_BASE_URL",
        provider.name().to_ascii_uppercase()
    )
}

/// `PREFLIGHT_<PROVIDER>_UPLOAD_URL`: where the provider's upload API is asked.
pub fn upload_url_env(provider: Provider) -> String {
    format!(
        "PREFLIGHT_{}_UPLOAD_URL",
        provider.name().to_ascii_uppercase()
    )
}

/// The create path for these inputs (the model is in it at some providers).
pub fn create_path(inputs: &Inputs) -> String {
    row(inputs.provider)
        .create_path
        .replace("{model}", &inputs.wire_model())
}

/// Path (and query) to look a task up by its id (or, at Kling, its external id).
pub fn query_path(provider: Provider, id: &str) -> String {
    row(provider)
        .query_path
        .replace("{id}", &encode_component(id))
}

/// Path of the separate result request, where there is one.
pub fn result_path(provider: Provider, id: &str) -> Option<String> {
    row(provider)
        .result_path
        .map(|p| p.replace("{id}", &encode_component(id)))
}

fn parse_json(provider: Provider, body: &str) -> Result<Value, SubmitError> {
    serde_json::from_str(body).map_err(|e| {
        let head: String = body.chars().take(200).collect();
        protocol(provider, format!("not JSON ({e}): {head}"))
    })
}

/// An auth error names the variables that hold the key (the dialects do not know them).
fn with_key_hint(provider: Provider, e: SubmitError) -> SubmitError {
    match e {
        SubmitError::Auth {
            provider: p,
            message,
            env,
        } if env.is_empty() => SubmitError::Auth {
            provider: p,
            message,
            env: key_hint(provider),
        },
        other => other,
    }
}

/// The task id (and addresses) from a successful (2xx) create response.
pub fn parse_create(provider: Provider, body: &str) -> Result<TaskHandle, SubmitError> {
    let v = parse_json(provider, body)?;
    (row(provider).dialect.parse_create)(provider, &v).map_err(|e| with_key_hint(provider, e))
}

/// A task from a successful (2xx) query response.
pub fn parse_task(provider: Provider, body: &str) -> Result<TaskState, SubmitError> {
    let v = parse_json(provider, body)?;
    (row(provider).dialect.parse_task)(provider, &v).map_err(|e| with_key_hint(provider, e))
}

/// The task from the answer to the separate result request (any status), for
/// dialects that have one.
pub fn parse_result(
    provider: Provider,
    http: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> Option<Result<TaskState, SubmitError>> {
    let parse = row(provider).dialect.parse_result?;
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    Some(
        parse(&Answer {
            provider,
            http,
            json: &json,
            head: body.chars().take(300).collect(),
            retry_after,
        })
        .map_err(|e| with_key_hint(provider, e)),
    )
}

/// The typed error for a non-success answer.
pub fn parse_error(
    provider: Provider,
    http: u16,
    body: &str,
    retry_after: Option<Duration>,
) -> SubmitError {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = (row(provider).dialect.parse_error)(&Answer {
        provider,
        http,
        json: &json,
        head: body.chars().take(300).collect(),
        retry_after,
    });
    with_key_hint(provider, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Mode, Status};
    use preflight::{Model, Orientation};
    use serde_json::json;

    fn inputs(provider: Provider) -> Inputs {
        Inputs {
            provider,
            model: Model::KlingV3,
            mode: Mode::Pro,
            orientation: Orientation::Video,
            image: ImageInput::Url("https://e.com/a.jpg".into()),
            video_url: "https://e.com/d.mp4".into(),
            video_sha256: None,
            prompt: None,
            negative_prompt: None,
            keep_sound: Some(false),
        }
    }

    #[test]
    fn every_provider_has_one_row_agreeing_with_its_spec() {
        for p in Provider::ALL {
            assert_eq!(ROWS.iter().filter(|r| r.provider == p).count(), 1, "{p}");
            for m in p.models() {
                let spec = Spec::lookup(p, *m, Orientation::Video).unwrap();
                assert_eq!(
                    row(p).image_links_only,
                    spec.image.transport == preflight::spec::Transport::UrlOnly,
                    "{p}"
                );
            }
        }
        assert_eq!(
            query_path(Provider::Novita, "a b"),
            "/v3/async/task-result?task_id=a%20b"
        );
    }

    fn keys(v: &Value) -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn marketplace_paths_and_bodies_carry_only_their_documented_fields() {
        let of = |p| {
            let mut i = inputs(p);
            i.model = Model::KlingV2_6;
            i.mode = Mode::Std;
            i.prompt = Some("dance".into());
            i
        };
        let fal = of(Provider::Fal);
        assert_eq!(
            create_path(&fal),
            "/fal-ai/kling-video/v2.6/standard/motion-control"
        );
        let b = fal.body(None);
        assert_eq!(
            keys(&b),
            [
                "character_orientation",
                "image_url",
                "keep_original_sound",
                "prompt",
                "video_url"
            ]
        );
        assert_eq!(b["keep_original_sound"], json!(false));
        let mut v3 = of(Provider::Fal);
        (v3.model, v3.mode) = (Model::KlingV3, Mode::Pro);
        assert_eq!(
            create_path(&v3),
            "/fal-ai/kling-video/v3/pro/motion-control"
        );

        let rep = of(Provider::Replicate);
        assert_eq!(
            create_path(&rep),
            "/v1/models/kwaivgi/kling-v2.6-motion-control/predictions"
        );
        let b = rep.body(None);
        assert_eq!(keys(&b), ["input"]);
        assert_eq!(
            keys(&b["input"]),
            [
                "character_orientation",
                "image",
                "keep_original_sound",
                "mode",
                "prompt",
                "video"
            ]
        );

        let mut kie = of(Provider::Kie);
        assert!(kie.validate().is_err(), "kie has no sound field");
        kie.keep_sound = None;
        kie.validate().unwrap();
        let b = kie.body(None);
        assert_eq!(keys(&b), ["input", "model"]);
        assert_eq!(b["model"], "kling-2.6/motion-control");
        assert_eq!(
            keys(&b["input"]),
            [
                "character_orientation",
                "input_urls",
                "mode",
                "prompt",
                "video_urls"
            ]
        );
        assert_eq!(
            (
                b["input"]["mode"].as_str(),
                b["input"]["input_urls"][0].as_str()
            ),
            (Some("720p"), Some("https://e.com/a.jpg"))
        );

        let b = of(Provider::Piapi).body(None);
        assert_eq!(
            (b["model"].as_str(), b["task_type"].as_str()),
            (Some("kling"), Some("motion_control"))
        );
        assert_eq!(
            keys(&b["input"]),
            [
                "image_url",
                "keep_original_sound",
                "mode",
                "motion_direction",
                "prompt",
                "version",
                "video_url"
            ]
        );
        assert_eq!(b["input"]["version"], "2.6");

        let mut ws = of(Provider::Wavespeed);
        ws.negative_prompt = Some("blur".into());
        ws.validate().unwrap();
        assert_eq!(
            create_path(&ws),
            "/api/v3/kwaivgi/kling-v2.6-std/motion-control"
        );
        assert_eq!(
            keys(&ws.body(None)),
            [
                "character_orientation",
                "image",
                "keep_original_sound",
                "negative_prompt",
                "prompt",
                "video"
            ]
        );
        let mut f = of(Provider::Fal);
        f.negative_prompt = Some("blur".into());
        assert!(f.validate().is_err());
    }

    #[test]
    fn fal_status_then_result_decides_success_failure_or_wait() {
        let t = parse_task(Provider::Fal, r#"{"status":"COMPLETED","request_id":"r"}"#).unwrap();
        assert_eq!((t.status, t.videos.len()), (Status::Succeeded, 0));
        let ok = parse_result(
            Provider::Fal,
            200,
            r#"{"video":{"url":"https://v/r.mp4"}}"#,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.videos, ["https://v/r.mp4"]);
        let wait = parse_result(Provider::Fal, 504, "<html>Gateway Timeout</html>", None)
            .unwrap()
            .unwrap();
        assert_eq!(wait.status, Status::Processing);
        let failed = parse_result(
            Provider::Fal,
            422,
            r#"{"detail":[{"loc":["body","video_url"],"msg":"video too short","type":"value_error"}]}"#,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.message.as_deref(),
            Some("body.video_url: video too short")
        );
        assert!(parse_result(Provider::Kling, 200, "{}", None).is_none());
        let e = parse_error(Provider::Fal, 401, r#"{"detail":"bad key"}"#, None);
        assert!(e.to_string().contains("FAL_KEY"), "{e}");
    }

    #[test]
    fn replicate_wavespeed_answers() {
        let t = parse_task(
            Provider::Replicate,
            r#"{"id":"p","status":"succeeded","output":"https://r/o.mp4","error":null}"#,
        )
        .unwrap();
        assert_eq!(
            (t.status, t.videos.clone()),
            (Status::Succeeded, vec!["https://r/o.mp4".to_string()])
        );
        let t = parse_task(
            Provider::Replicate,
            r#"{"id":"p","status":"canceled","output":null}"#,
        )
        .unwrap();
        assert_eq!(t.status, Status::Failed);
        let e = parse_error(
            Provider::Replicate,
            429,
            r#"{"detail":"Request was throttled."}"#,
            Some(Duration::from_secs(3)),
        );
        assert!(matches!(
            e,
            SubmitError::RateLimited {
                retry_after: Some(_),
                ..
            }
        ));
        let t = parse_task(
            Provider::Wavespeed,
            r#"{"code":200,"data":{"id":"w","status":"completed","outputs":["https://w/o.mp4"]}}"#,
        )
        .unwrap();
        assert_eq!(t.videos, ["https://w/o.mp4"]);
        let t = parse_task(
            Provider::Wavespeed,
            r#"{"code":200,"data":{"id":"w","status":"completed","outputs":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            t.status,
            Status::Processing,
            "completed without outputs is not done"
        );
    }

    #[test]
    fn key_changes_with_every_setting() {
        let a = inputs(Provider::Kling);
        let mut b = a.clone();
        assert_eq!(a.key(), b.key());
        b.mode = Mode::Std;
        assert_ne!(a.key(), b.key());
        let mut c = a.clone();
        c.prompt = Some("x".into());
        assert_ne!(a.key(), c.key());
        let mut d = a.clone();
        d.provider = Provider::Powertokens;
        assert_ne!(a.key(), d.key());
    }

    #[test]
    fn novita_model_follows_mode_and_sound_is_boolean() {
        let b = inputs(Provider::Novita).body(None);
        assert_eq!(b["model_name"], "kling-v3-0-pro");
        assert_eq!(b["keep_original_sound"], json!(false));
    }

    #[test]
    fn kling_error_codes_are_typed() {
        let e = parse_error(
            Provider::Kling,
            429,
            r#"{"code":1303,"message":"busy"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::RateLimited { .. }));
        let e = parse_error(Provider::Kling, 504, r#"{"code":5002,"message":"t"}"#, None);
        assert!(e.maybe_created());
        let e = parse_error(
            Provider::Kling,
            401,
            r#"{"code":1002,"message":"bad"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::Auth { .. }));
        let e = parse_error(
            Provider::Kling,
            400,
            r#"{"code":1301,"message":"no"}"#,
            None,
        );
        assert!(matches!(e, SubmitError::ContentPolicy { .. }));
        let e = parse_error(
            Provider::Kling,
            400,
            r#"{"code":1201,"message":"mode bad"}"#,
            None,
        );
        assert!(e.to_string().contains("mode bad"));
    }

    #[test]
    fn aihubmax_completed_without_results_is_not_done() {
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","progress":100,"results":[]}"#,
        )
        .unwrap();
        assert_eq!(t.status, Status::Processing);
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","results":[{"url":"https://x/v.mp4"}]}"#,
        )
        .unwrap();
        assert_eq!(t.videos, vec!["https://x/v.mp4"]);
        let t = parse_task(
            Provider::Aihubmax,
            r#"{"id":"t","status":"completed","results":["https://x/w.mp4"]}"#,
        )
        .unwrap();
        assert_eq!(t.status, Status::Succeeded);
        assert_eq!(t.videos, vec!["https://x/w.mp4"]);
    }
}
