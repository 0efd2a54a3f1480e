//! From a file's content facts to its advisories (the video-only ones come
//! from `video`), and the pair's advisory.

use super::video::video_warnings;
use super::*;
use crate::facts::MediaKind;

/// The advisories for a file's content facts. `many` says whether a second
/// person is large enough to count (decided per picture; a video's from its
/// samples).
pub fn warnings(facts: &ContentFacts, kind: MediaKind, many: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let what = kind.name();
    if let (Some(sampled), Some(with)) = (facts.frames_sampled, facts.frames_with_person) {
        out.extend(video_warnings(facts, sampled, with));
    }
    if facts.people == 0 {
        out.push(warning(
            Rule::ContentPersonMissing,
            format!("no person found in the {what} (the character's motion or appearance cannot be taken from it)"),
        ));
        return out;
    }
    if facts.person_area < MIN_PERSON_AREA {
        out.push(warning(
            Rule::ContentPersonSmall,
            format!(
                "the person covers {:.1} % of the frame, under {:.0} %{}",
                facts.person_area * 100.0,
                MIN_PERSON_AREA * 100.0,
                if kind == MediaKind::Image {
                    " (fix --frame-person crops around them)"
                } else {
                    ""
                }
            ),
        ));
    }
    if many {
        out.push(warning(
            Rule::ContentPersonMany,
            format!("{} people, a second one at least half as large as the first: the motion is taken from the largest", facts.people),
        ));
    }
    if !facts.head_visible {
        out.push(warning(
            Rule::ContentHeadHidden,
            "the head is hidden or cut off (fewer than 3 of nose, eyes and ears visible)".into(),
        ));
    }
    if facts.body == BodyExtent::Partial {
        out.push(warning(
            Rule::ContentBodyPartial,
            "less than an upper body is visible (head, both shoulders and both elbows)".into(),
        ));
    }
    if let Some(roll) = facts.roll_deg.filter(|r| r.abs() > MAX_ROLL_DEG) {
        out.push(warning(
            Rule::ContentPoseOrientation,
            format!("the body is turned {roll:.0}° from upright (more than {MAX_ROLL_DEG:.0}°: upside down or lying)"),
        ));
    }
    out
}

/// The advisories of a file whose pictures the models got at `seen` (width,
/// height; `None` when they got none) and which is `size` itself: those of
/// [`warnings`], or, when `seen` is too small to judge, that alone.
pub fn advise(
    facts: &ContentFacts,
    kind: MediaKind,
    many: bool,
    seen: Option<(u32, u32)>,
    size: (u32, u32),
) -> Vec<Warning> {
    match seen {
        Some((w, h)) if too_small_to_judge(w, h) => too_small_warnings(kind, size.0, size.1),
        _ => warnings(facts, kind, many),
    }
}

/// The advisory of a picture or video too small to judge (see
/// [`too_small_to_judge`](super::too_small_to_judge)): nobody in it can be
/// clearly visible. `width` × `height`: its size as the models got it.
pub fn too_small_warnings(kind: MediaKind, width: u32, height: u32) -> Vec<Warning> {
    vec![warning(
        Rule::ContentPersonMissing,
        format!(
            "the {} is {width} × {height} px: too small for anyone in it to be clearly visible (the pose models judge from {MIN_JUDGED_SIDE} px on the short side)",
            kind.name()
        ),
    )]
}

/// The pair's advisory: a half-body image driven by a full-body video (Kling:
/// "avoid driving half-body characters with full-body motions").
pub fn pair_warnings(image: &ContentFacts, video: &ContentFacts) -> Vec<Warning> {
    if image.body == BodyExtent::Upper && video.body == BodyExtent::Full {
        vec![warning(
            Rule::ContentFramingMismatch,
            "the image shows an upper body and the video a full body: Kling advises against driving half-body characters with full-body motion".into(),
        )]
    } else {
        Vec::new()
    }
}
