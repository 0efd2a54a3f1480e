//! Carrying out a plan: the one place that writes outputs. Every output is
//! written to a hidden temporary file beside its destination, probed and checked
//! again, and only then renamed into place, so an interrupted run leaves no half
//! files and a repair that fails its own check is never delivered.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{check, Report, Violation};
use crate::error::ProbeError;
use crate::facts::MediaFacts;
use crate::plan::Plan;
use crate::spec::Spec;

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Already compliant: copied byte for byte.
    Copied,
    /// Streams kept, container rewritten (and possibly cut at a keyframe).
    Remuxed,
    /// Decoded and encoded again.
    Reencoded,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Copied => "copied",
            Action::Remuxed => "remuxed",
            Action::Reencoded => "reencoded",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error("{0}")]
    Probe(#[from] ProbeError),
    #[error("cannot write output: {0}")]
    Io(#[from] io::Error),
    #[error("image: {0}")]
    Image(String),
    #[error("video: {0}")]
    Video(String),
    #[error("the input changed while it was being read ({0}); run again once it is complete")]
    InputChanged(String),
    #[error("internal error while repairing: {0}")]
    Internal(String),
    #[error("the repaired file still breaks {}: {}", .0.first().map_or("", |v| v.rule.id()), .0.first().map_or(String::new(), |v| v.message.clone()))]
    StillNotCompliant(Vec<Violation>),
}

/// The result of a successful repair.
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub output: PathBuf,
    pub action: Action,
    /// The output's own facts, probed after writing.
    pub after: MediaFacts,
    /// The output checked against the spec: no violations, maybe warnings.
    pub report: Report,
}

/// Where the output of `relative` goes under `out_dir`: the same relative path,
/// with the extension the plan's output format needs.
pub fn output_path(out_dir: &Path, relative: &Path, plan: &Plan) -> PathBuf {
    let mut path = out_dir.join(relative);
    if let Some(ext) = plan.output_extension() {
        let same = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| same_extension(e, ext));
        if !same {
            path.set_extension(ext);
        }
    }
    path
}

fn same_extension(have: &str, want: &str) -> bool {
    let have = have.to_ascii_lowercase();
    have == want || (want == "jpg" && have == "jpeg")
}

/// Removes the temporary file unless it was renamed into place.
struct TempOutput {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A hidden name beside `output`, unique to this process and call, that keeps
/// the output's extension (FFmpeg picks the muxer from it).
pub fn temp_path_for(output: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = output
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = output
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    output.with_file_name(format!(".{stem}.partial-{}-{n}{ext}", std::process::id()))
}

/// Carries out `plan` for `input` and writes the result to `output`.
///
/// A panic inside a decoder or encoder is contained and returned as
/// [`FixError::Internal`]; an input that changes while it is read (its size or
/// modification time moves) is reported, not repaired from torn data.
pub fn execute(
    input: &Path,
    facts: &MediaFacts,
    plan: &Plan,
    spec: &Spec,
    output: &Path,
) -> Result<Fixed, FixError> {
    let before = fs::metadata(input)?;
    if before.len() != facts.bytes() {
        return Err(FixError::InputChanged(format!(
            "{} bytes when probed, {} now",
            facts.bytes(),
            before.len()
        )));
    }
    let fixed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        execute_inner(input, facts, plan, spec, output)
    }))
    .unwrap_or_else(|payload| Err(FixError::Internal(crate::error::panic_message(&*payload))))?;
    let after = fs::metadata(input)?;
    if after.len() != before.len() || after.modified().ok() != before.modified().ok() {
        // The output was made from a file in flux: take it back.
        let _ = fs::remove_file(output);
        return Err(FixError::InputChanged(format!(
            "{} bytes before, {} after",
            before.len(),
            after.len()
        )));
    }
    Ok(fixed)
}

fn execute_inner(
    input: &Path,
    facts: &MediaFacts,
    plan: &Plan,
    spec: &Spec,
    output: &Path,
) -> Result<Fixed, FixError> {
    if let Some(parent) = output.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut temp = TempOutput {
        path: temp_path_for(output),
        keep: false,
    };
    let action = if plan.is_copy() {
        fs::copy(input, &temp.path)?;
        Action::Copied
    } else {
        match (facts, plan) {
            (MediaFacts::Image(f), Plan::Image(p)) => {
                crate::imaging::execute(input, f, p, spec, &temp.path)?;
                Action::Reencoded
            }
            (MediaFacts::Video(f), Plan::Video(p)) => {
                crate::av::conform(input, f, p, spec, &temp.path)?
            }
            _ => {
                return Err(FixError::Image(
                    "plan does not match the file's kind".into(),
                ))
            }
        }
    };
    let after = crate::probe::probe(&temp.path)?;
    let report = check(&after, spec);
    if !report.ok() {
        return Err(FixError::StillNotCompliant(report.violations));
    }
    fs::rename(&temp.path, output)?;
    temp.keep = true;
    Ok(Fixed {
        output: output.to_path_buf(),
        action,
        after,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_hidden_and_keep_the_extension() {
        let t = temp_path_for(Path::new("/out/a/clip.mp4"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(".clip.partial-"), "{name}");
        assert_eq!(t.extension().unwrap(), "mp4");
        assert_eq!(t.parent().unwrap(), Path::new("/out/a"));
    }
}
