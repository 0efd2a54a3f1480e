//! `preflight submit`, `preflight status`, `preflight tasks`: send compliant inputs
//! to a provider, follow the task, bring the result home, and keep a journal so
//! that nothing is paid for twice.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use preflight::{FixOptions, MediaFacts, Provider, Spec};
use submit::journal::{self, Journal, TaskRecord};
use submit::pipeline;
use submit::prepare;
use submit::provider::{base_url_env, upload_url_env};
use submit::upload::{self, CommandStore, S3Config, S3Store};
use submit::{
    Client, Credentials, Pair, Policy, Settings, Source, Store, SubmitError, Submitted, Timing,
};

use crate::cli::submit::{StatusArgs, SubmitArgs, TasksArgs, UploadArgs, WaitArgs};
use crate::exit;

mod batch;

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

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

/// `--base-url`, else `PREFLIGHT_<PROVIDER>_BASE_URL`, else the documented address.
fn base_url_for(provider: Provider, flag: Option<String>) -> Option<String> {
    flag.or_else(|| env_nonempty(&base_url_env(provider)))
}

/// A client for `provider` with this key; its upload API where
/// `PREFLIGHT_<PROVIDER>_UPLOAD_URL` says, else where documented.
pub(crate) fn client_for(
    provider: Provider,
    base: Option<String>,
    creds: Credentials,
    timing: &Timing,
) -> Client {
    Client::new(provider, base, creds, timing.http)
        .with_upload_url(env_nonempty(&upload_url_env(provider)))
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
    Ok(client_for(
        provider,
        base_url_for(provider, base),
        creds,
        timing,
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
        | SubmitError::LinkCheck { .. }
        | SubmitError::UploadTooLarge { .. }
        | SubmitError::UploadUnreachable { .. } => exit::USAGE,
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
            "give --upload s3://BUCKET/PREFIX (or PREFLIGHT_UPLOAD) or --upload-cmd CMD, or pass a public URL \
             (fal, replicate, kie, piapi and wavespeed host uploads themselves)".into()
        }
        SubmitError::UploadTooLarge { .. } => {
            "give --upload s3://BUCKET/PREFIX (or PREFLIGHT_UPLOAD) or --upload-cmd CMD for it".into()
        }
        SubmitError::ResultGone { .. } => {
            "run the same command with --again for a new (paid) task, and keep --wait --out so it is downloaded at once".into()
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
    // Replicate deletes results an hour after the task ends: fetched at once.
    let download_default =
        download_default || !submit::provider::row(client.provider()).results_refetchable;
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
    if target.trim() == "provider" {
        return Ok(Some(Store::Provider));
    }
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
    if let Some(path) = downloaded_earlier(&row, args.wait.out.as_deref()) {
        println!("saved {} earlier: nothing to ask", path.display());
        return Ok(exit::OK);
    }
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

/// The result of a finished task, already in `out` (or anywhere, without
/// `--out`): a repeated command then sends nothing at all.
fn downloaded_earlier(row: &TaskRecord, out: Option<&std::path::Path>) -> Option<PathBuf> {
    let path = PathBuf::from(row.result_path.as_deref()?);
    if row.status != submit::Status::Succeeded.name() || !path.is_file() {
        return None;
    }
    let same_dir = |dir: &std::path::Path| {
        let parent = path.parent().and_then(|p| p.canonicalize().ok());
        parent.is_some() && parent == dir.canonicalize().ok()
    };
    out.is_none_or(same_dir).then_some(path)
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
