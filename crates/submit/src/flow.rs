//! Submit once, follow the task, bring the result home. The journal row is
//! written before every create, so a crash, a retry or a timeout never pays twice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use preflight::{MediaFacts, Provider};
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::error::SubmitError;
use crate::http::HttpConfig;
use crate::journal::{state, Journal, TaskRecord};
use crate::link::hex;
use crate::provider;
use crate::task::{Inputs, Status, TaskState};

/// Intervals and limits. Tests shrink them through the environment.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub poll_min: Duration,
    pub poll_max: Duration,
    pub poll_factor: f64,
    /// First backoff after a rate or concurrency limit (doubles each time).
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Create attempts before giving up on a rate or concurrency limit.
    pub create_attempts: u32,
    /// Overall limit for `wait`.
    pub wait_timeout: Duration,
    pub http: HttpConfig,
}

impl Timing {
    /// The pauses between polls of a task: `poll_min`, growing by
    /// `poll_factor`, capped at `poll_max`.
    pub fn poll_intervals(&self) -> impl Iterator<Item = Duration> + '_ {
        std::iter::successors(Some(self.poll_min), |i| {
            Some(i.mul_f64(self.poll_factor).min(self.poll_max))
        })
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_min: Duration::from_secs(2),
            poll_max: Duration::from_secs(30),
            poll_factor: 1.5,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            create_attempts: 6,
            wait_timeout: Duration::from_secs(30 * 60),
            http: HttpConfig::default(),
        }
    }
}

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_millis)
}

impl Timing {
    /// Defaults, overridden by `PREFLIGHT_POLL_MIN_MS`, `PREFLIGHT_POLL_MAX_MS`,
    /// `PREFLIGHT_BACKOFF_MIN_MS`, `PREFLIGHT_HTTP_TIMEOUT_MS`.
    pub fn from_env() -> Timing {
        let mut t = Timing::default();
        if let Some(d) = env_ms("PREFLIGHT_POLL_MIN_MS") {
            t.poll_min = d;
            t.poll_max = t.poll_max.max(d);
        }
        if let Some(d) = env_ms("PREFLIGHT_POLL_MAX_MS") {
            t.poll_max = d.max(t.poll_min);
        }
        if let Some(d) = env_ms("PREFLIGHT_BACKOFF_MIN_MS") {
            t.backoff_min = d;
        }
        if let Some(d) = env_ms("PREFLIGHT_HTTP_TIMEOUT_MS") {
            t.http.io_timeout = d;
        }
        t
    }
}

/// What `submit` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// A new task was created (and paid for).
    Created(TaskRecord),
    /// The same inputs and settings were submitted before: that task is returned.
    Existing(TaskRecord),
    /// An earlier create whose answer was lost turned out to have made a task.
    Recovered(TaskRecord),
}

impl Submitted {
    pub fn record(&self) -> &TaskRecord {
        match self {
            Submitted::Created(r) | Submitted::Existing(r) | Submitted::Recovered(r) => r,
        }
    }
}

/// A progress note for people (the library never prints).
pub type Notify<'a> = &'a mut dyn FnMut(&str);

fn new_external_id(key: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!("{key}:{nanos}:{}", std::process::id());
    format!("preflight-{}", &hex(&Sha256::digest(seed.as_bytes()))[..24])
}

/// Submit `inputs` once. Same inputs and settings as an earlier row → that task,
/// unless `again`.
pub fn submit(
    client: &Client,
    journal: &Journal,
    inputs: &Inputs,
    again: bool,
    timing: &Timing,
    notify: Notify<'_>,
) -> Result<Submitted, SubmitError> {
    inputs.validate()?;
    if inputs.provider != client.provider() {
        return Err(SubmitError::Refused(format!(
            "inputs are for {} but the client talks to {}",
            inputs.provider,
            client.provider()
        )));
    }
    let key = inputs.key();
    if !again {
        if let Some(row) = journal.find_by_key(&key)? {
            return resume_existing(client, journal, inputs, row, timing, notify);
        }
    }
    let external = provider::supports_external_id(inputs.provider).then(|| new_external_id(&key));
    let row = journal.begin(inputs, external.as_deref(), client.base_url())?;
    create_for_row(client, journal, inputs, row, timing, notify)
}

