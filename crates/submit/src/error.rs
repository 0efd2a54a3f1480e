//! Typed errors. Each message says what happened and what to do about it.

use std::time::Duration;

use preflight::Provider;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The inputs or settings cannot be sent as they are; nothing was sent.
    #[error("{0}")]
    Refused(String),

    #[error("no API key for {provider}: set {hint}")]
    MissingKey { provider: Provider, hint: String },

    #[error("{provider} refused the key ({message}); check the key in {env}, and that it belongs to this provider")]
    Auth {
        provider: Provider,
        message: String,
        env: String,
    },

    #[error("{provider}: not enough balance or quota ({message}); top up the account or buy a resource pack, then submit again")]
    Balance { provider: Provider, message: String },

    #[error("{provider}: this account has no access to the model ({message}); enable it in the provider's console or pick another model")]
    NoModelAccess { provider: Provider, message: String },

    #[error("{provider} rejected a parameter: {message}")]
    InvalidParameter { provider: Provider, message: String },

    #[error("{provider} does not know task {task}; check the task id against the journal")]
    NotFound { provider: Provider, task: String },

    #[error("{provider} refused the content ({message}); the image, the video or the prompt breaks its content policy: change it before paying for another task")]
    ContentPolicy { provider: Provider, message: String },

    #[error("{provider}: too many requests or tasks at once ({message}); gave up after {attempts} attempt(s): wait for running tasks to finish and try again")]
    RateLimited {
        provider: Provider,
        message: String,
        attempts: u32,
        /// What the server asked for last, if anything.
        retry_after: Option<Duration>,
    },

    #[error("{provider} only accepts calls from allowed IP addresses ({message}); add this machine's address to the allow-list")]
    IpNotAllowed { provider: Provider, message: String },

    #[error("{provider} server error (HTTP {status}: {message}); try again later")]
    Server {
        provider: Provider,
        status: u16,
        message: String,
    },

    #[error("could not reach {provider}: {message}")]
    Transport {
        provider: Provider,
        message: String,
        /// The request may have been (partly) sent: a read timeout, a reset.
        maybe_sent: bool,
    },

    /// A create may or may not have reached the provider, and the provider
    /// offers no way to find out. Never retried automatically.
    #[error("the create request to {provider} {why}; the task may or may not exist (journal row {row}). Check the provider's dashboard; \
             if no task is there, submit again asking explicitly for a new (paid) task")]
    Unknown {
        provider: Provider,
        row: i64,
        why: String,
    },

    #[error("{provider} answered something unexpected: {message}")]
    Protocol { provider: Provider, message: String },

    #[error("task {task} failed at {provider}: {message}")]
    TaskFailed {
        provider: Provider,
        task: String,
        message: String,
    },

    #[error(
        "task {task} still {status} after {waited:?}; it goes on at the provider: follow it again later"
    )]
    WaitTimeout {
        task: String,
        status: String,
        waited: Duration,
    },

    #[error("the result link of task {task} has expired (HTTP {status}; {provider} keeps results {kept}); query the task again for a fresh link")]
    LinkExpired {
        provider: Provider,
        task: String,
        status: u16,
        kept: &'static str,
    },

    /// The result was deleted and asking again gives no new link (Replicate).
    #[error("the result of task {task} is gone (HTTP {status}): {provider} keeps results {kept}, and it was not downloaded in time. \
             It cannot be fetched again; only a new (paid) task gives a new result")]
    ResultGone {
        provider: Provider,
        task: String,
        status: u16,
        kept: &'static str,
    },

    #[error("downloaded {path} but it is not a readable video: {message}")]
    BadResult { path: String, message: String },

    #[error("the store {store} refused the credentials (HTTP {status}: {message}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), and that they may read and write the bucket. No task was created")]
    StoreRefused {
        store: String,
        status: u16,
        message: String,
    },

    #[error("could not reach the store {store} ({message}); check AWS_ENDPOINT_URL and AWS_REGION and the network. No task was created")]
    StoreUnreachable { store: String, message: String },

    #[error("the store {store} failed {what} (HTTP {status}: {message}). No task was created")]
    StoreFailed {
        store: String,
        what: String,
        status: u16,
        message: String,
    },

    #[error("the upload command `{command}` failed: {message}. No task was created")]
    UploadCommand { command: String, message: String },

    #[error("the link {link} does not serve the uploaded file: {message}. No task was created; make the upload command print a link anyone can fetch")]
    LinkCheck { link: String, message: String },

    #[error("{path} must reach the provider as a link, and no upload store is set: give an S3 bucket or an upload command")]
    NeedsStore { path: String },

    #[error("{path} is {bytes} bytes, more than {provider}'s own upload takes ({limit} bytes: {note}). \
             No task was created: send this file through an S3 bucket or an upload command instead")]
    UploadTooLarge {
        provider: Provider,
        path: String,
        bytes: u64,
        limit: u64,
        note: &'static str,
    },

    #[error("could not reach {provider}'s upload API at {url} ({message}). No task was created")]
    UploadUnreachable {
        provider: Provider,
        url: String,
        message: String,
    },

    #[error(
        "{provider}'s upload API failed {what} (HTTP {status}: {message}). No task was created"
    )]
    UploadFailed {
        provider: Provider,
        what: String,
        status: u16,
        message: String,
    },

    #[error("{path} is not fit for {provider} as it is ({problems}); nothing was sent")]
    NeedsRepair {
        path: String,
        provider: Provider,
        problems: String,
    },

    #[error("cannot repair {path}: {message}")]
    Repair { path: String, message: String },

    #[error("journal {path}: {message}")]
    Journal { path: String, message: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl SubmitError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> SubmitError {
        SubmitError::Io {
            context: context.into(),
            source,
        }
    }

    /// The store failed or refused: every other upload would fail the same way.
    pub fn is_store_failure(&self) -> bool {
        matches!(
            self,
            SubmitError::StoreRefused { .. }
                | SubmitError::StoreUnreachable { .. }
                | SubmitError::UploadCommand { .. }
        )
    }

    /// The request may have reached the provider and created a task.
    pub fn maybe_created(&self) -> bool {
        matches!(
            self,
            SubmitError::Server { .. }
                | SubmitError::Transport {
                    maybe_sent: true,
                    ..
                }
        )
    }
}

impl From<rusqlite::Error> for SubmitError {
    fn from(e: rusqlite::Error) -> Self {
        SubmitError::Journal {
            path: String::new(),
            message: e.to_string(),
        }
    }
}
