//! `preflight fix`: probe, check, plan and repair every file into --out.
//!
//! Files are worked on in parallel: videos first (they are the long jobs) but
//! never more at once than their share of the cores, so images keep flowing
//! beside them; each video encoder gets a matching thread budget. Outcomes are
//! printed as they finish, recorded in the output folder's manifest, and
//! summed up at the end.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use preflight::plan::Step;
use preflight::sniff::Sniffed;
use preflight::walk::{walk, Found, WalkOptions};
use preflight::{check, plan, FixOptions, Plan, ProbeError, Spec};
use serde::Serialize;

use crate::cli::FixArgs;
use crate::manifest::{self, Manifest};
use crate::schedule::{Job, Lane, Scheduler, Status};
use crate::shard::{in_shard, parse_shard};
use crate::{exit, table};

/// One line of `fix --json`, and one entry of `--report`.
#[derive(Serialize, Clone)]
struct FixLine {
    path: String,
    output: Option<String>,
    /// `copied`, `remuxed`, `reencoded`, `done` (an earlier run did it),
    /// `skipped` (not media), `planned` (dry run) or `failed`.
    action: &'static str,
    /// What was (or would be) done, and the rule each change fixes.
    changes: Vec<Change>,
    /// Advisories the repair raised about the input: damaged sound replaced
    /// with silence or left out (`audio.damaged`), frames the decoder
    /// concealed (`video.damaged`).
    warnings: Vec<preflight::Warning>,
    error: Option<String>,
    bytes_in: Option<u64>,
    bytes_out: Option<u64>,
    seconds: f64,
}

#[derive(Serialize, Clone)]
pub(crate) struct Change {
    pub rule: &'static str,
    pub what: String,
}

/// `--report FILE`: the whole run as one JSON document.
#[derive(Serialize)]
struct RunReport<'a> {
    provider: &'static str,
    model: &'static str,
    orientation: &'static str,
    dry_run: bool,
    seconds: f64,
    counts: HashMap<&'static str, usize>,
    bytes_in: u64,
    bytes_out: u64,
    files: &'a [FixLine],
}

fn changes_of(plan: &Plan) -> Vec<Change> {
    fn from<Op>(steps: &[Step<Op>]) -> Vec<Change> {
        steps
            .iter()
            .map(|s| Change {
                rule: s.rule.id(),
                what: s.reason.clone(),
            })
            .collect()
    }
    match plan {
        Plan::Image(p) => from(p.steps()),
        Plan::Video(p) => from(p.steps()),
    }
}

/// Everything a worker needs, shared by reference.
struct Context_<'a> {
    spec: &'a Spec,
    image_options: FixOptions,
    video_options: FixOptions,
    out_dir: Option<&'a Path>,
    manifest: Option<&'a Manifest>,
    settings: String,
    force: bool,
    claimed: Mutex<HashMap<PathBuf, PathBuf>>,
    /// `--frame-person`: the pose models, loaded once.
    framing: Option<preflight::PoseModels>,
    /// `--frame-person`: the cores a picture's analysis has to itself.
    framing_threads: usize,
}

