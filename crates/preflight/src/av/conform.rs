//! Video conform. PLACEHOLDER until the video repair lands.

use std::path::Path;

use crate::facts::VideoFacts;
use crate::fix::{Action, FixError};
use crate::plan::video::VideoPlan;
use crate::spec::Spec;

pub fn conform(
    _input: &Path,
    _facts: &VideoFacts,
    _plan: &VideoPlan,
    _spec: &Spec,
    _output: &Path,
) -> Result<Action, FixError> {
    Err(FixError::Video("video repair is not available yet".into()))
}
