//! From local files (or links) to a created task: prepare each input, upload
//! what must go as a link, then submit once. Every step is in the journal
//! before the next one, so a repeated run repairs, uploads and creates nothing
//! that was done already.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use preflight::{FixOptions, Model, Orientation, Provider, Spec};

use crate::client::Client;
use crate::error::SubmitError;
use crate::flow::{self, Notify, Submitted, Timing};
use crate::hosted::{renew_margin, Hosted};
use crate::journal::{state, Journal, TaskRecord, UploadRecord};
use crate::link::{carries_secret, is_url, redact_link};
use crate::prepare::{prepare, Policy, PrepareOptions, Prepared};
use crate::provider::row;
use crate::task::{ImageInput, Inputs, Mode};
use crate::upload::{CommandStore, Link, S3Store};

/// Where local files go so that providers can fetch them.
#[derive(Debug)]
pub enum Store {
    S3(Box<S3Store>),
    Command(CommandStore),
    /// The provider's own file hosting (fal, Replicate, kie, PiAPI,
    /// WaveSpeed); also what these get when no store is given.
    Provider,
}

/// The store one pair's files go to.
enum Target<'a> {
    S3(&'a S3Store),
    Command(&'a CommandStore),
    Hosted(Hosted<'a>),
}

impl Target<'_> {
    /// How the journal names it.
    fn label(&self) -> String {
        match self {
            Target::S3(s) => s.label().to_string(),
            Target::Command(c) => format!("cmd:{}", c.command),
            Target::Hosted(h) => h.label(),
        }
    }
}

/// The store for this pair: the one given, else the provider's own.
fn target<'a>(
    settings: &'a Settings,
    client: &'a Client,
    path: &Prepared,
) -> Result<Target<'a>, SubmitError> {
    match &settings.store {
        Some(Store::S3(s)) => Ok(Target::S3(s)),
        Some(Store::Command(c)) => Ok(Target::Command(c)),
        explicit => match Hosted::of(client) {
            Some(h) => Ok(Target::Hosted(h)),
            None if explicit.is_some() => Err(SubmitError::Refused(format!(
                "{} hosts no uploads of its own (fal, replicate, kie, piapi and wavespeed do): \
                 give an S3 bucket or an upload command",
                client.provider()
            ))),
            None => Err(SubmitError::NeedsStore {
                path: path.input.display().to_string(),
            }),
        },
    }
}

/// An input as given: a link, sent as is, or a local file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Url(String),
    File(PathBuf),
}

impl Source {
    pub fn parse(text: &str) -> Source {
        if is_url(text) {
            Source::Url(text.trim().to_string())
        } else {
            Source::File(PathBuf::from(text))
        }
    }
}

/// One task to send: what a command line or a batch row asks for.
#[derive(Debug, Clone)]
pub struct Pair {
    pub image: Source,
    pub video: Source,
    pub provider: Provider,
    pub model: Model,
    pub mode: Mode,
    pub orientation: Orientation,
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub keep_sound: Option<bool>,
}

/// What stays the same for every pair of a run.
#[derive(Debug)]
pub struct Settings {
    pub store: Option<Store>,
    /// How long provider links stay valid.
    pub link_ttl: Duration,
    /// Upload the image too, even where base64 is accepted.
    pub image_link: bool,
    pub policy: Policy,
    pub fix: FixOptions,
    pub cache_dir: PathBuf,
    /// Create a new task even if the journal has one for the same inputs.
    pub again: bool,
    pub timing: Timing,
    /// One repair or upload of the same bytes at a time among a batch's workers.
    pub locks: KeyedLocks,
}

/// A lock per key, made on first use.
#[derive(Debug, Default)]
pub struct KeyedLocks(Mutex<HashMap<String, Arc<Mutex<()>>>>);

impl KeyedLocks {
    /// Run `f` while holding the lock for `key`.
    pub fn with<R>(&self, key: &str, f: impl FnOnce() -> R) -> R {
        let lock = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone();
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }
}