pub fn run(args: FixArgs) -> Result<i32> {
    let started = Instant::now();
    let spec = args.spec.resolve()?;
    let options = args.repair.resolve()?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if let Some(out) = &args.out {
        refuse_out_inside_inputs(out, &args.paths)?;
    }
    let mut found = walk(
        &args.paths,
        WalkOptions {
            include_hidden: args.hidden,
        },
    );
    if let Some((k, n)) = shard {
        found.retain(|entry| match entry {
            Ok(f) => in_shard(&f.relative(), k, n),
            // Walk errors are reported by the first shard only.
            Err(_) => k == 1,
        });
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // `--frame-person` looks at images only: a lone one has every core. The
    // models are looked for before anything is written.
    let framing_threads = match found.as_slice() {
        [Ok(f)] if lane_of(&f.path).0 == Lane::Image => cores,
        _ => 1,
    };
    let framing = if args.frame_person {
        Some(crate::cmd::content::load_models(
            "--frame-person",
            framing_threads,
        )?)
    } else {
        None
    };
    let manifest = match (&args.out, args.dry_run) {
        (Some(out), false) => Some(open_manifest(out, shard)?),
        _ => None,
    };

    let workers = args.jobs.unwrap_or(cores).max(1);
    let mut lines: Vec<Option<FixLine>> = vec![None; found.len()];
    let mut jobs = Vec::new();
    for (index, entry) in found.into_iter().enumerate() {
        match entry {
            Ok(f) => jobs.push(job_of(index, f)),
            Err(e) => lines[index] = Some(failed(&e.path, e.message, None, 0.0)),
        }
    }
    let total_bytes = jobs.iter().map(|j| j.bytes).sum();
    let scheduler = Scheduler::new(jobs, workers);
    let video_threads = (cores / scheduler.video_slots()).max(1);
    let mut video_options = options.clone();
    video_options.video_threads = video_threads;
    let ctx = Context_ {
        spec: &spec,
        image_options: options.clone(),
        video_options,
        out_dir: if args.dry_run {
            None
        } else {
            args.out.as_deref()
        },
        manifest: manifest.as_ref(),
        settings: settings_hash(&spec, &options)
            + if args.frame_person {
                "+frame-person"
            } else {
                ""
            },
        force: args.force,
        claimed: Mutex::new(HashMap::new()),
        framing,
        framing_threads,
    };

    // Walk errors first: they are known before any work starts.
    let stdout = io::stdout();
    for line in lines.iter().flatten() {
        emit(&mut stdout.lock(), line, args.json)?;
    }
    let progress = progress_bar(total_bytes, args.json || !io::stderr().is_terminal());
    let results = Mutex::new(Vec::<(usize, FixLine)>::new());
    let emit_error = Mutex::new(None::<io::Error>);
    scheduler
        .run(
            |job| fix_one(&job.item.1, &ctx, job.lane),
            |status| show_status(&progress, status),
            |job, line| {
                progress.suspend(|| {
                    if let Err(e) = emit(&mut stdout.lock(), &line, args.json) {
                        *emit_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    }
                });
                let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                results.push((job.item.0, line));
            },
        )
        .context("cannot start worker threads")?;
    progress.finish_and_clear();
    if let Some(e) = emit_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        // A closed pipe (`| head`) is not worth a second message.
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    for (index, line) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        lines[index] = Some(line);
    }
    let lines: Vec<FixLine> = lines.into_iter().flatten().collect();
    finish(&args, &spec, &lines, started.elapsed().as_secs_f64())
}

/// The report, the summary and the exit code, once every file is done.
fn finish(args: &FixArgs, spec: &Spec, lines: &[FixLine], seconds: f64) -> Result<i32> {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for line in lines {
        *counts.entry(line.action).or_default() += 1;
    }
    let bytes_in: u64 = lines.iter().filter_map(|l| l.bytes_in).sum();
    let bytes_out: u64 = lines.iter().filter_map(|l| l.bytes_out).sum();
    if let Some(path) = &args.report {
        let report = RunReport {
            provider: spec.provider.name(),
            model: spec.model.name(),
            orientation: spec.orientation.name(),
            dry_run: args.dry_run,
            seconds,
            counts: counts.clone(),
            bytes_in,
            bytes_out,
            files: lines,
        };
        let text = serde_json::to_vec_pretty(&report)?;
        write_atomically(path, &text)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    if !args.json {
        summary(
            &mut io::stdout().lock(),
            lines,
            spec,
            args.dry_run,
            seconds,
            bytes_in,
            bytes_out,
        )?;
    }
    let failures = counts.get("failed").copied().unwrap_or(0);
    Ok(if failures > 0 {
        exit::NOT_COMPLIANT
    } else {
        exit::OK
    })
}

/// The output folder's manifest, after sweeping partial files an interrupted
/// run left there.
fn open_manifest(out: &Path, shard: Option<(u64, u64)>) -> Result<Manifest> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    manifest::sweep_partials(out);
    Manifest::open(out, shard)
        .with_context(|| format!("cannot open the manifest in {}", out.display()))
}

