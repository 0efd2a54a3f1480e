//! The HTTP side: one provider, one base URL, one key.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use preflight::Provider;
use serde_json::Value;

use crate::auth::Credentials;
use crate::error::SubmitError;
use crate::http::{agent, maybe_sent, retry_after, transport_message, HttpConfig};
use crate::link::{redact_link, same_origin};
use crate::provider::{self, row};
use crate::task::{Inputs, Status, TaskHandle, TaskState};

#[derive(Debug)]
pub struct Client {
    provider: Provider,
    base_url: String,
    /// `None`: the upload API's documented address.
    upload_url: Option<String>,
    creds: Credentials,
    agent: ureq::Agent,
}

/// An answer of any HTTP status.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Client {
    /// `base_url`: `None` for the provider's documented default.
    pub fn new(
        provider: Provider,
        base_url: Option<String>,
        creds: Credentials,
        http: HttpConfig,
    ) -> Client {
        let base_url = base_url
            .unwrap_or_else(|| provider::default_base_url(provider).to_string())
            .trim_end_matches('/')
            .to_string();
        Client {
            provider,
            base_url,
            upload_url: None,
            creds,
            agent: agent(http),
        }
    }

    /// Send uploads here instead of the upload API's documented address
    /// (`PREFLIGHT_<PROVIDER>_UPLOAD_URL`).
    pub fn with_upload_url(mut self, url: Option<String>) -> Client {
        self.upload_url = url.map(|u| u.trim_end_matches('/').to_string());
        self
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where the provider's upload API is asked: the override, else its
    /// documented address, else the API's base.
    pub fn upload_base(&self) -> String {
        match (&self.upload_url, row(self.provider).upload) {
            (Some(u), _) => u.clone(),
            (None, Some(api)) => api
                .base_url
                .map_or_else(|| self.base_url.clone(), String::from),
            (None, None) => self.base_url.clone(),
        }
    }

    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    pub(crate) fn transport(&self, t: &ureq::Transport) -> SubmitError {
        // Result links may be signed: the URL goes into messages without its secrets.
        let url = t.url().map(|u| redact_link(u.as_str())).unwrap_or_default();
        SubmitError::Transport {
            provider: self.provider,
            message: format!("{url}: {}", transport_message(t)),
            maybe_sent: maybe_sent(t),
        }
    }

    /// The request with the key in the header the provider wants.
    pub(crate) fn authorized(&self, req: ureq::Request) -> ureq::Request {
        let (name, value) = self.creds.header();
        req.set(name, &value)
    }

    /// Read the answer to a request sent with [`Client::authorized`],
    /// whatever its status.
    pub(crate) fn answer(
        &self,
        sent: Result<ureq::Response, ureq::Error>,
    ) -> Result<Answer, SubmitError> {
        let resp = match sent {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(self.transport(&t)),
        };
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let body = resp.into_string().map_err(|e| SubmitError::Transport {
            provider: self.provider,
            message: format!("reading the answer: {e}"),
            maybe_sent: true,
        })?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    fn get(&self, url: &str) -> Result<Answer, SubmitError> {
        self.answer(self.authorized(self.agent.get(url)).call())
    }

    fn error(&self, a: &Answer) -> SubmitError {
        provider::parse_error(self.provider, a.status, &a.body, a.retry_after)
    }

    /// Send one create request; the provider's task id (and addresses) on success.
    pub fn create(&self, inputs: &Inputs, body: &Value) -> Result<TaskHandle, SubmitError> {
        let url = format!("{}{}", self.base_url, provider::create_path(inputs));
        let text = body.to_string();
        let a = self.answer(
            self.authorized(self.agent.post(&url))
                .set("Content-Type", "application/json")
                .send_string(&text),
        )?;
        if a.ok() {
            provider::parse_create(self.provider, &a.body)
        } else {
            Err(self.error(&a))
        }
    }

    /// Look a task up by its id (at Kling and powertokens also by external id).
    pub fn query(&self, id: &str) -> Result<TaskState, SubmitError> {
        self.query_task(&TaskHandle::id(id))
    }

    /// An address the create answer gave, if it is on the API's own host (the
    /// key goes nowhere else); else the row's path for the id.
    fn address(&self, given: Option<&str>, path: Option<String>) -> Option<String> {
        given
            .filter(|u| same_origin(u, &self.base_url))
            .map(String::from)
            .or_else(|| path.map(|p| format!("{}{p}", self.base_url)))
    }

    /// Look a task up; where the status alone does not tell success from
    /// failure (fal), ask for its result too.
    pub fn query_task(&self, task: &TaskHandle) -> Result<TaskState, SubmitError> {
        let not_found = |e| match e {
            SubmitError::NotFound { provider, .. } => SubmitError::NotFound {
                provider,
                task: task.id.clone(),
            },
            other => other,
        };
        let status_url = self
            .address(
                task.status_url.as_deref(),
                Some(provider::query_path(self.provider, &task.id)),
            )
            .unwrap_or_default();
        let a = self.get(&status_url)?;
        if !a.ok() {
            return Err(not_found(self.error(&a)));
        }
        let state = provider::parse_task(self.provider, &a.body)?;
        let wants_result = state.status == Status::Succeeded && state.videos.is_empty();
        let result_url = self.address(
            task.response_url.as_deref(),
            provider::result_path(self.provider, &task.id),
        );
        let mut state = match result_url.filter(|_| wants_result) {
            Some(url) => self.result(&url)?,
            None => state,
        };
        if state.task_id.is_empty() {
            state.task_id = task.id.clone();
        }
        Ok(state)
    }

    /// The separate result request: its answer, whatever the status, says
    /// how the task ended.
    fn result(&self, url: &str) -> Result<TaskState, SubmitError> {
        let a = self.get(url)?;
        match provider::parse_result(self.provider, a.status, &a.body, a.retry_after) {
            Some(state) => state,
            None => Err(self.error(&a)),
        }
    }

    /// Download a result link into `dir/name` through a temporary file in the same
    /// folder. No key is sent: result links are public, often on another host.
    pub fn download(
        &self,
        url: &str,
        task: &str,
        dir: &Path,
        name: &str,
    ) -> Result<PathBuf, SubmitError> {
        let resp = match self.agent.get(url).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code @ (403 | 404 | 410), _)) => {
                return Err(SubmitError::LinkExpired {
                    provider: self.provider,
                    task: task.to_string(),
                    status: code,
                    kept: row(self.provider).results_kept,
                })
            }
            Err(ureq::Error::Status(code, r)) => {
                return Err(SubmitError::Server {
                    provider: self.provider,
                    status: code,
                    message: format!("downloading the result: {}", r.status_text()),
                })
            }
            Err(ureq::Error::Transport(t)) => return Err(self.transport(&t)),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| SubmitError::io(format!("creating {}", dir.display()), e))?;
        let final_path = dir.join(name);
        let tmp = dir.join(format!(".{name}.part"));
        let result = (|| -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            io::copy(&mut resp.into_reader(), &mut f)?;
            f.flush()?;
            f.sync_all()?;
            std::fs::rename(&tmp, &final_path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(SubmitError::io(
                format!("downloading into {}", final_path.display()),
                e,
            ));
        }
        Ok(final_path)
    }
}
