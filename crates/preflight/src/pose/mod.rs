//! The pose executor: runs MediaPipe's BlazePose models (in ONNX Runtime) on
//! pictures and on frames sampled from videos, and hands what they found to
//! the pure `content` module, which decides.
//!
//! - `models`: loading the two models, running them, decoding their outputs;
//! - `pixels`: the squares of a picture the models see, grey thumbnails;
//! - `analyze`: one picture (detector, zoomed second pass, landmarks);
//! - `video`: evenly spaced frames of a video's window, and the background's
//!   motion between them.

mod analyze;
mod draw;
mod models;
mod pixels;
mod video;

use std::path::Path;

pub use analyze::{analyze, tiles, NEAR_MISS, TILE_SHARE, ZOOM_BELOW};
pub use draw::{annotate, contact_sheet};
pub use models::{data_dir, LandmarkRun, ModelRuns, PoseModels, DETECTOR_FILE, LANDMARK_FILE};
pub use pixels::{Border, Grey, Rgb, Square};
pub use video::{
    analyze_video, decode_parts, planned_window, scenes_and_content, sent_window, VideoContent,
    VIDEO_WORK_SIDE,
};

use crate::check::Warning;
use crate::content::{self, ContentFacts, Pose};
use crate::error::{ContentError, FixError};
use crate::facts::{MediaFacts, MediaKind};

/// Pictures are looked at no larger than this on their long side: the
/// detector sees 224 px of the whole and 2 × 224 of the zoomed tiles, the
/// landmark model 256 px of the person, so more pixels only cost time.
pub const WORK_SIDE: u32 = 1024;
/// A large JPEG is decoded at 1/2, 1/4 or 1/8 of its size (far less work than
/// in full) down to this long side: the zoomed tiles, each half of it, still
/// have 2 source pixels for each of the detector's 224 (a 4000 × 3000 photo
/// is looked at as 1000 × 750).
pub const MIN_WORK_SIDE: u32 = 4 * content::geometry::DETECTOR_SIDE as u32;

/// What the analysis of an image found.
#[derive(Debug, Clone)]
pub struct ImageContent {
    /// The facts (`content` in `check --json`).
    pub facts: ContentFacts,
    /// The `content.*` advisories.
    pub warnings: Vec<Warning>,
    /// The models' findings (boxes, landmarks), normalised to the picture.
    pub pose: Pose,
    /// The upright picture's size in pixels.
    pub size: (u32, u32),
    /// The working copy the models looked at (at most [`WORK_SIDE`]).
    pub frame: Rgb,
}

/// Analyses the image at `path`, with `threads` cores to itself (1 where
/// other files are analysed beside it; see [`analyze`]).
pub fn analyze_image(
    path: &Path,
    models: &PoseModels,
    threads: usize,
) -> Result<ImageContent, ContentError> {
    let facts = match crate::probe::probe(path)? {
        MediaFacts::Image(facts) => facts,
        MediaFacts::Video(_) => {
            return Err(ContentError::Media(FixError::Image(
                "this is a video, not a picture".into(),
            )))
        }
    };
    let (raster, size) =
        crate::imaging::rgb_for_analysis(path, &facts, (MIN_WORK_SIDE, WORK_SIDE))?;
    let frame = Rgb {
        width: raster.width,
        height: raster.height,
        data: raster.data,
    };
    let pose = analyze(models, &frame, threads)?;
    Ok(image_content(pose, size, frame))
}

/// The facts and advisories of a picture whose pose is known.
/// A picture too small to judge (as the models got it: `frame`) gets that
/// said instead.
pub fn image_content(pose: Pose, size: (u32, u32), frame: Rgb) -> ImageContent {
    let facts = content::image_facts(&pose);
    let many = content::second_person_large(&pose);
    let seen = Some((frame.width, frame.height));
    let warnings = content::advise(&facts, MediaKind::Image, many, seen, size);
    ImageContent {
        facts,
        warnings,
        pose,
        size,
        frame,
    }
}

/// `check --show`: the picture with the people, the skeleton and the verdict
/// drawn on it, as PNG bytes.
pub fn show_image(content: &ImageContent) -> Result<Vec<u8>, ContentError> {
    let drawn = annotate(&content.frame, &content.pose, &content.warnings);
    Ok(crate::imaging::rgb_png(
        drawn.width,
        drawn.height,
        drawn.data,
    )?)
}

/// `check --show` for a video: each sampled frame drawn with its own
/// findings, side by side, under a band with the video's verdict.
pub fn show_video(content: &VideoContent) -> Result<Vec<u8>, ContentError> {
    let drawn: Vec<Rgb> = content
        .frames
        .iter()
        .zip(&content.samples)
        .map(|(frame, sample)| {
            let c = image_content(
                sample.pose.clone(),
                (frame.width, frame.height),
                frame.clone(),
            );
            annotate(frame, &sample.pose, &c.warnings)
        })
        .collect();
    let sheet = contact_sheet(&drawn, 6, 320);
    let verdict = draw::verdict_band(sheet.width, &content.warnings);
    let mut data = verdict.data;
    data.extend_from_slice(&sheet.data);
    Ok(crate::imaging::rgb_png(
        sheet.width,
        verdict.height + sheet.height,
        data,
    )?)
}

/// `fix --frame-person`: the picture cut around its person.
#[derive(Debug, Clone)]
pub struct Framed {
    /// The cut picture, encoded (JPEG for a JPEG input, PNG otherwise).
    pub bytes: Vec<u8>,
    /// `jpg` or `png`.
    pub extension: &'static str,
    /// Where the cut lies in the upright picture.
    pub crop: content::framing::Crop,
    /// The person's share of the picture before.
    pub before: f64,
    /// The person's share of the cut picture.
    pub after: f64,
}

/// The image at `path` cut around its person when the person is small
/// (`content.person.small`), within `rules`' aspect window and minimum side;
/// `None` when there is nobody or the person is large enough. `threads`: as
/// for [`analyze_image`].
pub fn frame_person(
    path: &Path,
    models: &PoseModels,
    rules: &crate::spec::ImageRules,
    threads: usize,
) -> Result<Option<Framed>, ContentError> {
    let analysed = analyze_image(path, models, threads)?;
    let Some(person) = analysed.facts.person_box else {
        return Ok(None);
    };
    if analysed.facts.person_area >= content::MIN_PERSON_AREA {
        return Ok(None);
    }
    let (w, h) = analysed.size;
    let Some(crop) = content::framing::crop_around(&person, w, h, rules) else {
        return Ok(None);
    };
    let facts = match crate::probe::probe(path)? {
        MediaFacts::Image(f) => f,
        MediaFacts::Video(_) => return Ok(None),
    };
    let (bytes, extension) = crate::imaging::crop_picture(path, &facts, &crop)?;
    Ok(Some(Framed {
        bytes,
        extension,
        crop,
        before: analysed.facts.person_area,
        after: content::framing::person_share_after(&person, w, h, &crop),
    }))
}
