//! The arguments of `submit`, `status` and `tasks`, and the help texts
//! that teach them.

use std::path::PathBuf;

use clap::Args;

const ENV_HELP: &str = "Keys (read from the environment only, never printed or stored):\n  \
    KLING_API_KEY, or KLING_ACCESS_KEY + KLING_SECRET_KEY (legacy JWT, renewed automatically)\n  \
    POWERTOKENS_API_KEY, NOVITA_API_KEY, HIGHWAY_API_KEY, AIHUBMAX_API_KEY\n  \
    FAL_KEY, REPLICATE_API_TOKEN, KIE_API_KEY, PIAPI_API_KEY, WAVESPEED_API_KEY\n\n\
    Other settings:\n  \
    PREFLIGHT_<PROVIDER>_BASE_URL\n      point a provider elsewhere (a proxy, a test server), e.g. PREFLIGHT_KLING_BASE_URL\n  \
    PREFLIGHT_<PROVIDER>_UPLOAD_URL\n      point a provider's upload API elsewhere, e.g. PREFLIGHT_FAL_UPLOAD_URL\n  \
    PREFLIGHT_UPLOAD, AWS_ENDPOINT_URL, AWS_REGION (us-east-1), AWS_ACCESS_KEY_ID,\n  \
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n      \
    the S3-compatible store for uploads (path-style addressing when an endpoint is given)\n  \
    PREFLIGHT_JOURNAL\n      journal file (default $XDG_DATA_HOME/preflight/journal.sqlite3,\n      \
    else ~/.local/share/preflight/journal.sqlite3)\n  \
    PREFLIGHT_POLL_MIN_MS, PREFLIGHT_POLL_MAX_MS, PREFLIGHT_BACKOFF_MIN_MS, PREFLIGHT_HTTP_TIMEOUT_MS\n      \
    polling, backoff and socket timeouts in milliseconds";

const SUBMIT_HELP: &str = "Examples:\n  \
    preflight submit --provider fal --image photo.heic --video clip.mov --wait --out results/\n  \
    preflight submit --image photo.heic --video clip.mov \\\n    \
    --upload s3://my-bucket/preflight --wait --out results/\n  \
    preflight submit -p novita --mode pro --image https://cdn.example.com/photo.jpg \\\n    \
    --video https://cdn.example.com/dance.mp4 --negative-prompt \"blur\" --keep-sound no\n  \
    preflight submit --batch pairs.csv --jobs 3 --upload s3://my-bucket/preflight \\\n    \
    --out results/ --report report.json\n\n\
    Local files are probed and checked against the provider first; one that needs anything \
    `preflight fix` would do (advisories included) is repaired with the same plan into the cache \
    (--cache), unless --no-fix (refuse) or --force (send as is). Videos, and images for aihubmax, \
    the marketplaces (fal, replicate, kie, piapi, wavespeed) or with --image-link, are uploaded \
    and sent as links: to an S3 bucket (--upload s3://BUCKET/PREFIX, presigned links valid \
    --link-ttl, 24h), with --upload-cmd, or through the provider's own file hosting (--upload \
    provider, the default for the marketplaces: their API key is all it takes). Other images go as \
    raw base64. Objects are named by the hash of their bytes, so nothing is uploaded twice.\n\n\
    Every step is written to the journal before the next one. The same inputs and settings \
    again return the existing task instead of paying twice (--again pays for a new one). A create \
    that times out or meets a server error is looked up (by external_task_id at kling/powertokens) \
    before anything is sent again; where the provider cannot be asked, the task is marked `unknown` \
    and never re-created blindly. A batch run again after a crash continues where it stopped.\n\n";

const EXIT_HELP: &str = "\n\nExit status: 0 done, 1 input not compliant or the provider refused \
    or failed the task, 2 usage error, missing key or unreadable input.";

#[derive(Args, Debug, Clone)]
pub struct ConnArgs {
    /// Send requests here instead of the provider's documented address
    /// (also PREFLIGHT_<PROVIDER>_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Journal file (SQLite).
    #[arg(long, value_name = "FILE", env = "PREFLIGHT_JOURNAL")]
    pub journal: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Follow the task until it finishes, then download the result.
    #[arg(long)]
    pub wait: bool,
    /// Folder for the result (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Give up waiting after this many seconds (the task goes on; resume with
    /// `preflight status TASK --wait`).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
}