/// What a manifest entry was made with: an output made with other settings
/// is made again.
fn settings_hash(spec: &Spec, options: &FixOptions) -> String {
    manifest::hash_text(&format!(
        "{}|{}|{}|{:?}|{}",
        spec.provider,
        spec.model,
        spec.orientation,
        options,
        env!("CARGO_PKG_VERSION")
    ))
}

/// A bar over the bytes to do on stderr; hidden for `--json` or when stderr is
/// not a terminal.
fn progress_bar(total_bytes: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} · {msg} · ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show_status(progress: &ProgressBar, status: &Status) {
    progress.set_position(status.bytes_done);
    progress.set_message(format!(
        "{}/{} files · {}",
        status.done,
        status.total,
        status.in_work.join(", ")
    ));
}

/// A walked file as a job: its lane from its first bytes, its size for progress.
fn job_of(index: usize, found: Found) -> Job<(usize, Found)> {
    let (lane, bytes) = lane_of(&found.path);
    Job {
        lane,
        bytes,
        name: name_of(&found.path),
        item: (index, found),
    }
}

/// Which lane a file goes to, from its first bytes, and its size for progress.
fn lane_of(path: &Path) -> (Lane, u64) {
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let lane = match preflight::probe::sniff_file(path) {
        Ok(Sniffed::Video(_)) => Lane::Video,
        Ok(Sniffed::Image(_)) => Lane::Image,
        // FFmpeg may still take it as a video; it is cheap to find out.
        Ok(Sniffed::Unknown) | Err(_) => Lane::Image,
    };
    (lane, bytes)
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Extensions that claim to be media: such a file that turns out not to be
/// media is broken (failed), anything else that is not media is skipped.
const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif", "avif", "mp4",
    "mov", "m4v", "webm", "mkv", "avi", "mts", "m2ts", "ts", "3gp", "flv", "wmv", "mpg", "mpeg",
];

