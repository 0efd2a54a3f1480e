//! Putting local files where a provider can fetch them: an S3-compatible bucket
//! (presigned GET links, so the bucket stays private) or a command of the
//! user's own that prints a link. Objects are content-addressed, so a file
//! already in the bucket is never sent again.
//!
//! Nothing here formats a secret or a signature into a message: S3 error
//! bodies are reduced to their `Code` and `Message`, and URLs to their path.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rusty_s3::{Bucket, S3Action, UrlStyle};

use crate::auth::Secret;
use crate::error::SubmitError;
use crate::http::{agent, transport_message, HttpConfig};
use crate::link::{content_type, hash_reader, is_url, redact_link};
// Where callers found it before `link` existed.
pub use crate::link::hash_file;

/// Longest life S3 allows a presigned link (SigV4): 7 days.
pub const MAX_LINK_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// What providers get unless told otherwise: long enough for a queued task.
pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

/// Where an S3 store lives and who we are there, from `s3://BUCKET/PREFIX`
/// and the standard AWS variables.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// Without leading or trailing slashes; may be empty.
    pub prefix: String,
    /// `AWS_ENDPOINT_URL`: other S3-compatible services (R2, B2, MinIO, GCS); path-style.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key: Secret,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
}

impl S3Config {
    /// Parse `s3://BUCKET/PREFIX`; credentials and endpoint from `get`.
    pub fn from_lookup(
        target: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<S3Config, SubmitError> {
        let rest = target.strip_prefix("s3://").ok_or_else(|| {
            SubmitError::Refused(format!(
                "the upload target `{target}` is not of the form s3://BUCKET/PREFIX"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(SubmitError::Refused(format!(
                "the upload target `{target}` names no bucket (s3://BUCKET/PREFIX)"
            )));
        }
        let missing = |var: &str| {
            SubmitError::Refused(format!(
            "uploading to {target} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment ({var} is not set)"
        ))
        };
        Ok(S3Config {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: get("AWS_ENDPOINT_URL"),
            region: get("AWS_REGION")
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            access_key: Secret::new(
                get("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?,
            ),
            secret_key: Secret::new(
                get("AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?,
            ),
            session_token: get("AWS_SESSION_TOKEN").map(Secret::new),
        })
    }
}

/// A presigned (or command-made) link to an uploaded object.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    /// Unix seconds; `None` when the store does not say.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link({}, {:?})", redact_link(&self.url), self.expires_at)
    }
}

/// An S3-compatible bucket, spoken to with presigned requests over `ureq`.
pub struct S3Store {
    bucket: Bucket,
    creds: rusty_s3::Credentials,
    prefix: String,
    agent: ureq::Agent,
    label: String,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Store({})", self.label)
    }
}

/// How long the presigned HEAD and PUT we send ourselves stay valid.
const OWN_REQUEST_TTL: Duration = Duration::from_secs(15 * 60);

impl S3Store {
    pub fn new(config: S3Config, http: HttpConfig) -> Result<S3Store, SubmitError> {
        let label = format!("s3://{}/{}", config.bucket, config.prefix);
        let (endpoint, style) = match &config.endpoint {
            Some(e) => (e.clone(), UrlStyle::Path),
            None => (
                format!("https://s3.{}.amazonaws.com", config.region),
                UrlStyle::VirtualHost,
            ),
        };
        let endpoint = endpoint.parse().map_err(|e| {
            SubmitError::Refused(format!("AWS_ENDPOINT_URL `{endpoint}` is not a URL: {e}"))
        })?;
        let bucket = Bucket::new(
            endpoint,
            style,
            config.bucket.clone(),
            config.region.clone(),
        )
        .map_err(|e| SubmitError::Refused(format!("cannot address {label}: {e}")))?;
        let creds = match &config.session_token {
            Some(t) => rusty_s3::Credentials::new_with_token(
                config.access_key.expose(),
                config.secret_key.expose(),
                t.expose(),
            ),
            None => {
                rusty_s3::Credentials::new(config.access_key.expose(), config.secret_key.expose())
            }
        };
        Ok(S3Store {
            bucket,
            creds,
            prefix: config.prefix,
            agent: agent(http),
            label,
        })
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The object key for content with this hash: `PREFIX/HASH.EXT`.
    pub fn key_for(&self, sha256: &str, ext: &str) -> String {
        let name = format!("{sha256}.{}", ext.to_ascii_lowercase());
        if self.prefix.is_empty() {
            name
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn store_error(&self, what: &str, e: ureq::Error) -> SubmitError {
        match e {
            ureq::Error::Status(status, resp) => {
                let body = resp.into_string().unwrap_or_default();
                let message = s3_error_summary(&body);
                if matches!(status, 401 | 403) {
                    SubmitError::StoreRefused {
                        store: self.label.clone(),
                        status,
                        message,
                    }
                } else {
                    SubmitError::StoreFailed {
                        store: self.label.clone(),
                        what: what.to_string(),
                        status,
                        message,
                    }
                }
            }
            ureq::Error::Transport(t) => SubmitError::StoreUnreachable {
                store: self.label.clone(),
                message: transport_message(&t),
            },
        }
    }

    /// Whether the object is there already (a signed HEAD).
    pub fn exists(&self, key: &str) -> Result<bool, SubmitError> {
        let url = self
            .bucket
            .head_object(Some(&self.creds), key)
            .sign(OWN_REQUEST_TTL);
        match self.agent.head(url.as_str()).call() {
            Ok(_) => Ok(true),
            Err(ureq::Error::Status(404, _)) => Ok(false),
            Err(e) => Err(self.store_error("looking for an object", e)),
        }
    }

    /// Send a file, streamed from disk, under `key`.
    pub fn put(&self, key: &str, path: &Path) -> Result<u64, SubmitError> {
        let file = File::open(path)
            .map_err(|e| SubmitError::io(format!("opening {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| SubmitError::io(format!("reading {}", path.display()), e))?
            .len();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let url = self
            .bucket
            .put_object(Some(&self.creds), key)
            .sign(OWN_REQUEST_TTL);
        self.agent
            .put(url.as_str())
            .set("Content-Type", content_type(ext))
            // An explicit length: S3 refuses chunked uploads to presigned URLs.
            .set("Content-Length", &len.to_string())
            .send(file)
            .map_err(|e| self.store_error("uploading", e))?;
        Ok(len)
    }

    /// A presigned GET link, signed at `signed_at` (unix seconds): the same
    /// time gives the same link, so the journal need not keep the signature.
    pub fn link(&self, key: &str, signed_at: i64, ttl: Duration) -> Link {
        let time =
            jiff::Timestamp::from_second(signed_at).unwrap_or_else(|_| jiff::Timestamp::now());
        let url = self
            .bucket
            .get_object(Some(&self.creds), key)
            .sign_with_time(ttl, &time);
        Link {
            url: url.to_string(),
            expires_at: Some(signed_at + ttl.as_secs() as i64),
        }
    }
}

/// `Code: Message` from an S3 XML error; never the rest (AWS echoes the
/// string to sign and the signature provided).
fn s3_error_summary(body: &str) -> String {
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].chars().take(200).collect())
    };
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        _ => "no error details".into(),
    }
}

/// A user's command that uploads a file and prints its link on the last line.
#[derive(Debug, Clone)]
pub struct CommandStore {
    pub command: String,
    agent: ureq::Agent,
}

impl CommandStore {
    pub fn new(command: impl Into<String>, http: HttpConfig) -> CommandStore {
        CommandStore {
            command: command.into(),
            agent: agent(http),
        }
    }

    /// Run the command on `path`, then check that the link serves the same bytes.
    pub fn upload(&self, path: &Path, sha256: &str) -> Result<Link, SubmitError> {
        let fail = |message: String| SubmitError::UploadCommand {
            command: self.command.clone(),
            message,
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{} \"$@\"", self.command))
            .arg("preflight-upload")
            .arg(path)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| fail(format!("could not start it: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!("it exited with {}", out.status)));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let url = stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .ok_or_else(|| fail("it printed no link".into()))?
            .to_string();
        if !is_url(&url) {
            return Err(fail(format!(
                "its last line is not an http(s) link: `{}`",
                redact_link(&url)
            )));
        }
        self.verify(&url, path, sha256)?;
        Ok(Link {
            url,
            expires_at: None,
        })
    }

    /// GET the link and compare its length and hash with the file's.
    pub fn verify(&self, url: &str, path: &Path, sha256: &str) -> Result<(), SubmitError> {
        let bad = |message: String| SubmitError::LinkCheck {
            link: redact_link(url),
            message,
        };
        let want = std::fs::metadata(path)
            .map_err(|e| SubmitError::io(format!("reading {}", path.display()), e))?
            .len();
        let resp = self.agent.get(url).call().map_err(|e| match e {
            ureq::Error::Status(code, _) => bad(format!("it answers HTTP {code}")),
            ureq::Error::Transport(t) => bad(transport_message(&t)),
        })?;
        let (got, hash) = hash_reader(resp.into_reader().take(want + 1))
            .map_err(|e| bad(format!("reading it failed: {e}")))?;
        if got != want {
            return Err(bad(format!("it serves {got} bytes, the file has {want}")));
        }
        if hash != sha256 {
            return Err(bad("it serves other bytes than the file".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_and_keys() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AK".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("SK".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9".to_string()),
            _ => None,
        };
        let c = S3Config::from_lookup("s3://media/runs/a/", env).unwrap();
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("media", "runs/a"));
        assert_eq!(c.region, "us-east-1");
        let s = S3Store::new(c, HttpConfig::default()).unwrap();
        assert_eq!(s.key_for("ab", "MP4"), "runs/a/ab.mp4");
        let l = s.link("runs/a/ab.mp4", 1_700_000_000, DEFAULT_LINK_TTL);
        assert!(
            l.url.starts_with("http://127.0.0.1:9/media/runs/a/ab.mp4?"),
            "path-style"
        );
        assert_eq!(l, s.link("runs/a/ab.mp4", 1_700_000_000, DEFAULT_LINK_TTL));
        assert!(S3Config::from_lookup("s3://media", |_| None).is_err());
        assert!(S3Config::from_lookup("gs://media", env).is_err());
        assert!(!format!("{s:?}").contains("SK"));
    }

    #[test]
    fn s3_errors_keep_code_and_message_only() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message><SignatureProvided>deadbeef</SignatureProvided></Error>";
        assert_eq!(s3_error_summary(body), "SignatureDoesNotMatch: no");
    }
}