fn resume_existing(
    client: &Client,
    journal: &Journal,
    inputs: &Inputs,
    row: TaskRecord,
    timing: &Timing,
    notify: Notify<'_>,
) -> Result<Submitted, SubmitError> {
    match row.status.as_str() {
        state::SENDING => match row.external_task_id.clone() {
            Some(ext) if provider::supports_external_id(inputs.provider) => {
                notify(&format!(
                    "an earlier submission (journal row {}) was interrupted; looking it up by external_task_id {ext}",
                    row.id
                ));
                match client.query(&ext) {
                    Ok(task) => Ok(Submitted::Recovered(record_found(journal, &row, &task)?)),
                    Err(SubmitError::NotFound { .. }) => {
                        notify("it never reached the provider; sending it now");
                        create_for_row(client, journal, inputs, row, timing, notify)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => {
                let why = "was interrupted before its answer was recorded".to_string();
                journal.set_status(row.id, state::UNKNOWN, Some(&why))?;
                Err(SubmitError::Unknown {
                    provider: inputs.provider,
                    row: row.id,
                    why,
                })
            }
        },
        state::UNKNOWN => Err(row.unknown(inputs.provider)),
        _ => Ok(Submitted::Existing(row)),
    }
}

fn record_found(
    journal: &Journal,
    row: &TaskRecord,
    task: &TaskState,
) -> Result<TaskRecord, SubmitError> {
    let id = if task.task_id.is_empty() {
        row.external_task_id.clone().unwrap_or_default()
    } else {
        task.task_id.clone()
    };
    journal.set_task(row.id, &id, task.status.name())?;
    journal.get(row.id)
}

fn create_for_row(
    client: &Client,
    journal: &Journal,
    inputs: &Inputs,
    row: TaskRecord,
    timing: &Timing,
    notify: Notify<'_>,
) -> Result<Submitted, SubmitError> {
    let body = inputs.body(row.external_task_id.as_deref());
    let mut backoff = timing.backoff_min;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.create(inputs, &body) {
            Ok(task) => {
                // Right after the answer, before anything else can fail: a
                // killed or timed-out run then follows this same task.
                journal.set_created(row.id, &task, Status::Queued.name())?;
                return Ok(Submitted::Created(journal.get(row.id)?));
            }
            Err(SubmitError::RateLimited {
                provider,
                message,
                retry_after,
                ..
            }) => {
                if attempt >= timing.create_attempts {
                    let e = SubmitError::RateLimited {
                        provider,
                        message,
                        attempts: attempt,
                        retry_after,
                    };
                    journal.set_status(row.id, state::REJECTED, Some(&e.to_string()))?;
                    return Err(e);
                }
                let pause = retry_after.map_or(backoff, |r| r.max(backoff));
                notify(&format!(
                    "{provider} is busy ({message}); trying again in {:.1} s",
                    pause.as_secs_f64()
                ));
                std::thread::sleep(pause);
                backoff = (backoff * 2).min(timing.backoff_max);
            }
            Err(e) if e.maybe_created() => {
                let Some(ext) = row.external_task_id.clone() else {
                    let why = format!("got no clear answer ({e})");
                    journal.set_status(row.id, state::UNKNOWN, Some(&why))?;
                    return Err(SubmitError::Unknown {
                        provider: inputs.provider,
                        row: row.id,
                        why,
                    });
                };
                notify(&format!(
                    "{e}; the task may exist: looking it up by external_task_id {ext}"
                ));
                match client.query(&ext) {
                    Ok(task) => {
                        return Ok(Submitted::Recovered(record_found(journal, &row, &task)?))
                    }
                    Err(SubmitError::NotFound { .. }) if attempt < timing.create_attempts => {
                        // Not created: the same external_task_id makes a retry safe.
                        notify("no such task; sending the create again");
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(timing.backoff_max);
                    }
                    // The row stays `sending` with its external id: the next
                    // identical `submit` looks it up again before creating.
                    Err(_) => return Err(e),
                }
            }
            Err(e) => {
                journal.set_status(row.id, state::REJECTED, Some(&e.to_string()))?;
                return Err(e);
            }
        }
    }
}

/// Query the provider once and record what it says.
pub fn refresh(
    client: &Client,
    journal: &Journal,
    row: &TaskRecord,
) -> Result<TaskState, SubmitError> {
    let Some(handle) = row.handle() else {
        return Err(SubmitError::Unknown {
            provider: client.provider(),
            row: row.id,
            why: format!("has no task id (row status `{}`)", row.status),
        });
    };
    let task = client.query_task(&handle)?;
    if row.task_id.is_none() {
        record_found(journal, row, &task)?;
    } else {
        journal.set_status(row.id, task.status.name(), task.message.as_deref())?;
    }
    if let Some(url) = task.videos.first() {
        journal.set_result(row.id, Some(url), None)?;
    }
    Ok(task)
}

/// Poll until the task is finished, with growing intervals, up to `timing.wait_timeout`.
/// Transient errors (server, network, rate) are noted and polling goes on.
pub fn wait(
    client: &Client,
    journal: &Journal,
    row: &TaskRecord,
    timing: &Timing,
    notify: Notify<'_>,
) -> Result<TaskState, SubmitError> {
    let start = Instant::now();
    let mut intervals = timing.poll_intervals();
    let mut last = String::new();
    loop {
        let row = journal.get(row.id)?;
        match refresh(client, journal, &row) {
            Ok(task) => {
                let line = match task.progress {
                    Some(p) => format!("{}: {} ({p}%)", row.display_id(), task.provider_status),
                    None => format!("{}: {}", row.display_id(), task.provider_status),
                };
                if line != last {
                    notify(&format!(
                        "{line} after {:.0} s",
                        start.elapsed().as_secs_f64()
                    ));
                    last = line;
                }
                match task.status {
                    Status::Succeeded => return Ok(task),
                    Status::Failed => {
                        return Err(SubmitError::TaskFailed {
                            provider: client.provider(),
                            task: row.display_id(),
                            message: task.message.unwrap_or_else(|| "no reason given".into()),
                        })
                    }
                    _ => {}
                }
            }
            Err(
                e @ (SubmitError::Server { .. }
                | SubmitError::Transport { .. }
                | SubmitError::RateLimited { .. }
                | SubmitError::Protocol { .. }),
            ) => notify(&format!("{e}; still waiting")),
            Err(e) => return Err(e),
        }
        let waited = start.elapsed();
        if waited >= timing.wait_timeout {
            let row = journal.get(row.id)?;
            return Err(SubmitError::WaitTimeout {
                task: row.display_id(),
                status: row.status,
                waited,
            });
        }
        let interval = intervals.next().unwrap_or(timing.poll_max);
        std::thread::sleep(interval.min(timing.wait_timeout.saturating_sub(waited)));
    }
}

/// Asking again gives a fresh result link (not at Replicate, which deletes results).
fn results_refetchable(p: Provider) -> bool {
    provider::row(p).results_refetchable
}

fn file_name(provider: Provider, task: &str) -> String {
    let clean: String = task
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{clean}.mp4", provider.name())
}

/// Download the first result of a finished task into `out_dir` and probe it.
/// An expired link is re-queried once for a fresh one, where the provider
/// gives fresh links; where it deletes results (Replicate), the result is
/// said to be gone.
pub fn download(
    client: &Client,
    journal: &Journal,
    row: &TaskRecord,
    task: &TaskState,
    out_dir: &Path,
) -> Result<(PathBuf, MediaFacts), SubmitError> {
    let id = row.display_id();
    let url = task.videos.first().ok_or_else(|| SubmitError::Protocol {
        provider: client.provider(),
        message: format!("task {id} has no result link"),
    })?;
    let name = file_name(client.provider(), &id);
    let path = match client.download(url, &id, out_dir, &name) {
        Err(SubmitError::LinkExpired {
            provider,
            task,
            status,
            kept,
        }) if !results_refetchable(provider) => {
            return Err(SubmitError::ResultGone {
                provider,
                task,
                status,
                kept,
            })
        }
        Err(SubmitError::LinkExpired { .. }) => {
            let fresh = refresh(client, journal, row)?;
            match fresh.videos.first() {
                Some(u) if u != url => client.download(u, &id, out_dir, &name)?,
                _ => client.download(url, &id, out_dir, &name)?,
            }
        }
        other => other?,
    };
    let facts = preflight::probe(&path).map_err(|e| SubmitError::BadResult {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    journal.set_result(row.id, Some(url), Some(&path.display().to_string()))?;
    Ok((path, facts))
}
