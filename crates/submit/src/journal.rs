//! The journal: every submission, recorded before it is sent, in SQLite.
//! It never holds a key: requests are stored without headers and with the image
//! base64 replaced by its length and hash.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::SubmitError;
use crate::link::{carries_secret, redact_link};
use crate::task::{Inputs, TaskHandle};

/// Row states besides the provider's own (queued, processing, succeeded, failed).
pub mod state {
    /// Written before the create is sent; no answer recorded yet.
    pub const SENDING: &str = "sending";
    /// The create may or may not have made a task, and there is no way to ask.
    pub const UNKNOWN: &str = "unknown";
    /// The provider refused the create: no task, nothing paid.
    pub const REJECTED: &str = "rejected";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    pub id: i64,
    pub key: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: String,
    pub model: String,
    pub mode: String,
    pub orientation: String,
    pub image_sha256: String,
    pub image_source: String,
    pub video_url: String,
    pub external_task_id: Option<String>,
    pub task_id: Option<String>,
    pub status: String,
    pub message: Option<String>,
    /// The create body, without secrets or base64.
    pub request: String,
    pub base_url: String,
    pub result_url: Option<String>,
    pub result_path: Option<String>,
    /// Where the create answer said to ask for the task's status (fal).
    pub status_url: Option<String>,
    /// Where the create answer said to ask for the task's result (fal).
    pub response_url: Option<String>,
}

impl TaskRecord {
    /// The error for a row whose create got no clear answer (status `unknown`).
    pub fn unknown(&self, provider: preflight::Provider) -> SubmitError {
        SubmitError::Unknown {
            provider,
            row: self.id,
            why: self
                .message
                .clone()
                .unwrap_or_else(|| "got no clear answer earlier".into()),
        }
    }

    /// How to ask the provider about this row's task: its id (the provider's,
    /// else the external one) and the addresses the create answer gave.
    pub fn handle(&self) -> Option<TaskHandle> {
        let id = self
            .task_id
            .clone()
            .or_else(|| self.external_task_id.clone())?;
        Some(TaskHandle {
            id,
            status_url: self.status_url.clone(),
            response_url: self.response_url.clone(),
        })
    }

    /// The id to show and to query with: the provider's, else the external one.
    pub fn display_id(&self) -> String {
        self.task_id
            .clone()
            .or_else(|| self.external_task_id.clone())
            .unwrap_or_else(|| format!("#{}", self.id))
    }
}

/// An input's repaired (or as-is) copy, keyed by its hash and the settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreparedRecord {
    pub input_sha256: String,
    pub settings: String,
    pub input_path: String,
    pub output_path: String,
    pub output_sha256: String,
    /// `copied`, `remuxed`, `reencoded`…
    pub action: String,
}

/// An uploaded object. A presigned link is not kept (it is a credential):
/// signing again at `signed_at` gives the same link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadRecord {
    pub sha256: String,
    /// `s3://bucket/prefix` or `cmd:COMMAND`.
    pub store: String,
    /// The object key (S3), or the file that was uploaded (command).
    pub key: String,
    /// Unix seconds.
    pub signed_at: i64,
    pub ttl_s: i64,
    /// Unix seconds; `None` when the store does not say.
    pub expires_at: Option<i64>,
    /// A command's link, kept only when it carries no signature or token.
    pub link: Option<String>,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.path.display())
    }
}

const COLUMNS: &str = "id, key, created_at, updated_at, provider, model, mode, orientation, \
    image_sha256, image_source, video_url, external_task_id, task_id, status, message, \
    request, base_url, result_url, result_path, status_url, response_url";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as i64
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<TaskRecord> {
    Ok(TaskRecord {
        id: r.get(0)?,
        key: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        provider: r.get(4)?,
        model: r.get(5)?,
        mode: r.get(6)?,
        orientation: r.get(7)?,
        image_sha256: r.get(8)?,
        image_source: r.get(9)?,
        video_url: r.get(10)?,
        external_task_id: r.get(11)?,
        task_id: r.get(12)?,
        status: r.get(13)?,
        message: r.get(14)?,
        request: r.get(15)?,
        base_url: r.get(16)?,
        result_url: r.get(17)?,
        result_path: r.get(18)?,
        status_url: r.get(19)?,
        response_url: r.get(20)?,
    })
}

