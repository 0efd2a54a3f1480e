//! `preflight submit`, `preflight status`, `preflight tasks`: send compliant inputs
//! to a provider, follow the task, bring the result home, and keep a journal so
//! that nothing is paid for twice.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use preflight::{FixOptions, MediaFacts, Provider, Spec};
use submit::journal::{self, Journal, TaskRecord};
use submit::pipeline;
use submit::prepare;
use submit::provider::base_url_env;
use submit::upload::{self, CommandStore, S3Config, S3Store};
use submit::{
    Client, Credentials, Pair, Policy, Settings, Source, Store, SubmitError, Submitted, Timing,
};

use crate::exit;

mod batch;

const ENV_HELP: &str = "Keys (read from the environment only, never printed or stored):\n  \
    KLING_API_KEY, or KLING_ACCESS_KEY + KLING_SECRET_KEY (legacy JWT, renewed automatically)\n  \
    POWERTOKENS_API_KEY, NOVITA_API_KEY, HIGHWAY_API_KEY, AIHUBMAX_API_KEY\n\n\
    Other settings:\n  \
    PREFLIGHT_<PROVIDER>_BASE_URL\n      point a provider elsewhere (a proxy, a test server), e.g. PREFLIGHT_KLING_BASE_URL\n  \
    PREFLIGHT_UPLOAD, AWS_ENDPOINT_URL, AWS_REGION (us-east-1), AWS_ACCESS_KEY_ID,\n  \
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n      \
    the S3-compatible store for uploads (path-style addressing when an endpoint is given)\n  \
    PREFLIGHT_JOURNAL\n      journal file (default $XDG_DATA_HOME/preflight/journal.sqlite3,\n      \
    else ~/.local/share/preflight/journal.sqlite3)\n  \
    PREFLIGHT_POLL_MIN_MS, PREFLIGHT_POLL_MAX_MS, PREFLIGHT_BACKOFF_MIN_MS, PREFLIGHT_HTTP_TIMEOUT_MS\n      \
    polling, backoff and socket timeouts in milliseconds";

pub const SUBMIT_HELP: &str = "Examples:\n  \
    preflight submit --image photo.heic --video clip.mov \\\n    \
    --upload s3://my-bucket/preflight --wait --out results/\n  \
    preflight submit -p novita --mode pro --image https://cdn.example.com/photo.jpg \\\n    \
    --video https://cdn.example.com/dance.mp4 --negative-prompt \"blur\" --keep-sound no\n  \
    preflight submit --batch pairs.csv --jobs 3 --upload s3://my-bucket/preflight \\\n    \
    --out results/ --report report.json\n\n\
    Local files are probed and checked against the provider first; one that needs anything \
    `preflight fix` would do (advisories included) is repaired with the same plan into the cache \
    (--cache), unless --no-fix (refuse) or --force (send as is). Videos, and images for aihubmax \
    or with --image-link, are uploaded (--upload s3://BUCKET/PREFIX, or --upload-cmd) and sent as \
    presigned links valid --link-ttl (24h); other images go as raw base64. Objects are named by \
    the hash of their bytes, so nothing is uploaded twice.\n\n\
    Every step is written to the journal before the next one. The same inputs and settings \
    again return the existing task instead of paying twice (--again pays for a new one). A create \
    that times out or meets a server error is looked up (by external_task_id at kling/powertokens) \
    before anything is sent again; where the provider cannot be asked, the task is marked `unknown` \
    and never re-created blindly. A batch run again after a crash continues where it stopped.\n\n";

pub const EXIT_HELP: &str =
    "\n\nExit status: 0 done, 1 input not compliant or the provider refused \
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
    /// gets presigned links (credentials from AWS_* variables).
    #[arg(long, value_name = "s3://BUCKET/PREFIX", env = "PREFLIGHT_UPLOAD")]
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
    /// kling, powertokens, novita, highway, aihubmax.
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
    /// What to avoid (novita and highway only; at most 2500 characters).
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Keep the reference video's sound: yes or no (provider default: yes).
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

fn note(line: &str) {
    eprintln!("preflight: {line}");
}

fn journal_path(path: &Option<PathBuf>) -> Result<PathBuf> {
    match path {
        Some(p) => Ok(p.clone()),
        None => journal::default_path().ok_or_else(|| {
            anyhow!("no journal location: set --journal, PREFLIGHT_JOURNAL or HOME")
        }),
    }
}