fn claims_media(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn fix_one(found: &Found, ctx: &Context_, lane: Lane) -> FixLine {
    let started = Instant::now();
    let elapsed = || started.elapsed().as_secs_f64();
    let facts = match preflight::probe(&found.path) {
        Ok(f) => f,
        Err(e @ (ProbeError::Unrecognised(_) | ProbeError::Empty))
            if !claims_media(&found.path) =>
        {
            let mut line = failed(&found.path, format!("not media: {e}"), None, elapsed());
            line.action = "skipped";
            return line;
        }
        Err(e) => return failed(&found.path, e.to_string(), None, elapsed()),
    };
    let bytes_in = Some(facts.bytes());
    let options = match lane {
        Lane::Video => &ctx.video_options,
        Lane::Image => &ctx.image_options,
    };
    // `--frame-person`: a small person's crop becomes the input of the repair.
    let framed = match (&ctx.framing, &facts) {
        (Some(models), preflight::MediaFacts::Image(_)) => {
            match crate::cmd::content::frame(&found.path, models, ctx.spec, ctx.framing_threads) {
                Ok(framed) => framed,
                Err(e) => return failed(&found.path, e.to_string(), bytes_in, elapsed()),
            }
        }
        _ => None,
    };
    let (source, facts) = match &framed {
        Some(f) => (f.path.clone(), f.facts.clone()),
        None => (found.path.clone(), facts),
    };
    let mut plan_changes: Vec<Change> = framed
        .iter()
        .map(|f| Change {
            rule: preflight::Rule::ContentPersonSmall.id(),
            what: f.what.clone(),
        })
        .collect();
    let plan = plan(&facts, ctx.spec, options);
    let Some(out_dir) = ctx.out_dir else {
        let mut line = dry_run_line(found, &facts, &plan, ctx.spec, elapsed());
        plan_changes.append(&mut line.changes);
        line.changes = plan_changes;
        if framed.is_some() {
            line.action = "planned";
        }
        return line;
    };

    let relative = found.relative();
    let relative_key = relative.to_string_lossy().into_owned();
    let input_hash = match ctx.manifest.map(|_| manifest::hash_file(&found.path)) {
        Some(Ok(hash)) => Some(hash),
        Some(Err(e)) => {
            return failed(
                &found.path,
                format!("cannot read: {e}"),
                bytes_in,
                elapsed(),
            )
        }
        None => None,
    };
    if let (Some(m), Some(hash), false) = (ctx.manifest, &input_hash, ctx.force) {
        if let Some(entry) = m.done(&relative_key, hash, &ctx.settings) {
            return FixLine {
                path: found.path.display().to_string(),
                output: Some(out_dir.join(&entry.output).display().to_string()),
                action: "done",
                changes: Vec::new(),
                warnings: Vec::new(),
                error: None,
                bytes_in,
                bytes_out: Some(entry.bytes_out),
                seconds: elapsed(),
            };
        }
    }

    let output = claim_output(ctx, found, &relative, out_dir, &plan);
    match preflight::execute(&source, &facts, &plan, ctx.spec, &output) {
        Ok(fixed) => {
            if let (Some(m), Some(hash)) = (ctx.manifest, input_hash) {
                let entry = manifest::Entry {
                    input: relative_key,
                    input_hash: hash,
                    settings: ctx.settings.clone(),
                    output: output
                        .strip_prefix(out_dir)
                        .unwrap_or(&output)
                        .to_string_lossy()
                        .into_owned(),
                    action: fixed.action.name().to_string(),
                    bytes_out: fixed.after.bytes(),
                };
                if let Err(e) = m.record(&entry) {
                    return failed(
                        &found.path,
                        format!("repaired, but the manifest could not be written: {e}"),
                        bytes_in,
                        elapsed(),
                    );
                }
            }
            plan_changes.extend(changes_of(&plan));
            FixLine {
                path: found.path.display().to_string(),
                output: Some(fixed.output.display().to_string()),
                action: if framed.is_some() {
                    "reencoded"
                } else {
                    fixed.action.name()
                },
                changes: plan_changes,
                warnings: fixed.findings,
                error: None,
                bytes_in,
                bytes_out: Some(fixed.after.bytes()),
                seconds: elapsed(),
            }
        }
        Err(e) => failed(&found.path, e.to_string(), bytes_in, elapsed()),
    }
}

/// `--dry-run`: what would be done, nothing written.
fn dry_run_line(
    found: &Found,
    facts: &preflight::MediaFacts,
    plan: &Plan,
    spec: &Spec,
    seconds: f64,
) -> FixLine {
    let report = check(facts, spec);
    let mut changes = changes_of(plan);
    if changes.is_empty() && !report.ok() {
        changes.push(Change {
            rule: "plan",
            what: "no repair planned for a non-compliant file".into(),
        });
    }
    FixLine {
        path: found.path.display().to_string(),
        output: None,
        action: if plan.is_copy() { "copied" } else { "planned" },
        changes,
        warnings: Vec::new(),
        error: None,
        bytes_in: Some(facts.bytes()),
        bytes_out: None,
        seconds,
    }
}

/// The output path of `found`, claimed for it: when another input of the run
/// already has that name (`a.png` and `a.jpg` both becoming `a.jpg`), the
/// original extension stays in the name: `a.png.jpg`.
fn claim_output(
    ctx: &Context_,
    found: &Found,
    relative: &Path,
    out_dir: &Path,
    plan: &Plan,
) -> PathBuf {
    let mut output = preflight::fix::output_path(out_dir, relative, plan);
    let mut claimed = ctx.claimed.lock().unwrap_or_else(|e| e.into_inner());
    if claimed
        .get(&output)
        .is_some_and(|owner| owner != &found.path)
    {
        let mut name = relative.file_name().unwrap_or_default().to_os_string();
        name.push(".");
        name.push(output.extension().unwrap_or_default());
        output.set_file_name(name);
    }
    claimed.insert(output.clone(), found.path.clone());
    output
}

fn failed(path: &Path, message: String, bytes_in: Option<u64>, seconds: f64) -> FixLine {
    FixLine {
        path: path.display().to_string(),
        output: None,
        action: "failed",
        changes: Vec::new(),
        warnings: Vec::new(),
        error: Some(message),
        bytes_in,
        bytes_out: None,
        seconds,
    }
}

fn emit(out: &mut impl Write, line: &FixLine, json: bool) -> io::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, line)?;
        writeln!(out)?;
    } else {
        match (&line.output, &line.error) {
            (_, Some(err)) => writeln!(out, "{:<10} {}\n    x {err}", line.action, line.path)?,
            (Some(o), None) => writeln!(out, "{:<10} {} -> {o}", line.action, line.path)?,
            (None, None) => writeln!(out, "{:<10} {}", line.action, line.path)?,
        }
        for c in &line.changes {
            writeln!(out, "    - {}: {}", c.rule, c.what)?;
        }
        for w in &line.warnings {
            writeln!(out, "    ! {}: {}", w.rule, w.message)?;
        }
    }
    out.flush()
}