/// What happened to one pair.
#[derive(Debug, Clone)]
pub struct Sent {
    pub video: Option<Prepared>,
    pub image: Option<Prepared>,
    /// Objects sent to the store this time (not the ones found there).
    pub uploaded: usize,
    pub submitted: Submitted,
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Prepare, upload and submit one pair.
pub fn send(
    pair: &Pair,
    settings: &Settings,
    client: &Client,
    journal: &Journal,
    notify: Notify<'_>,
) -> Result<Sent, SubmitError> {
    let spec = Spec::lookup(pair.provider, pair.model, pair.orientation)
        .map_err(|e| SubmitError::Refused(e.to_string()))?;
    let options = PrepareOptions {
        spec,
        fix: settings.fix.clone(),
        cache_dir: settings.cache_dir.clone(),
        policy: settings.policy,
    };
    let video = prepared(&pair.video, &options, settings, journal, notify)?;
    let image = prepared(&pair.image, &options, settings, journal, notify)?;
    let image_as_link = settings.image_link || row(pair.provider).image_links_only;
    let mut uploaded = 0;
    let mut inputs = inputs_for(pair, video.as_ref(), image.as_ref(), image_as_link)?;
    // A task made earlier for the same bytes and settings needs no upload.
    if !settings.again {
        if let Some(row) = earlier_task(journal, &inputs)? {
            return Ok(Sent {
                video,
                image,
                uploaded: 0,
                submitted: Submitted::Existing(row),
            });
        }
    }
    let mut uploads: Vec<&Prepared> = video.iter().collect();
    if matches!(inputs.image, ImageInput::Link { .. }) {
        uploads.extend(image.iter());
    }
    // Every file fits its store before any is sent (and before any create).
    for p in &uploads {
        if let Target::Hosted(h) = target(settings, client, p)? {
            h.check_size(&p.path)?;
        }
    }
    let mut links = Vec::new();
    for p in uploads {
        let (link, sent) = settings.locks.with(&format!("upload:{}", p.sha256), || {
            ensure_link(p, settings, client, journal, notify)
        })?;
        links.push(link.url);
        uploaded += usize::from(sent);
    }
    let mut links = links.into_iter();
    if video.is_some() {
        inputs.video_url = links.next().unwrap_or_default();
    }
    if let ImageInput::Link { url, .. } = &mut inputs.image {
        *url = links.next().unwrap_or_default();
    }
    let submitted = flow::submit(
        client,
        journal,
        &inputs,
        settings.again,
        &settings.timing,
        notify,
    )?;
    Ok(Sent {
        video,
        image,
        uploaded,
        submitted,
    })
}

/// The journal's task for these inputs, unless there is none or it was
/// interrupted mid-create (then `flow::submit` looks it up, with fresh links).
fn earlier_task(journal: &Journal, inputs: &Inputs) -> Result<Option<TaskRecord>, SubmitError> {
    let Some(row) = journal.find_by_key(&inputs.key())? else {
        return Ok(None);
    };
    match row.status.as_str() {
        state::SENDING => Ok(None),
        state::UNKNOWN => Err(row.unknown(inputs.provider)),
        _ => Ok(Some(row)),
    }
}

/// The request's inputs; links to local files are filled in after upload.
/// Their identity (the task key) is the prepared bytes' hash already.
fn inputs_for(
    pair: &Pair,
    video: Option<&Prepared>,
    image: Option<&Prepared>,
    image_as_link: bool,
) -> Result<Inputs, SubmitError> {
    Ok(Inputs {
        provider: pair.provider,
        model: pair.model,
        mode: pair.mode,
        orientation: pair.orientation,
        image: match (&pair.image, image) {
            (Source::Url(u), _) => ImageInput::Url(u.clone()),
            (_, Some(p)) if image_as_link => ImageInput::Link {
                source: p.input.display().to_string(),
                url: String::new(),
                sha256: p.sha256.clone(),
            },
            (_, Some(p)) => {
                let bytes = std::fs::read(&p.path)
                    .map_err(|e| SubmitError::io(format!("reading {}", p.path.display()), e))?;
                ImageInput::from_bytes(p.input.display().to_string(), &bytes)
            }
            (Source::File(f), None) => {
                return Err(SubmitError::Refused(format!(
                    "{} was not prepared",
                    f.display()
                )))
            }
        },
        video_url: match &pair.video {
            Source::Url(u) => u.clone(),
            Source::File(_) => String::new(),
        },
        video_sha256: video.map(|p| p.sha256.clone()),
        prompt: pair.prompt.clone(),
        negative_prompt: pair.negative_prompt.clone(),
        keep_sound: pair.keep_sound,
    })
}

fn prepared(
    source: &Source,
    options: &PrepareOptions,
    settings: &Settings,
    journal: &Journal,
    notify: Notify<'_>,
) -> Result<Option<Prepared>, SubmitError> {
    let Source::File(path) = source else {
        return Ok(None);
    };
    let lock = format!("prepare:{}", path.display());
    let p = settings
        .locks
        .with(&lock, || prepare(path, options, journal))?;
    if !matches!(p.action.as_str(), "copied" | "as is") {
        notify(&format!(
            "{}: {} for {} into {}{}",
            path.display(),
            p.action,
            options.spec.provider,
            p.path.display(),
            if p.cached { " (done earlier)" } else { "" }
        ));
    }
    Ok(Some(p))
}

/// A valid link to the prepared file: reused from the journal, signed again
/// when it expires soon, uploaded only when the store does not have it.
/// Returns the link and whether bytes were sent.
fn ensure_link(
    p: &Prepared,
    settings: &Settings,
    client: &Client,
    journal: &Journal,
    notify: Notify<'_>,
) -> Result<(Link, bool), SubmitError> {
    let target = target(settings, client, p)?;
    let label = target.label();
    let previous = journal.upload(&p.sha256, &label)?;
    let now = now_s();
    let fresh = previous.as_ref().is_some_and(|r| {
        let life = Duration::from_secs(if r.ttl_s > 0 {
            r.ttl_s as u64
        } else {
            settings.link_ttl.as_secs()
        });
        r.expires_at.is_none_or(|e| e > now + renew_margin(life))
    });
    let previous = Previous {
        fresh,
        record: previous,
    };
    let upload = Upload {
        p,
        label,
        now,
        journal,
    };
    match target {
        Target::S3(s3) => upload.s3(s3, previous, settings.link_ttl, notify),
        Target::Command(cmd) => upload.command(cmd, previous, notify),
        Target::Hosted(h) => upload.hosted(&h, previous, notify),
    }
}

/// What the journal knows of an earlier upload of the same bytes.
struct Previous {
    record: Option<UploadRecord>,
    /// Its link lives long enough to be used again.
    fresh: bool,
}

/// One file on its way to a store.
struct Upload<'a> {
    p: &'a Prepared,
    label: String,
    now: i64,
    journal: &'a Journal,
}

