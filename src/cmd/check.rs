//! `preflight check`: probe every file and compare it with the provider's limits.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use preflight::content::ContentFacts;
use preflight::walk::{walk, WalkOptions};
use preflight::{check, MediaFacts, PoseModels, Report, Spec};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::CheckArgs;
use crate::cmd::content;
use crate::{exit, table};

/// One line of `check --json`.
#[derive(Serialize)]
struct CheckLine<'a> {
    path: String,
    kind: Option<&'static str>,
    ok: bool,
    width: Option<u32>,
    height: Option<u32>,
    duration_s: Option<f64>,
    bytes: Option<u64>,
    format: Option<&'a str>,
    codec: Option<&'a str>,
    rotation: Option<u16>,
    violations: &'a [preflight::Violation],
    warnings: &'a [preflight::Warning],
    error: Option<&'a str>,
    facts: Option<&'a MediaFacts>,
    /// `--content`: what the picture shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a ContentFacts>,
}

// One per file, moved once into the report: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Checked(MediaFacts, Report, Option<ContentFacts>),
    Failed(String),
}

pub fn run(args: CheckArgs) -> Result<i32> {
    let spec = args.spec.resolve()?;
    let found = walk(
        &args.paths,
        WalkOptions {
            include_hidden: args.hidden,
        },
    );
    // One file: its analysis uses every core; many: one core each.
    let threads = content::threads_per_file(found.len());
    // Loaded once, before any file is probed, shared by every worker.
    let models = if args.content || args.show.is_some() {
        let files: Vec<&std::path::Path> = found
            .iter()
            .filter_map(|f| f.as_ref().ok().map(|f| f.path.as_path()))
            .collect();
        let flag = if args.show.is_some() {
            "--show"
        } else {
            "--content"
        };
        Some(content::load_models(
            flag,
            content::first_run_threads(&files),
        )?)
    } else {
        None
    };
    if let Some(dir) = &args.show {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let results: Vec<(PathBuf, Outcome)> = found
        .into_par_iter()
        .map(|entry| match entry {
            Ok(f) => {
                let outcome = check_one(&f.path, &spec, &args, models.as_ref(), threads);
                (f.path, outcome)
            }
            Err(e) => (e.path, Outcome::Failed(e.message)),
        })
        .collect();

    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for (path, outcome) in &results {
            serde_json::to_writer(&mut out, &json_line(path, outcome))?;
            writeln!(out)?;
        }
    } else {
        print_table(&mut out, &results, &spec)?;
    }
    out.flush()?;

    let unreadable = results.iter().any(|(_, o)| matches!(o, Outcome::Failed(_)));
    let non_compliant = results
        .iter()
        .any(|(_, o)| matches!(o, Outcome::Checked(_, r, _) if !r.ok()));
    Ok(if unreadable {
        exit::UNREADABLE
    } else if non_compliant {
        exit::NOT_COMPLIANT
    } else {
        exit::OK
    })
}

fn check_one(
    path: &std::path::Path,
    spec: &Spec,
    args: &CheckArgs,
    models: Option<&PoseModels>,
    threads: usize,
) -> Outcome {
    let facts = match preflight::probe(path) {
        Ok(facts) => facts,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let mut report = check(&facts, spec);
    let Some(models) = models else {
        match deep_warnings(path, &facts, args.deep) {
            Ok(warnings) => report.warnings.extend(warnings),
            Err(e) => return Outcome::Failed(e.to_string()),
        }
        return Outcome::Checked(facts, report, None);
    };
    let show = args.show.is_some();
    match content::analyse(path, &facts, spec, models, threads, show, args.deep) {
        Ok((found, scenes)) => {
            // `--deep` without a shared decode (images, an auto window): its own pass.
            let deep = match scenes {
                Some(scenes) => scene_outcome(&scenes),
                None => deep_warnings(path, &facts, args.deep),
            };
            match deep {
                Ok(warnings) => report.warnings.extend(warnings),
                Err(e) => return Outcome::Failed(e.to_string()),
            }
            report.warnings.extend(found.warnings);
            if let (Some(dir), Some(png)) = (&args.show, found.picture) {
                let to = content::show_path(dir, path);
                if let Err(e) = content::write_atomically(&to, &png) {
                    return Outcome::Failed(format!("cannot write {}: {e}", to.display()));
                }
            }
            Outcome::Checked(facts, report, Some(found.facts))
        }
        Err(e) => Outcome::Failed(format!("content: {e}")),
    }
}

/// `--deep`: decode the video and report hard cuts, a still start, and
/// damage: sound and concealed frames as advisories, a picture `fix` would
/// refuse as an error.
fn deep_warnings(
    path: &std::path::Path,
    facts: &MediaFacts,
    deep: bool,
) -> Result<Vec<preflight::Warning>, preflight::FixError> {
    if !deep || !matches!(facts, MediaFacts::Video(_)) {
        return Ok(Vec::new());
    }
    let limits = preflight::DecodeLimits::default();
    scene_outcome(&preflight::scenes(path, &limits)?)
}

/// What a scan found: its advisories, or the damaged picture as an error.
fn scene_outcome(
    scenes: &preflight::Scenes,
) -> Result<Vec<preflight::Warning>, preflight::FixError> {
    if !scenes.picture_damage.is_empty() {
        return Err(preflight::FixError::Video(
            preflight::check::picture_damage_message(&scenes.picture_damage),
        ));
    }
    Ok(preflight::scene_warnings(scenes))
}

fn json_line<'a>(path: &std::path::Path, outcome: &'a Outcome) -> CheckLine<'a> {
    let path = path.display().to_string();
    match outcome {
        Outcome::Checked(facts, report, content) => {
            let (width, height) = facts.size();
            let (duration_s, codec, rotation) = match facts {
                MediaFacts::Video(v) => (
                    Some(v.duration_s()),
                    Some(v.codec.as_str()),
                    Some(v.rotation),
                ),
                MediaFacts::Image(_) => (None, None, None),
            };
            CheckLine {
                path,
                kind: Some(facts.kind().name()),
                ok: report.ok(),
                width: Some(width),
                height: Some(height),
                duration_s,
                bytes: Some(facts.bytes()),
                format: Some(facts.format_name()),
                codec,
                rotation,
                violations: &report.violations,
                warnings: &report.warnings,
                error: None,
                facts: Some(facts),
                content: content.as_ref(),
            }
        }
        Outcome::Failed(message) => CheckLine {
            path,
            kind: None,
            ok: false,
            width: None,
            height: None,
            duration_s: None,
            bytes: None,
            format: None,
            codec: None,
            rotation: None,
            violations: &[],
            warnings: &[],
            error: Some(message),
            facts: None,
            content: None,
        },
    }
}

