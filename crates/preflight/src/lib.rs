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
pub mod probe;
pub mod spec;
pub mod walk;

pub use check::{check, Report, Value, Violation, Warning};
pub use error::ProbeError;
pub use facts::{
    ColorModel, Container, ImageFacts, ImageFormat, MediaFacts, MediaKind, VideoFacts,
};
pub use probe::probe;
pub use spec::{Model, Orientation, Provider, Spec, SpecError};