fn open_journal(path: &Option<PathBuf>) -> Result<Journal> {
    Ok(Journal::open(&journal_path(path)?)?)
}

/// `--base-url`, else `PREFLIGHT_<PROVIDER>_BASE_URL`, else the documented address.
fn base_url_for(provider: Provider, flag: Option<String>) -> Option<String> {
    flag.or_else(|| {
        std::env::var(base_url_env(provider))
            .ok()
            .filter(|s| !s.trim().is_empty())
    })
}

/// A client for `provider`, or the exit status after saying why not (no key).
fn connect(
    provider: Provider,
    base: Option<String>,
    timing: &Timing,
) -> std::result::Result<Client, i32> {
    let creds = match Credentials::from_env(provider) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("preflight: {e}");
            return Err(code_for(&e));
        }
    };
    Ok(Client::new(
        provider,
        base_url_for(provider, base),
        creds,
        timing.http,
    ))
}

/// Exit status for a library error.
fn code_for(e: &SubmitError) -> i32 {
    match e {
        SubmitError::Refused(_)
        | SubmitError::MissingKey { .. }
        | SubmitError::Journal { .. }
        | SubmitError::NeedsStore { .. }
        | SubmitError::StoreRefused { .. }
        | SubmitError::StoreUnreachable { .. }
        | SubmitError::UploadCommand { .. }
        | SubmitError::LinkCheck { .. } => exit::USAGE,
        _ => exit::NOT_COMPLIANT,
    }
}

/// What to type next, for errors whose library message cannot name our flags.
fn cli_hint(e: &SubmitError) -> Option<String> {
    Some(match e {
        SubmitError::Unknown { .. } => {
            "if the provider has no such task, run the same command with --again".into()
        }
        SubmitError::WaitTimeout { task, .. } => {
            format!("resume with `preflight status {task} --wait`")
        }
        SubmitError::LinkExpired { task, .. } => {
            format!("get a fresh link with `preflight status {task}`")
        }
        SubmitError::NotFound { .. } => "`preflight tasks` lists the tasks in the journal".into(),
        SubmitError::NoModelAccess { .. } => "another model: --model".into(),
        SubmitError::NeedsStore { .. } => {
            "give --upload s3://BUCKET/PREFIX (or PREFLIGHT_UPLOAD) or --upload-cmd CMD, or pass a public URL".into()
        }
        SubmitError::NeedsRepair { path, provider, .. } => format!(
            "drop --no-fix to repair it into the cache, or repair it yourself with `preflight fix --provider {provider} {path}`"
        ),
        _ => return None,
    })
}

fn fail(e: SubmitError) -> Result<i32> {
    eprintln!("preflight: {e}");
    if let Some(hint) = cli_hint(&e) {
        eprintln!("preflight: {hint}");
    }
    Ok(code_for(&e))
}

fn describe(facts: &MediaFacts) -> String {
    match facts {
        MediaFacts::Video(v) => format!(
            "{}x{}, {:.1} s, {}",
            v.width,
            v.height,
            v.duration_us as f64 / 1e6,
            v.codec
        ),
        MediaFacts::Image(i) => format!("an image, {}x{}", i.width, i.height),
    }
}

/// Wait (if asked) and download (if finished and asked).
fn follow(
    client: &Client,
    journal: &Journal,
    row: &TaskRecord,
    wait: &WaitArgs,
    download_default: bool,
) -> Result<i32> {
    let mut timing = Timing::from_env();
    timing.wait_timeout = Duration::from_secs(wait.timeout);
    let task = if wait.wait {
        match submit::wait(client, journal, row, &timing, &mut |l: &str| note(l)) {
            Ok(t) => t,
            Err(e) => return fail(e),
        }
    } else {
        match submit::refresh(client, journal, row) {
            Ok(t) => t,
            Err(e) => return fail(e),
        }
    };
    let out = io::stdout();
    let mut out = out.lock();
    writeln!(
        out,
        "{} {}: {}{}",
        client.provider(),
        row.display_id(),
        task.status.name(),
        task.message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    )?;
    if task.status == submit::Status::Failed {
        return Ok(exit::NOT_COMPLIANT);
    }
    if task.status != submit::Status::Succeeded {
        writeln!(
            out,
            "not finished; follow it with `preflight status {} --wait`",
            row.display_id()
        )?;
        return Ok(exit::OK);
    }
    if wait.out.is_none() && !download_default {
        for v in &task.videos {
            writeln!(out, "result: {v}")?;
        }
        return Ok(exit::OK);
    }
    let dir = wait.out.clone().unwrap_or_else(|| PathBuf::from("."));
    match submit::download(client, journal, row, &task, &dir) {
        Ok((path, facts)) => {
            writeln!(out, "saved {} ({})", path.display(), describe(&facts))?;
            Ok(exit::OK)
        }
        Err(e) => fail(e),
    }
}