#[derive(Args, Debug, Clone)]
pub struct UploadArgs {
    /// Upload local inputs to this S3-compatible bucket and prefix; the provider
    /// gets presigned links (credentials from AWS_* variables). `provider`:
    /// through the provider's own file hosting (fal, replicate, kie, piapi,
    /// wavespeed; what they get when nothing is given).
    #[arg(
        long,
        value_name = "s3://BUCKET/PREFIX|provider",
        env = "PREFLIGHT_UPLOAD"
    )]
    pub upload: Option<String>,
    /// Upload with this command instead: it gets the file's path and prints the
    /// link on its last line (checked before use).
    #[arg(long, value_name = "CMD")]
    pub upload_cmd: Option<String>,
    /// How long presigned links stay valid: seconds, or with s, m, h, d (at most 7d).
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub link_ttl: String,
    /// Upload the image and send its link even where base64 is accepted.
    #[arg(long)]
    pub image_link: bool,
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// Reference image: a local file (checked, repaired if needed) or a public URL.
    #[arg(long, value_name = "PATH|URL", required_unless_present = "batch")]
    pub image: Option<String>,
    /// Reference motion video: a local file (checked, repaired if needed,
    /// uploaded) or a public URL.
    #[arg(long, value_name = "PATH|URL", required_unless_present = "batch")]
    pub video: Option<String>,
    /// Many pairs: a CSV file with a header row (image, video, and optionally
    /// prompt, negative_prompt, orientation, mode, model, keep_sound, provider)
    /// or JSON Lines with the same keys. Paths are relative to the file's folder.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["image", "video"])]
    pub batch: Option<PathBuf>,
    /// kling, powertokens, novita, highway, aihubmax, fal, replicate, kie, piapi, wavespeed.
    #[arg(long, short = 'p', default_value = "kling", env = "PREFLIGHT_PROVIDER")]
    pub provider: String,
    /// kling-v3 or kling-v2-6 (not every provider sells both).
    #[arg(long, short = 'm', default_value = "kling-v3")]
    pub model: String,
    /// std (cheaper) or pro (better quality).
    #[arg(long, default_value = "std")]
    pub mode: String,
    /// character_orientation: follow the `image` (videos up to 10 s at Kling) or
    /// the `video` (up to 30 s).
    #[arg(long, short = 'o', default_value = "video")]
    pub orientation: String,
    /// Text prompt (at most 2500 characters).
    #[arg(long)]
    pub prompt: Option<String>,
    /// What to avoid (novita, highway and wavespeed only; at most 2500 characters).
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Keep the reference video's sound: yes or no (provider default: yes;
    /// kie has no such setting).
    #[arg(long, value_name = "yes|no")]
    pub keep_sound: Option<String>,
    #[command(flatten)]
    pub upload: UploadArgs,
    /// Refuse local inputs that need repair instead of repairing them.
    #[arg(long)]
    pub no_fix: bool,
    /// Send local inputs as they are, unchecked.
    #[arg(long, conflicts_with = "no_fix")]
    pub force: bool,
    /// Refuse (exit 1, nothing uploaded or created) when the content analysis
    /// has any finding: no person, a small one, two people, a hidden head,
    /// less than an upper body, a turned body; in the video a person lost,
    /// fast motion, a moving camera; an upper-body image with a full-body
    /// video. Needs the pose models (`bash scripts/setup.sh`); without the
    /// flag the findings are printed when the models are installed. Single
    /// pairs only (not --batch).
    #[arg(long, conflicts_with = "batch")]
    pub strict_content: bool,
    /// Folder for repaired copies (default $XDG_CACHE_HOME/preflight, else ~/.cache/preflight).
    #[arg(long, value_name = "DIR", env = "PREFLIGHT_CACHE")]
    pub cache: Option<PathBuf>,
    /// Create (and pay for) a new task even if the same one is in the journal.
    #[arg(long)]
    pub again: bool,
    /// Batch: tasks in flight at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Batch: write every pair's outcome to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Batch: take only the K-th of N parts of the list (as `fix --shard`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Task id, external task id, or journal row (`#3`), as `preflight tasks` shows.
    pub task: String,
    /// Provider, for a task that is not in the journal.
    #[arg(long, short = 'p')]
    pub provider: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug)]
pub struct TasksArgs {
    /// One JSON object per task per line.
    #[arg(long)]
    pub json: bool,
    /// Journal file (SQLite).
    #[arg(long, value_name = "FILE", env = "PREFLIGHT_JOURNAL")]
    pub journal: Option<PathBuf>,
}

/// `submit --help`'s closing text.
pub fn submit_after_help() -> String {
    format!("{SUBMIT_HELP}{ENV_HELP}{EXIT_HELP}")
}

/// `status --help`'s closing text.
pub fn env_after_help() -> String {
    format!("{ENV_HELP}{EXIT_HELP}")
}