impl Upload<'_> {
    fn s3(
        self,
        s3: &S3Store,
        previous: Previous,
        ttl: Duration,
        notify: Notify<'_>,
    ) -> Result<(Link, bool), SubmitError> {
        let p = self.p;
        if let Some(r) = previous.record.as_ref().filter(|_| previous.fresh) {
            let ttl = Duration::from_secs(r.ttl_s as u64);
            return Ok((s3.link(&r.key, r.signed_at, ttl), false));
        }
        let ext = p.path.extension().and_then(|e| e.to_str()).unwrap_or("bin");
        let key = s3.key_for(&p.sha256, ext);
        let label = &self.label;
        let sent = if s3.exists(&key)? {
            notify(&format!(
                "{}: already in {label} as {key}",
                p.path.display()
            ));
            false
        } else {
            let bytes = s3.put(&key, &p.path)?;
            notify(&format!(
                "{}: uploaded {bytes} bytes to {label} as {key}",
                p.path.display()
            ));
            true
        };
        if previous.record.is_some() {
            notify(&format!("the link to {key} expires soon: signed again"));
        }
        let link = s3.link(&key, self.now, ttl);
        self.journal.record_upload(&UploadRecord {
            sha256: p.sha256.clone(),
            store: self.label.clone(),
            key,
            signed_at: self.now,
            ttl_s: ttl.as_secs() as i64,
            expires_at: link.expires_at,
            link: None,
        })?;
        Ok((link, sent))
    }

    /// Through the provider's own hosting; its link is kept for reuse when
    /// it carries no secret.
    fn hosted(
        self,
        h: &Hosted<'_>,
        previous: Previous,
        notify: Notify<'_>,
    ) -> Result<(Link, bool), SubmitError> {
        let p = self.p;
        if let Some(r) = previous.record.filter(|_| previous.fresh) {
            if let Some(url) = r.link {
                let expires_at = r.expires_at;
                return Ok((Link { url, expires_at }, false));
            }
        }
        let object = h.upload(&p.path, &p.sha256)?;
        notify(&format!(
            "{}: uploaded {} bytes to {} as {}",
            p.path.display(),
            object.bytes,
            h.provider(),
            object.name
        ));
        let link = object.link;
        self.journal.record_upload(&UploadRecord {
            sha256: p.sha256.clone(),
            store: self.label,
            key: object.name,
            signed_at: self.now,
            ttl_s: link.expires_at.map_or(0, |e| (e - self.now).max(0)),
            expires_at: link.expires_at,
            link: (!carries_secret(&link.url)).then(|| link.url.clone()),
        })?;
        Ok((link, true))
    }

    fn command(
        self,
        cmd: &CommandStore,
        previous: Previous,
        notify: Notify<'_>,
    ) -> Result<(Link, bool), SubmitError> {
        let p = self.p;
        if let Some(r) = previous.record.filter(|_| previous.fresh) {
            if let Some(url) = r.link {
                let expires_at = r.expires_at;
                return Ok((Link { url, expires_at }, false));
            }
        }
        let link = cmd.upload(&p.path, &p.sha256)?;
        notify(&format!(
            "{}: uploaded with `{}` to {}",
            p.path.display(),
            cmd.command,
            redact_link(&link.url)
        ));
        // A link carrying a signature is a credential: not kept.
        let keep = !carries_secret(&link.url);
        self.journal.record_upload(&UploadRecord {
            sha256: p.sha256.clone(),
            store: self.label,
            key: p.path.display().to_string(),
            signed_at: self.now,
            ttl_s: 0,
            expires_at: link.expires_at,
            link: keep.then(|| link.url.clone()),
        })?;
        Ok((link, true))
    }
}