/// `--link-ttl`: seconds, or a number with s, m, h or d; at most 7 days.
fn parse_ttl(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let secs = num
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && scale > 0);
    let ttl = secs
        .map(|n| Duration::from_secs(n * scale))
        .with_context(|| {
            format!("--link-ttl takes a duration such as 3600, 90m, 24h or 7d, not `{text}`")
        })?;
    if ttl > upload::MAX_LINK_TTL {
        return Err(anyhow!(
            "--link-ttl is at most 7d (S3 presigned links live 7 days at most), not `{text}`"
        ));
    }
    Ok(ttl)
}

fn parse_keep_sound(text: Option<&str>) -> Result<Option<bool>> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("yes" | "true") => Ok(Some(true)),
        Some("no" | "false") => Ok(Some(false)),
        Some(other) => Err(anyhow!("keep_sound takes yes or no, not `{other}`")),
    }
}

/// The store named by --upload / --upload-cmd, if any.
fn store_from(args: &UploadArgs, timing: &Timing) -> Result<Option<Store>> {
    if let Some(cmd) = &args.upload_cmd {
        return Ok(Some(Store::Command(CommandStore::new(
            cmd.clone(),
            timing.http,
        ))));
    }
    let Some(target) = &args.upload else {
        return Ok(None);
    };
    let config = S3Config::from_lookup(target, |k| {
        std::env::var(k)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })?;
    Ok(Some(Store::S3(Box::new(S3Store::new(
        config,
        timing.http,
    )?))))
}

/// The pair the command line describes; batch rows start from it.
fn pair_from(args: &SubmitArgs, image: &str, video: &str) -> Result<Pair> {
    Ok(Pair {
        image: Source::parse(image),
        video: Source::parse(video),
        provider: args.provider.parse()?,
        model: args.model.parse()?,
        mode: args.mode.parse()?,
        orientation: args.orientation.parse()?,
        prompt: args.prompt.clone(),
        negative_prompt: args.negative_prompt.clone(),
        keep_sound: parse_keep_sound(args.keep_sound.as_deref())?,
    })
}

fn settings_from(args: &SubmitArgs, timing: &Timing) -> Result<Settings> {
    let cache_dir = match &args.cache {
        Some(d) => d.clone(),
        None => prepare::default_cache_dir()
            .ok_or_else(|| anyhow!("no cache location: set --cache, PREFLIGHT_CACHE or HOME"))?,
    };
    Ok(Settings {
        store: store_from(&args.upload, timing)?,
        link_ttl: parse_ttl(&args.upload.link_ttl)?,
        image_link: args.upload.image_link,
        policy: if args.force {
            Policy::AsIs
        } else if args.no_fix {
            Policy::Refuse
        } else {
            Policy::Repair
        },
        fix: FixOptions::default(),
        cache_dir,
        again: args.again,
        timing: *timing,
        locks: Default::default(),
    })
}

fn announce(out: &mut impl Write, provider: Provider, done: &Submitted) -> io::Result<()> {
    let row = done.record();
    match done {
        Submitted::Created(_) => writeln!(out, "created {provider} task {} (journal row {})", row.display_id(), row.id),
        Submitted::Recovered(_) => writeln!(out, "found {provider} task {} from an earlier, interrupted submission (journal row {})", row.display_id(), row.id),
        Submitted::Existing(_) => writeln!(
            out,
            "already submitted: {provider} task {} ({}, journal row {}); not paying twice (use --again for a new task)",
            row.display_id(), row.status, row.id
        ),
    }
}

