//! The HTTP side: one provider, one base URL, one key.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use preflight::Provider;

use crate::auth::Credentials;
use crate::error::SubmitError;
use crate::provider::{self, TaskState};
use crate::upload::redact_link;

/// Network timeouts.
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Longest wait for any read or write on the socket.
    pub io_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(15),
            io_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
pub struct Client {
    provider: Provider,
    base_url: String,
    creds: Credentials,
    agent: ureq::Agent,
}

struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
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
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(http.connect_timeout)
            .timeout_read(http.io_timeout)
            .timeout_write(http.io_timeout)
            .user_agent(concat!("preflight/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            provider,
            base_url,
            creds,
            agent,
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn transport(&self, t: &ureq::Transport) -> SubmitError {
        let maybe_sent = !matches!(
            t.kind(),
            ureq::ErrorKind::Dns
                | ureq::ErrorKind::ConnectionFailed
                | ureq::ErrorKind::InvalidUrl
                | ureq::ErrorKind::UnknownScheme
        );
        // Result links may be signed: the URL goes into messages without its secrets.
        let url = t.url().map(|u| redact_link(u.as_str())).unwrap_or_default();
        let what = match t.message() {
            Some(m) => format!("{}: {m}", t.kind()),
            None => t.kind().to_string(),
        };
        SubmitError::Transport {
            provider: self.provider,
            message: format!("{url}: {what}"),
            maybe_sent,
        }
    }

    fn call(&self, req: ureq::Request, body: Option<&str>) -> Result<Answer, SubmitError> {
        let req = req.set("Authorization", &self.creds.header());
        let result = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(self.transport(&t)),
        };
        let status = resp.status();
        let retry_after = resp
            .header("Retry-After")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
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

    /// Send one create request; the provider's task id on success.
    pub fn create(&self, body: &serde_json::Value) -> Result<String, SubmitError> {
        let url = format!("{}{}", self.base_url, provider::create_path(self.provider));
        let a = self.call(self.agent.post(&url), Some(&body.to_string()))?;
        if (200..300).contains(&a.status) {
            provider::parse_create(self.provider, &a.body)
        } else {
            Err(provider::parse_error(
                self.provider,
                a.status,
                &a.body,
                a.retry_after,
            ))
        }
    }

    /// Look a task up by its id (at Kling and powertokens also by external id).
    pub fn query(&self, id: &str) -> Result<TaskState, SubmitError> {
        let url = format!(
            "{}{}",
            self.base_url,
            provider::query_path(self.provider, id)
        );
        let a = self.call(self.agent.get(&url), None)?;
        let result = if (200..300).contains(&a.status) {
            provider::parse_task(self.provider, &a.body)
        } else {
            Err(provider::parse_error(
                self.provider,
                a.status,
                &a.body,
                a.retry_after,
            ))
        };
        result.map_err(|e| match e {
            SubmitError::NotFound { provider, .. } => SubmitError::NotFound {
                provider,
                task: id.to_string(),
            },
            other => other,
        })
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
                    task: task.to_string(),
                    status: code,
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