fn print_table(
    out: &mut impl Write,
    results: &[(PathBuf, Outcome)],
    spec: &Spec,
) -> io::Result<()> {
    let name_width = results
        .iter()
        .map(|(p, _)| p.display().to_string().chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    writeln!(
        out,
        "{}  {:<5}  {:>9}  {:>8}  {:>9}  RESULT",
        table::fit("FILE", name_width),
        "KIND",
        "SIZE",
        "DURATION",
        "BYTES"
    )?;
    let (mut compliant, mut failing, mut unreadable) = (0, 0, 0);
    for (path, outcome) in results {
        let name = table::fit(&path.display().to_string(), name_width);
        match outcome {
            Outcome::Checked(facts, report, content) => {
                let (w, h) = facts.size();
                let duration = match facts {
                    MediaFacts::Video(v) => format!("{:.2} s", v.duration_s()),
                    MediaFacts::Image(_) => "-".into(),
                };
                let verdict = if report.ok() {
                    compliant += 1;
                    "ok".to_string()
                } else {
                    failing += 1;
                    let n = report.violations.len();
                    format!("NOT OK ({n} violation{})", if n == 1 { "" } else { "s" })
                };
                writeln!(
                    out,
                    "{name}  {:<5}  {:>9}  {:>8}  {:>9}  {verdict}",
                    facts.kind().name(),
                    format!("{w}x{h}"),
                    duration,
                    table::bytes(facts.bytes()),
                )?;
                for v in &report.violations {
                    writeln!(out, "    x {}: {}", v.rule, v.message)?;
                }
                for w in &report.warnings {
                    writeln!(out, "    ! {}: {}", w.rule, w.message)?;
                }
                if let Some(c) = content {
                    writeln!(out, "    ~ content: {}", content_summary(c))?;
                }
            }
            Outcome::Failed(message) => {
                unreadable += 1;
                writeln!(
                    out,
                    "{name}  {:<5}  {:>9}  {:>8}  {:>9}  UNREADABLE",
                    "-", "-", "-", "-"
                )?;
                writeln!(out, "    x {message}")?;
            }
        }
    }
    writeln!(
        out,
        "\n{} file{}: {compliant} compliant, {failing} not compliant, {unreadable} unreadable \
         (provider {}, model {}, orientation {}). x = violation, ! = advisory warning.",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        spec.provider,
        spec.model,
        spec.orientation
    )
}

/// One line for people: who is in the picture and how.
fn content_summary(c: &ContentFacts) -> String {
    let mut parts = Vec::new();
    if let (Some(sampled), Some(with)) = (c.frames_sampled, c.frames_with_person) {
        parts.push(format!("someone in {with} of {sampled} sampled frames"));
    }
    if c.people == 0 {
        parts.push("nobody".into());
        return parts.join(", ");
    }
    parts.push(format!(
        "{} {}, {:.1} % of the frame, {} body, head {}",
        c.people,
        if c.people == 1 { "person" } else { "people" },
        c.person_area * 100.0,
        c.body.name(),
        if c.head_visible { "visible" } else { "hidden" }
    ));
    if let Some(roll) = c.roll_deg {
        parts.push(format!("turned {roll:.0}°"));
    }
    parts.join(", ")
}