pub fn run_submit(args: SubmitArgs) -> Result<i32> {
    let mut timing = Timing::from_env();
    timing.wait_timeout = Duration::from_secs(args.wait.timeout);
    if let Some(file) = &args.batch {
        return batch::run(&args, file, &timing);
    }
    let (Some(image), Some(video)) = (&args.image, &args.video) else {
        return Err(anyhow!("give --image and --video, or --batch FILE"));
    };
    let pair = pair_from(&args, image, video)?;
    let spec = Spec::lookup(pair.provider, pair.model, pair.orientation)?;
    // What the pictures show, before anything is uploaded or created.
    if crate::cmd::content::submit_gate(image, video, &spec, args.strict_content)? {
        return Ok(exit::NOT_COMPLIANT);
    }
    let settings = settings_from(&args, &timing)?;
    let client = match connect(pair.provider, args.conn.base_url.clone(), &timing) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let journal = open_journal(&args.conn.journal)?;
    let sent = match pipeline::send(&pair, &settings, &client, &journal, &mut |l: &str| note(l)) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let row = sent.submitted.record().clone();
    announce(&mut io::stdout().lock(), pair.provider, &sent.submitted)?;
    if args.wait.wait {
        follow(&client, &journal, &row, &args.wait, true)
    } else {
        println!(
            "follow it with `preflight status {} --wait`",
            row.display_id()
        );
        Ok(exit::OK)
    }
}

pub fn run_status(args: StatusArgs) -> Result<i32> {
    let journal = open_journal(&args.conn.journal)?;
    let mut timing = Timing::from_env();
    timing.wait_timeout = Duration::from_secs(args.wait.timeout);
    let row = journal.find(&args.task)?;
    let Some(row) = row else {
        let Some(p) = &args.provider else {
            eprintln!(
                "preflight: task {} is not in the journal {}; give --provider to ask the provider anyway",
                args.task,
                journal.path().display()
            );
            return Ok(exit::USAGE);
        };
        let provider: Provider = p.parse()?;
        let client = match connect(provider, args.conn.base_url.clone(), &timing) {
            Ok(c) => c,
            Err(code) => return Ok(code),
        };
        return match client.query(&args.task) {
            Ok(t) => {
                println!(
                    "{provider} {}: {} {}",
                    args.task,
                    t.status.name(),
                    t.videos.join(" ")
                );
                Ok(exit::OK)
            }
            Err(e) => fail(e),
        };
    };
    let provider: Provider = row.provider.parse()?;
    let base = args
        .conn
        .base_url
        .clone()
        .or_else(|| std::env::var(base_url_env(provider)).ok())
        .or_else(|| Some(row.base_url.clone()));
    let client = match connect(provider, base, &timing) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    follow(&client, &journal, &row, &args.wait, false)
}

pub fn run_tasks(args: TasksArgs) -> Result<i32> {
    let journal = open_journal(&args.journal)?;
    let rows = journal.list()?;
    let mut out = io::stdout().lock();
    if args.json {
        for r in &rows {
            serde_json::to_writer(&mut out, r)?;
            writeln!(out)?;
        }
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        writeln!(out, "no tasks in {}", journal.path().display())?;
        return Ok(exit::OK);
    }
    writeln!(
        out,
        "{:<5} {:<12} {:<34} {:<11} {:<16} RESULT",
        "ROW", "PROVIDER", "TASK", "STATUS", "MODEL"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<5} {:<12} {:<34} {:<11} {:<16} {}",
            format!("#{}", r.id),
            r.provider,
            r.display_id(),
            r.status,
            format!("{} {}", r.model, r.mode),
            r.result_path
                .as_deref()
                .or(r.message.as_deref())
                .unwrap_or("")
        )?;
    }
    Ok(exit::OK)
}

/// Used by `--help` texts in cli.rs.
pub fn submit_after_help() -> String {
    format!("{SUBMIT_HELP}{ENV_HELP}{EXIT_HELP}")
}

pub fn env_after_help() -> String {
    format!("{ENV_HELP}{EXIT_HELP}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ttl_takes_units_and_stops_at_seven_days() {
        assert_eq!(parse_ttl("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_ttl("7d").unwrap(), upload::MAX_LINK_TTL);
        for bad in ["8d", "0", "-1h", "1w", "h", ""] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
