//! Preflight for Kling Motion Control: probe a reference image or motion video,
//! check it against a provider's documented limits, and (in later modules) plan
//! and carry out the smallest repair.
//!
//! The decisions are pure: [`probe`] gives [`MediaFacts`], [`check`] compares them
//! with a [`Spec`]. Only the `av` module touches FFmpeg.

mod av;
pub mod check;
pub mod error;
pub mod facts;
pub mod fix;
mod imaging;
pub mod plan;
pub mod probe;
pub mod rule;
pub mod spec;
pub mod walk;

pub use check::{check, scene_warnings, Report, Value, Violation, Warning};
pub use error::ProbeError;
pub use facts::{
    ColorModel, Container, ImageFacts, ImageFormat, MediaFacts, MediaKind, Scenes, VideoFacts,
};
pub use fix::{execute, Action, FixError, Fixed};
pub use imaging::stages as image_stages;
pub use plan::{plan, FixOptions, PadFill, Plan};
pub use probe::probe;
pub use rule::Rule;
pub use spec::{Model, Orientation, Provider, Spec, SpecError};

/// The raw standard base64 of a compliant version of the image at `path` (no
/// `data:` prefix, no line breaks), repaired in memory when needed.
pub fn base64_image(
    path: &std::path::Path,
    spec: &Spec,
    options: &FixOptions,
) -> Result<String, FixError> {
    use base64::Engine as _;
    let bytes = imaging::compliant_bytes(path, spec, options)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Hard cuts and leading black or frozen frames of the video at `path`, from a
/// low-resolution pass over its frames (`check --deep`, `--segment auto`), up
/// to the scan limits (`Scenes::stopped_early` says when it stopped before the
/// end).
pub fn scenes(path: &std::path::Path, limits: &plan::DecodeLimits) -> Result<Scenes, FixError> {
    av::detect_scenes(path, 0, limits)
}
