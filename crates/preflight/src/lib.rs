//! Preflight for Kling Motion Control: probe a reference image or motion video,
//! check it against a provider's documented limits, and carry out the smallest
//! repair that makes it comply.
//!
//! [`repair`] is the front door: one call probes, checks, plans, repairs into a
//! temporary file, checks the result again and renames it into place.
//!
//! ```
//! use std::path::Path;
//! use preflight::{repair, Action, FixOptions, Model, Orientation, Provider, Spec};
//!
//! let spec = Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Image).unwrap();
//! let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/images/tiny_200x150.png");
//! let out = tempfile::tempdir().unwrap();
//!
//! let fixed = repair(&input, &out.path().join("tiny.png"), &spec, &FixOptions::default()).unwrap();
//! assert_eq!(fixed.action, Action::Reencoded); // too small: scaled up
//! assert!(fixed.report.ok());
//! assert!(fixed.output.is_file());
//! ```
//!
//! The steps are public for callers who want them one at a time: [`probe()`]
//! gives [`MediaFacts`], [`check()`] compares them with a [`Spec`], [`plan()`]
//! turns them into operations each tied to the rule it fixes, and [`execute`]
//! carries a plan out. Dependencies go one way: facts, specs, checks and plans
//! are pure; only the executors (private modules) touch FFmpeg or pixels, and
//! [`fix`] drives them. [`repair_to_bytes`] repairs an image in memory, for
//! sending it inline.

#![warn(missing_docs)]
// Without `pose` (the fuzz build), what only the content analysis calls is
// left unused; it is not dead in any build a user gets.
#![cfg_attr(not(feature = "pose"), allow(dead_code, unused_imports))]

mod av;
pub mod check;
pub mod content;
pub mod error;
pub mod facts;
pub mod fix;
mod imaging;
pub mod limits;
pub mod plan;
#[cfg(feature = "pose")]
pub mod pose;
pub mod probe;
pub mod rule;
pub mod sniff;
pub mod spec;
pub mod walk;

pub use check::{check, scene_warnings, Report, Value, Violation, Warning};
pub use error::{ContentError, FixError, ProbeError};
pub use facts::{
    ColorModel, Container, Damage, ImageFacts, ImageFormat, MediaFacts, MediaKind, Scenes,
    VideoFacts,
};
pub use fix::{execute, repair, repair_to_bytes, Fixed};
pub use limits::DecodeLimits;
pub use plan::{plan, Action, FixOptions, PadFill, Plan};
#[cfg(feature = "pose")]
pub use pose::{
    analyze_image, analyze_video, frame_person, show_image, show_video, ImageContent, PoseModels,
    VideoContent,
};
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
    let bytes = repair_to_bytes(path, spec, options)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Hard cuts and leading black or frozen frames of the video at `path`, from a
/// low-resolution pass over its frames (`check --deep`, `--segment auto`), up
/// to the scan limits (`Scenes::stopped_early` says when it stopped before the
/// end), and the damage found on the way in the picture and the sound
/// (`Scenes::picture_damage`, `concealed`, `sound_damage`).
pub fn scenes(path: &std::path::Path, limits: &DecodeLimits) -> Result<Scenes, FixError> {
    av::detect_scenes(path, 0, limits)
}

/// The image repair's stages one at a time, for the benchmarks. Not part of the
/// supported API: it may change in any release.
#[doc(hidden)]
pub mod __bench {
    use std::path::Path;

    pub use crate::imaging::stages::*;
    use crate::{FixError, MediaFacts};

    /// Probes the picture at `path` and decodes it, as `fix` does.
    pub fn probe_and_decode(path: &Path) -> Result<Picture, FixError> {
        match crate::probe(path)? {
            MediaFacts::Image(facts) => decode(path, &facts),
            MediaFacts::Video(_) => Err(FixError::Image("this is a video, not a picture".into())),
        }
    }

    /// Probes the picture at `path` and, when it is a JPEG whose long side
    /// can be reduced and still be at least `min_long`, decodes it at that
    /// reduced size, as the content analysis does (no full decode when it
    /// cannot: that is `probe_and_decode`); the reduced size.
    pub fn decode_reduced(path: &Path, min_long: u32) -> Result<Option<(u32, u32)>, FixError> {
        match crate::probe(path)? {
            MediaFacts::Image(facts) => Ok(crate::imaging::decode_reduced(path, &facts, min_long)?
                .map(|copy| (copy.width, copy.height))),
            MediaFacts::Video(_) => Err(FixError::Image("this is a video, not a picture".into())),
        }
    }
}
