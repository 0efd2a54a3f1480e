//! Uploads through the provider's own file hosting (fal, Replicate, kie,
//! PiAPI, WaveSpeed): with these, an API key is all a user needs. Each
//! API's shape is data in its row ([`UploadShape`]); this module speaks them.
//! Objects are named by their content hash wherever the API takes a name
//! (kie overwrites a reused name), and a file over the API's size limit is
//! refused before anything is sent.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use preflight::Provider;
use serde_json::{json, Value};

use crate::client::{Answer, Client};
use crate::dialect::{first_str, str_at};
use crate::error::SubmitError;
use crate::link::{content_type, redact_link};
use crate::provider::{key_hint, row, UploadApi, UploadShape};
use crate::upload::Link;

/// A provider's upload API, reached with the client's key.
pub struct Hosted<'a> {
    client: &'a Client,
    api: UploadApi,
}

/// An object sent to a provider's hosting.
#[derive(Debug, Clone)]
pub struct HostedObject {
    /// The name it was sent under (content hash and extension).
    pub name: String,
    pub link: Link,
    pub bytes: u64,
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The file's length, or the error for a file that cannot be read.
fn file_len(path: &Path) -> Result<u64, SubmitError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| SubmitError::io(format!("reading {}", path.display()), e))
}

impl<'a> Hosted<'a> {
    /// The client's provider's upload API, if it has one.
    pub fn of(client: &'a Client) -> Option<Hosted<'a>> {
        row(client.provider())
            .upload
            .map(|api| Hosted { client, api })
    }

    pub fn provider(&self) -> Provider {
        self.client.provider()
    }

    /// How the journal names this store.
    pub fn label(&self) -> String {
        format!("provider:{}", self.provider())
    }

    /// Refuse a file the API would refuse for its size, before anything is sent.
    pub fn check_size(&self, path: &Path) -> Result<u64, SubmitError> {
        let bytes = file_len(path)?;
        match self.api.max_bytes {
            Some(limit) if bytes > limit => Err(SubmitError::UploadTooLarge {
                provider: self.provider(),
                path: path.display().to_string(),
                bytes,
                limit,
                note: self.api.limit_note,
            }),
            _ => Ok(bytes),
        }
    }

    /// Send the file; its link, expiry and the name it went under.
    pub fn upload(&self, path: &Path, sha256: &str) -> Result<HostedObject, SubmitError> {
        let bytes = self.check_size(path)?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("bin")
            .to_ascii_lowercase();
        let name = format!("{sha256}.{ext}");
        let mime = content_type(&ext);
        let base = self.client.upload_base();
        let (url, expires) = match self.api.shape {
            UploadShape::Initiate { path: at } => (
                self.initiate(&format!("{base}{at}"), path, &name, mime)?,
                None,
            ),
            UploadShape::Multipart { .. } => self.multipart(&base, path, &name, mime, bytes)?,
            UploadShape::Base64Json { .. } => (self.base64_json(&base, path, &name)?, None),
        };
        let expires_at = expires.or_else(|| self.api.kept.map(|k| now_s() + k.as_secs() as i64));
        Ok(HostedObject {
            name,
            link: Link { url, expires_at },
            bytes,
        })
    }

    fn unreachable(&self, url: &str, e: SubmitError) -> SubmitError {
        match e {
            SubmitError::Transport { message, .. } => SubmitError::UploadUnreachable {
                provider: self.provider(),
                url: redact_link(url),
                message,
            },
            other => other,
        }
    }

    /// The error for a non-2xx answer (or a 2xx one whose envelope says no).
    fn failed(&self, what: &str, status: u16, body: &str) -> SubmitError {
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let message = first_str(
            &json,
            &["/detail", "/msg", "/message", "/error/message", "/error"],
        )
        .map(String::from)
        .unwrap_or_else(|| body.chars().take(200).collect());
        if matches!(status, 401 | 403) {
            return SubmitError::Auth {
                provider: self.provider(),
                message: format!("its upload API: {message}"),
                env: key_hint(self.provider()),
            };
        }
        SubmitError::UploadFailed {
            provider: self.provider(),
            what: what.to_string(),
            status,
            message,
        }
    }

    /// The answer's JSON, if it is a success by HTTP status and by its
    /// envelope's `code` (200) where it has one.
    fn accepted(&self, what: &str, a: &Answer) -> Result<Value, SubmitError> {
        let json: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        let code = json.get("code").and_then(Value::as_i64);
        let refused = json.get("success").and_then(Value::as_bool) == Some(false);
        if !(200..300).contains(&a.status) || code.is_some_and(|c| c != 200) || refused {
            let status = code
                .and_then(|c| u16::try_from(c).ok())
                .filter(|_| (200..300).contains(&a.status))
                .unwrap_or(a.status);
            return Err(self.failed(what, status, &a.body));
        }
        Ok(json)
    }

    fn link_at(&self, json: &Value, pointer: &str) -> Result<String, SubmitError> {
        str_at(json, pointer)
            .filter(|u| crate::link::is_url(u))
            .map(String::from)
            .ok_or_else(|| SubmitError::Protocol {
                provider: self.provider(),
                message: format!("the upload answer has no link at {pointer}"),
            })
    }

    /// fal: ask for an upload URL, PUT the bytes there; `file_url` is the link.
    fn initiate(
        &self,
        url: &str,
        path: &Path,
        name: &str,
        mime: &str,
    ) -> Result<String, SubmitError> {
        let body = json!({"content_type": mime, "file_name": name}).to_string();
        let sent = self
            .client
            .authorized(self.client.agent().post(url))
            .set("Content-Type", "application/json")
            .send_string(&body);
        let a = self
            .client
            .answer(sent)
            .map_err(|e| self.unreachable(url, e))?;
        let json = self.accepted("to start an upload", &a)?;
        let upload_url = self.link_at(&json, "/upload_url")?;
        let file_url = self.link_at(&json, "/file_url")?;
        let file = File::open(path)
            .map_err(|e| SubmitError::io(format!("opening {}", path.display()), e))?;
        let len = file_len(path)?;
        // The upload URL is signed: it gets the bytes, never the key.
        let put = self
            .client
            .agent()
            .put(&upload_url)
            .set("Content-Type", mime)
            .set("Content-Length", &len.to_string())
            .send(file);
        match put {
            Ok(_) => Ok(file_url),
            Err(ureq::Error::Status(status, resp)) => Err(self.failed(
                "storing the file",
                status,
                &resp.into_string().unwrap_or_default(),
            )),
            Err(ureq::Error::Transport(t)) => Err(SubmitError::UploadUnreachable {
                provider: self.provider(),
                url: redact_link(&upload_url),
                message: crate::http::transport_message(&t),
            }),
        }
    }

    /// A multipart/form-data POST streamed from disk; the link (and expiry)
    /// from the answer.
    fn multipart(
        &self,
        base: &str,
        path: &Path,
        name: &str,
        mime: &str,
        len: u64,
    ) -> Result<(String, Option<i64>), SubmitError> {
        let UploadShape::Multipart {
            path: at,
            file_part,
            name_part,
            folder_part,
            link,
            expires,
        } = self.api.shape
        else {
            return Err(SubmitError::Refused("not a multipart upload".into()));
        };
        let url = format!("{base}{at}");
        let boundary = format!("preflight-{}", &name[..32.min(name.len())]);
        let mut head = String::new();
        let mut field = |k: &str, v: &str| {
            head.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ))
        };
        if let Some((k, v)) = folder_part {
            field(k, v);
        }
        if let Some(k) = name_part {
            field(k, name);
        }
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_part}\"; filename=\"{name}\"\r\n\
             Content-Type: {mime}\r\n\r\n"
        ));
        let tail = format!("\r\n--{boundary}--\r\n");
        let total = head.len() as u64 + len + tail.len() as u64;
        let file = File::open(path)
            .map_err(|e| SubmitError::io(format!("opening {}", path.display()), e))?;
        let body = Cursor::new(head.into_bytes())
            .chain(file)
            .chain(Cursor::new(tail.into_bytes()));
        let sent = self
            .client
            .authorized(self.client.agent().post(&url))
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .set("Content-Length", &total.to_string())
            .send(body);
        let a = self
            .client
            .answer(sent)
            .map_err(|e| self.unreachable(&url, e))?;
        let json = self.accepted("to store the file", &a)?;
        let expires_at = expires
            .and_then(|p| str_at(&json, p))
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second());
        Ok((self.link_at(&json, link)?, expires_at))
    }

    /// PiAPI: the file as base64 in a JSON body.
    fn base64_json(&self, base: &str, path: &Path, name: &str) -> Result<String, SubmitError> {
        let UploadShape::Base64Json {
            path: at,
            name_field,
            data_field,
            link,
        } = self.api.shape
        else {
            return Err(SubmitError::Refused("not a base64 upload".into()));
        };
        let url = format!("{base}{at}");
        let bytes = std::fs::read(path)
            .map_err(|e| SubmitError::io(format!("reading {}", path.display()), e))?;
        let mut body = serde_json::Map::new();
        body.insert(name_field.into(), json!(name));
        body.insert(
            data_field.into(),
            json!(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        );
        let text = Value::Object(body).to_string();
        drop(bytes);
        let sent = self
            .client
            .authorized(self.client.agent().post(&url))
            .set("Content-Type", "application/json")
            .send_string(&text);
        let a = self
            .client
            .answer(sent)
            .map_err(|e| self.unreachable(&url, e))?;
        let json = self.accepted("to store the file", &a)?;
        self.link_at(&json, link)
    }
}

/// How long before its expiry an upload is sent again rather than reused: a
/// quarter of its life, at most an hour, so a queued task can still fetch it.
pub fn renew_margin(life: Duration) -> i64 {
    (life.as_secs() / 4).min(3600) as i64
}
