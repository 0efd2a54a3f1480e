//! Carrying out a plan: the one place that writes outputs, and the front door
//! [`repair`] that runs the whole pipeline for one file. Every output is
//! written to a hidden temporary file beside its destination, probed and checked
//! again, and only then renamed into place, so an interrupted run leaves no half
//! files and a repair that fails its own check is never delivered.
//!
//! The executors (`av`, `imaging`) only carry out the plan they are given; the
//! probing and checking around them happen here.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{check, check_image, Report, Warning};
use crate::error::FixError;
use crate::facts::MediaFacts;
use crate::plan::{plan, Action, FixOptions, Plan};
use crate::probe::probe;
use crate::spec::Spec;

/// The result of a successful repair.
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    /// Where the output was written.
    pub output: PathBuf,
    /// What was done to make it.
    pub action: Action,
    /// The output's own facts, probed after writing.
    pub after: MediaFacts,
    /// The output checked against the spec: no violations, maybe warnings.
    pub report: Report,
    /// What the repair found wrong in the input and worked around, as
    /// advisories: sound that could not be decoded, replaced with silence
    /// or left out (`audio.damaged`); frames the video decoder concealed
    /// (`video.damaged`).
    pub findings: Vec<Warning>,
}

/// Probes `input`, plans the smallest repair that makes it meet `spec`, and
/// writes the result to `output`: a byte-for-byte copy when it already
/// complies. The output is written to a temporary file beside `output`, probed
/// and checked again, and renamed into place only when it complies.
///
/// When the repair changes the file's format (a PNG that must become a JPEG),
/// the extension of `output` is changed to match; [`Fixed::output`] says where
/// the file went.
pub fn repair(
    input: &Path,
    output: &Path,
    spec: &Spec,
    options: &FixOptions,
) -> Result<Fixed, FixError> {
    let facts = probe(input)?;
    let plan = plan(&facts, spec, options);
    let output = with_extension_of(output.to_path_buf(), &plan);
    execute(input, &facts, &plan, spec, &output)
}

/// The bytes of a compliant version of the image at `input`: the file's own
/// bytes when it already complies, else repaired in memory and checked again.
/// Nothing is written to disk. Videos are refused: this is for reference
/// images sent inline (base64).
pub fn repair_to_bytes(
    input: &Path,
    spec: &Spec,
    options: &FixOptions,
) -> Result<Vec<u8>, FixError> {
    let facts = match probe(input)? {
        MediaFacts::Image(f) => f,
        MediaFacts::Video(_) => {
            return Err(FixError::Image(
                "this is a video; base64 is for reference images".into(),
            ))
        }
    };
    let plan = crate::plan::image::plan_image(&facts, spec, options);
    if plan.is_copy() {
        return Ok(fs::read(input)?);
    }
    let (bytes, after) = crate::imaging::render_to_memory(input, &facts, &plan, spec)?;
    // The same check `execute` makes on its outputs, from what was encoded.
    let report = check_image(&after, spec);
    if !report.ok() {
        return Err(FixError::StillNotCompliant(report.violations));
    }
    Ok(bytes)
}

/// Where the output of `relative` goes under `out_dir`: the same relative path,
/// with the extension the plan's output format needs.
pub fn output_path(out_dir: &Path, relative: &Path, plan: &Plan) -> PathBuf {
    with_extension_of(out_dir.join(relative), plan)
}

/// `path`, its extension replaced when the plan's output format needs another.
fn with_extension_of(mut path: PathBuf, plan: &Plan) -> PathBuf {
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
    let mut findings = Vec::new();
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
                let done = crate::av::conform(input, f, p, spec, &temp.path)?;
                findings = done.findings;
                done.action
            }
            _ => {
                return Err(FixError::Image(
                    "plan does not match the file's kind".into(),
                ))
            }
        }
    };
    let after = probe(&temp.path)?;
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
        findings,
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