fn summary(
    out: &mut impl Write,
    lines: &[FixLine],
    spec: &Spec,
    dry_run: bool,
    seconds: f64,
    bytes_in: u64,
    bytes_out: u64,
) -> io::Result<()> {
    const ORDER: [&str; 7] = [
        "copied",
        "remuxed",
        "reencoded",
        "done",
        "planned",
        "skipped",
        "failed",
    ];
    let parts: Vec<String> = ORDER
        .iter()
        .filter_map(|a| {
            let n = lines.iter().filter(|l| l.action == *a).count();
            (n > 0).then(|| format!("{n} {a}"))
        })
        .collect();
    writeln!(
        out,
        "\n{} file{}{}: {} in {:.1} s (provider {}, model {}, orientation {}); {} in, {} out.",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        if dry_run { " (dry run)" } else { "" },
        if parts.is_empty() {
            "nothing to do".to_string()
        } else {
            parts.join(", ")
        },
        seconds,
        spec.provider,
        spec.model,
        spec.orientation,
        table::bytes(bytes_in),
        table::bytes(bytes_out),
    )?;
    let failures: Vec<&FixLine> = lines.iter().filter(|l| l.action == "failed").collect();
    if !failures.is_empty() {
        writeln!(out, "Failed:")?;
        for f in failures {
            writeln!(
                out,
                "  {}: {}",
                f.path,
                f.error.as_deref().unwrap_or("unknown error")
            )?;
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = preflight::fix::temp_path_for(path);
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// An output folder inside an input folder would be walked again on the next
/// run, and its outputs repaired as inputs.
fn refuse_out_inside_inputs(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let out_abs = absolute(out);
    for input in inputs {
        if !input.is_dir() {
            continue;
        }
        if out_abs.starts_with(absolute(input)) {
            bail!(
                "the output folder {} is inside the input folder {}; choose a folder outside it",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// The canonical form of a path that may not exist yet: its nearest existing
/// ancestor canonicalised, plus the rest.
fn absolute(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(canon) = existing.canonicalize() {
            let mut full = canon;
            for part in rest.iter().rev() {
                full.push(part);
            }
            return full;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return path.to_path_buf(),
        }
    }
}