/// Journals written by an earlier version lack the newer columns.
fn add_missing_columns(conn: &Connection, table: &str, columns: &[&str]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let have: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<_, _>>()?;
    for column in columns {
        if !have.iter().any(|h| h == column) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} TEXT"))?;
        }
    }
    Ok(())
}

/// `$XDG_DATA_HOME/preflight/journal.sqlite3`, else `~/.local/share/preflight/journal.sqlite3`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        })?;
    Some(base.join("preflight").join("journal.sqlite3"))
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal, SubmitError> {
        let err = |e: &dyn std::fmt::Display| SubmitError::Journal {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        let conn = Connection::open(path).map_err(|e| err(&e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| err(&e))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                mode TEXT NOT NULL,
                orientation TEXT NOT NULL,
                image_sha256 TEXT NOT NULL,
                image_source TEXT NOT NULL,
                video_url TEXT NOT NULL,
                external_task_id TEXT,
                task_id TEXT,
                status TEXT NOT NULL,
                message TEXT,
                request TEXT NOT NULL,
                base_url TEXT NOT NULL,
                result_url TEXT,
                result_path TEXT,
                status_url TEXT,
                response_url TEXT
            );
            CREATE INDEX IF NOT EXISTS tasks_key ON tasks(key);
            CREATE TABLE IF NOT EXISTS prepared (
                input_sha256 TEXT NOT NULL,
                settings TEXT NOT NULL,
                input_path TEXT NOT NULL,
                output_path TEXT NOT NULL,
                output_sha256 TEXT NOT NULL,
                action TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (input_sha256, settings)
            );
            CREATE TABLE IF NOT EXISTS uploads (
                sha256 TEXT NOT NULL,
                store TEXT NOT NULL,
                object_key TEXT NOT NULL,
                signed_at INTEGER NOT NULL,
                ttl_s INTEGER NOT NULL,
                expires_at INTEGER,
                link TEXT,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (sha256, store)
            );
            CREATE INDEX IF NOT EXISTS tasks_task_id ON tasks(task_id);",
        )
        .map_err(|e| err(&e))?;
        add_missing_columns(&conn, "tasks", &["status_url", "response_url"])
            .map_err(|e| err(&e))?;
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn wrap(&self, e: rusqlite::Error) -> SubmitError {
        SubmitError::Journal {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// The latest row for these inputs that may stand for a task (not `rejected`).
    pub fn find_by_key(&self, key: &str) -> Result<Option<TaskRecord>, SubmitError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM tasks WHERE key = ?1 AND status != ?2 \
                     ORDER BY id DESC LIMIT 1"
                ),
                params![key, state::REJECTED],
                from_row,
            )
            .optional()
            .map_err(|e| self.wrap(e))
    }

    /// A row by provider task id, external task id, or journal row number.
    pub fn find(&self, task: &str) -> Result<Option<TaskRecord>, SubmitError> {
        let row_id: i64 = task.trim_start_matches('#').parse().unwrap_or(-1);
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM tasks WHERE task_id = ?1 OR external_task_id = ?1 \
                     OR id = ?2 ORDER BY (task_id = ?1) DESC, id DESC LIMIT 1"
                ),
                params![task, row_id],
                from_row,
            )
            .optional()
            .map_err(|e| self.wrap(e))
    }

    pub fn get(&self, id: i64) -> Result<TaskRecord, SubmitError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"),
                params![id],
                from_row,
            )
            .map_err(|e| self.wrap(e))
    }

    /// Every row, newest first.
    pub fn list(&self) -> Result<Vec<TaskRecord>, SubmitError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM tasks ORDER BY id DESC"))
            .map_err(|e| self.wrap(e))?;
        let rows = stmt
            .query_map([], from_row)
            .map_err(|e| self.wrap(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.wrap(e));
        rows
    }

    /// Record a submission before it is sent (status `sending`).
    pub fn begin(
        &self,
        inputs: &Inputs,
        external_task_id: Option<&str>,
        base_url: &str,
    ) -> Result<TaskRecord, SubmitError> {
        let now = now_ms();
        let request = inputs.redacted_body(external_task_id).to_string();
        self.conn
            .execute(
                "INSERT INTO tasks (key, created_at, updated_at, provider, model, mode, orientation, \
                 image_sha256, image_source, video_url, external_task_id, status, request, base_url) \
                 VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    inputs.key(),
                    now,
                    inputs.provider.name(),
                    inputs.model.name(),
                    inputs.mode.name(),
                    inputs.orientation.name(),
                    inputs.image.sha256(),
                    inputs.image.source(),
                    redact_link(&inputs.video_url),
                    external_task_id,
                    state::SENDING,
                    request,
                    base_url,
                ],
            )
            .map_err(|e| self.wrap(e))?;
        self.get(self.conn.last_insert_rowid())
    }

    /// The repaired (or as-is) copy of an input, by its hash and the settings.
    pub fn prepared(
        &self,
        input_sha256: &str,
        settings: &str,
    ) -> Result<Option<PreparedRecord>, SubmitError> {
        self.conn
            .query_row(
                "SELECT input_sha256, settings, input_path, output_path, output_sha256, action \
                 FROM prepared WHERE input_sha256 = ?1 AND settings = ?2",
                params![input_sha256, settings],
                |r| {
                    Ok(PreparedRecord {
                        input_sha256: r.get(0)?,
                        settings: r.get(1)?,
                        input_path: r.get(2)?,
                        output_path: r.get(3)?,
                        output_sha256: r.get(4)?,
                        action: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.wrap(e))
    }

    pub fn record_prepared(&self, p: &PreparedRecord) -> Result<(), SubmitError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO prepared (input_sha256, settings, input_path, output_path, \
                 output_sha256, action, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.input_sha256,
                    p.settings,
                    p.input_path,
                    p.output_path,
                    p.output_sha256,
                    p.action,
                    now_ms()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }

    /// What was uploaded for content with this hash to this store.
    pub fn upload(&self, sha256: &str, store: &str) -> Result<Option<UploadRecord>, SubmitError> {
        self.conn
            .query_row(
                "SELECT sha256, store, object_key, signed_at, ttl_s, expires_at, link \
                 FROM uploads WHERE sha256 = ?1 AND store = ?2",
                params![sha256, store],
                |r| {
                    Ok(UploadRecord {
                        sha256: r.get(0)?,
                        store: r.get(1)?,
                        key: r.get(2)?,
                        signed_at: r.get(3)?,
                        ttl_s: r.get(4)?,
                        expires_at: r.get(5)?,
                        link: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.wrap(e))
    }

    pub fn record_upload(&self, u: &UploadRecord) -> Result<(), SubmitError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO uploads (sha256, store, object_key, signed_at, ttl_s, \
                 expires_at, link, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    u.sha256,
                    u.store,
                    u.key,
                    u.signed_at,
                    u.ttl_s,
                    u.expires_at,
                    u.link,
                    now_ms()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }

    pub fn set_task(&self, id: i64, task_id: &str, status: &str) -> Result<(), SubmitError> {
        self.conn
            .execute(
                "UPDATE tasks SET task_id = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, task_id, status, now_ms()],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }

    /// The create's answer: the task id and, when they carry no secret, the
    /// addresses it gave for the task.
    pub fn set_created(&self, id: i64, task: &TaskHandle, status: &str) -> Result<(), SubmitError> {
        let keep = |u: &Option<String>| u.clone().filter(|u| !carries_secret(u));
        self.conn
            .execute(
                "UPDATE tasks SET task_id = ?2, status = ?3, status_url = ?4, response_url = ?5, \
                 updated_at = ?6 WHERE id = ?1",
                params![
                    id,
                    task.id,
                    status,
                    keep(&task.status_url),
                    keep(&task.response_url),
                    now_ms()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }

    pub fn set_status(
        &self,
        id: i64,
        status: &str,
        message: Option<&str>,
    ) -> Result<(), SubmitError> {
        self.conn
            .execute(
                "UPDATE tasks SET status = ?2, message = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, status, message, now_ms()],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }

    pub fn set_result(
        &self,
        id: i64,
        url: Option<&str>,
        path: Option<&str>,
    ) -> Result<(), SubmitError> {
        self.conn
            .execute(
                "UPDATE tasks SET result_url = COALESCE(?2, result_url), \
                 result_path = COALESCE(?3, result_path), updated_at = ?4 WHERE id = ?1",
                params![id, url, path, now_ms()],
            )
            .map(|_| ())
            .map_err(|e| self.wrap(e))
    }
}
