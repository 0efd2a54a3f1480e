//! `preflight check`: probe every file and compare it with the provider's limits.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use preflight::walk::{walk, WalkOptions};
use preflight::{check, MediaFacts, Report, Spec};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::CheckArgs;
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
}

// One per file, moved once into the report: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Checked(MediaFacts, Report),
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
    let results: Vec<(PathBuf, Outcome)> = found
        .into_par_iter()
        .map(|entry| match entry {
            Ok(f) => {
                let outcome = match preflight::probe(&f.path) {
                    Ok(facts) => {
                        let mut report = check(&facts, &spec);
                        match deep_warnings(&f.path, &facts, args.deep) {
                            Ok(warnings) => {
                                report.warnings.extend(warnings);
                                Outcome::Checked(facts, report)
                            }
                            Err(e) => Outcome::Failed(e.to_string()),
                        }
                    }
                    Err(e) => Outcome::Failed(e.to_string()),
                };
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
        .any(|(_, o)| matches!(o, Outcome::Checked(_, r) if !r.ok()));
    Ok(if unreadable {
        exit::UNREADABLE
    } else if non_compliant {
        exit::NOT_COMPLIANT
    } else {
        exit::OK
    })
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
    let scenes = preflight::scenes(path, &limits)?;
    if !scenes.picture_damage.is_empty() {
        return Err(preflight::FixError::Video(
            preflight::check::picture_damage_message(&scenes.picture_damage),
        ));
    }
    Ok(preflight::scene_warnings(&scenes))
}

fn json_line<'a>(path: &std::path::Path, outcome: &'a Outcome) -> CheckLine<'a> {
    let path = path.display().to_string();
    match outcome {
        Outcome::Checked(facts, report) => {
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
            Outcome::Checked(facts, report) => {
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
