//! Image executors. PLACEHOLDER until the image repair lands.

use std::path::Path;

use crate::facts::ImageFacts;
use crate::fix::FixError;
use crate::plan::image::ImagePlan;
use crate::spec::Spec;

pub fn execute(
    _input: &Path,
    _facts: &ImageFacts,
    _plan: &ImagePlan,
    _spec: &Spec,
    _output: &Path,
) -> Result<(), FixError> {
    Err(FixError::Image("image repair is not available yet".into()))
}

/// The bytes of a compliant version of the image at `path`. PLACEHOLDER: only
/// already-compliant images until the image repair lands.
pub fn compliant_bytes(
    path: &Path,
    spec: &Spec,
    _options: &crate::plan::FixOptions,
) -> Result<Vec<u8>, FixError> {
    let facts = crate::probe::probe(path)?;
    let report = crate::check::check(&facts, spec);
    if !report.ok() {
        return Err(FixError::StillNotCompliant(report.violations));
    }
    Ok(std::fs::read(path)?)
}
