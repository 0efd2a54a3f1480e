//! `preflight fix`: probe, check, plan and repair every file into --out.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use preflight::plan::Step;
use preflight::walk::{walk, Found, WalkOptions};
use preflight::{check, plan, FixOptions, Plan, Spec};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::FixArgs;
use crate::exit;

/// One line of `fix --json`.
#[derive(Serialize)]
struct FixLine {
    path: String,
    output: Option<String>,
    /// `copied`, `remuxed`, `reencoded`, `planned` (dry run) or `failed`.
    action: &'static str,
    /// What was (or would be) done, and the rule each change fixes.
    changes: Vec<Change>,
    error: Option<String>,
    bytes_in: Option<u64>,
    bytes_out: Option<u64>,
}

#[derive(Serialize)]
struct Change {
    rule: &'static str,
    what: String,
}

fn changes_of(plan: &Plan) -> Vec<Change> {
    fn from<Op>(steps: &[Step<Op>]) -> Vec<Change> {
        steps
            .iter()
            .map(|s| Change {
                rule: s.rule,
                what: s.reason.clone(),
            })
            .collect()
    }
    match plan {
        Plan::Image(p) => from(p.steps()),
        Plan::Video(p) => from(p.steps()),
    }
}

pub fn run(args: FixArgs) -> Result<i32> {
    let spec = args.spec.resolve()?;
    let options = args.repair.resolve()?;
    if let Some(out) = &args.out {
        refuse_out_inside_inputs(out, &args.paths)?;
    }
    let found = walk(
        &args.paths,
        WalkOptions {
            include_hidden: args.hidden,
        },
    );
    let jobs = args.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start worker threads")?;

    // Outputs are claimed in input order so that two inputs that would land on
    // the same name (a.png → a.jpg beside a.jpg) are told apart deterministically.
    let claimed = std::sync::Mutex::new(HashMap::<PathBuf, PathBuf>::new());
    // A dry run writes nothing, even when --out is given.
    let out_dir = if args.dry_run {
        None
    } else {
        args.out.as_deref()
    };
    let lines: Vec<FixLine> = pool.install(|| {
        found
            .into_par_iter()
            .map(|entry| match entry {
                Ok(f) => fix_one(&f, &spec, &options, out_dir, &claimed),
                Err(e) => failed(&e.path, e.message, None),
            })
            .collect()
    });

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failures = 0;
    for line in &lines {
        if line.action == "failed" {
            failures += 1;
        }
        if args.json {
            serde_json::to_writer(&mut out, line)?;
            writeln!(out)?;
        } else {
            print_line(&mut out, line)?;
        }
    }
    if !args.json {
        summary(&mut out, &lines, &spec, args.dry_run)?;
    }
    out.flush()?;
    Ok(if failures > 0 {
        exit::NOT_COMPLIANT
    } else {
        exit::OK
    })
}

fn fix_one(
    found: &Found,
    spec: &Spec,
    options: &FixOptions,
    out_dir: Option<&Path>,
    claimed: &std::sync::Mutex<HashMap<PathBuf, PathBuf>>,
) -> FixLine {
    let facts = match preflight::probe(&found.path) {
        Ok(f) => f,
        Err(e) => return failed(&found.path, e.to_string(), None),
    };
    let bytes_in = Some(facts.bytes());
    let plan = plan(&facts, spec, options);
    let Some(out_dir) = out_dir else {
        // Dry run: report the plan only.
        let report = check(&facts, spec);
        let mut changes = changes_of(&plan);
        if changes.is_empty() && !report.ok() {
            changes.push(Change {
                rule: "plan",
                what: "no repair planned for a non-compliant file".into(),
            });
        }
        return FixLine {
            path: found.path.display().to_string(),
            output: None,
            action: if plan.is_copy() { "copied" } else { "planned" },
            changes,
            error: None,
            bytes_in,
            bytes_out: None,
        };
    };
    let mut output = preflight::fix::output_path(out_dir, &found.relative(), &plan);
    {
        let mut claimed = claimed.lock().unwrap_or_else(|e| e.into_inner());
        if claimed
            .get(&output)
            .is_some_and(|owner| owner != &found.path)
        {
            // Keep the original extension in the name: a.png → a.png.jpg.
            let original = found.relative();
            let mut name = original.file_name().unwrap_or_default().to_os_string();
            name.push(".");
            name.push(output.extension().unwrap_or_default());
            output.set_file_name(name);
        }
        claimed.insert(output.clone(), found.path.clone());
    }
    match preflight::execute(&found.path, &facts, &plan, spec, &output) {
        Ok(fixed) => FixLine {
            path: found.path.display().to_string(),
            output: Some(fixed.output.display().to_string()),
            action: fixed.action.name(),
            changes: changes_of(&plan),
            error: None,
            bytes_in,
            bytes_out: Some(fixed.after.bytes()),
        },
        Err(e) => failed(&found.path, e.to_string(), bytes_in),
    }
}

fn failed(path: &Path, message: String, bytes_in: Option<u64>) -> FixLine {
    FixLine {
        path: path.display().to_string(),
        output: None,
        action: "failed",
        changes: Vec::new(),
        error: Some(message),
        bytes_in,
        bytes_out: None,
    }
}

fn print_line(out: &mut impl Write, line: &FixLine) -> io::Result<()> {
    match (&line.output, &line.error) {
        (_, Some(err)) => writeln!(out, "FAILED     {}\n    x {err}", line.path)?,
        (Some(o), None) => writeln!(out, "{:<10} {} -> {o}", line.action, line.path)?,
        (None, None) => writeln!(out, "{:<10} {}", line.action, line.path)?,
    }
    for c in &line.changes {
        writeln!(out, "    - {}: {}", c.rule, c.what)?;
    }
    Ok(())
}

fn summary(out: &mut impl Write, lines: &[FixLine], spec: &Spec, dry_run: bool) -> io::Result<()> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for line in lines {
        match counts.iter_mut().find(|(a, _)| *a == line.action) {
            Some((_, n)) => *n += 1,
            None => counts.push((line.action, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(a, n)| format!("{n} {a}")).collect();
    let bytes_in: u64 = lines.iter().filter_map(|l| l.bytes_in).sum();
    let bytes_out: u64 = lines.iter().filter_map(|l| l.bytes_out).sum();
    writeln!(
        out,
        "\n{} file{}{}: {} (provider {}, model {}, orientation {}); {} in, {} out.",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        if dry_run { " (dry run)" } else { "" },
        parts.join(", "),
        spec.provider,
        spec.model,
        spec.orientation,
        crate::table::bytes(bytes_in),
        crate::table::bytes(bytes_out),
    )
}

/// An output folder inside an input folder would be walked again on the next
/// run, and its outputs repaired as inputs.
fn refuse_out_inside_inputs(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let out_abs = absolute(out);
    for input in inputs {
        if !input.is_dir() {
            continue;
        }
        let input_abs = absolute(input);
        if out_abs.starts_with(&input_abs) {
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
