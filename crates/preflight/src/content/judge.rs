//! From what the models found in a picture to the file's content facts, and
//! from facts to advisories.

use super::geometry::{normalize_radians, BoxN, Point};
use super::*;

/// Nose, left eye, right eye, left ear, right ear (MediaPipe's indices).
const HEAD: [usize; 5] = [0, 2, 5, 7, 8];
/// Shoulders and elbows (left, right).
const UPPER: [usize; 4] = [11, 12, 13, 14];
/// Hips and knees (left, right).
const LOWER: [usize; 4] = [23, 24, 25, 26];
/// The landmark box is widened by this share of its height on every side:
/// landmarks are joint centres, and hair, shoulders and feet reach past them.
const BOX_MARGIN: f32 = 0.1;

fn visible(p: &Person, i: usize) -> bool {
    p.landmarks.get(i).is_some_and(Landmark::visible)
}

/// At least [`MIN_HEAD_POINTS`] of nose, eyes and ears are visible.
pub(super) fn head_visible(p: &Person) -> bool {
    HEAD.iter().filter(|&&i| visible(p, i)).count() >= MIN_HEAD_POINTS
}

/// How much of `p`'s body is visible.
pub(super) fn body_extent(p: &Person) -> BodyExtent {
    let all = |set: &[usize]| set.iter().all(|&i| visible(p, i));
    if !head_visible(p) || !all(&UPPER) {
        BodyExtent::Partial
    } else if all(&LOWER) {
        BodyExtent::Full
    } else {
        BodyExtent::Upper
    }
}

/// The person's box in the frame: the visible landmarks' box widened by
/// [`BOX_MARGIN`], or the detector's body square without landmarks.
pub fn person_box(p: &Person, aspect: f32) -> BoxN {
    let pts: Vec<Point> = p
        .landmarks
        .iter()
        .filter(|l| l.visible())
        .map(|l| Point { x: l.x, y: l.y })
        .collect();
    let b = match BoxN::around(pts.iter().copied()) {
        Some(b) if pts.len() >= 2 => b,
        _ => return p.detection.body_box(aspect),
    };
    let m_y = b.height() * BOX_MARGIN;
    let m_x = m_y / aspect.max(1e-3);
    BoxN {
        x0: b.x0 - m_x,
        y0: b.y0 - m_y,
        x1: b.x1 + m_x,
        y1: b.y1 + m_y,
    }
    .clipped()
}

/// Body roll from upright in degrees, positive clockwise: from the hips to the
/// shoulders when all four are visible, else from the detector's alignment
/// (hip centre to the body circle), as the landmark model's square is turned.
pub fn roll_deg(p: &Person, aspect: f32) -> f64 {
    let mid = |a: usize, b: usize| -> Option<Point> {
        let (la, lb) = (p.landmarks.get(a)?, p.landmarks.get(b)?);
        (la.visible() && lb.visible()).then(|| Point {
            x: (la.x + lb.x) / 2.0,
            y: (la.y + lb.y) / 2.0,
        })
    };
    let (from, to) = match (mid(23, 24), mid(11, 12)) {
        (Some(hips), Some(shoulders)) => (hips, shoulders),
        _ => (p.detection.keypoints[0], p.detection.keypoints[1]),
    };
    let dx = (to.x - from.x) * aspect;
    let dy = to.y - from.y;
    let rotation = normalize_radians(std::f32::consts::FRAC_PI_2 - (-dy).atan2(dx));
    f64::from(rotation.to_degrees())
}

/// Sorts people largest first, by the detector's body square (the one size
/// every person has, with or without landmarks).
pub fn order_people(people: &mut [Person], aspect: f32) {
    people.sort_by(|a, b| {
        let (sa, sb) = (
            a.detection.body_box(aspect).area(),
            b.detection.body_box(aspect).area(),
        );
        sb.total_cmp(&sa)
    });
}

/// The content facts of one picture.
pub fn image_facts(pose: &Pose) -> ContentFacts {
    let aspect = pose.aspect();
    let Some(largest) = pose.people.first() else {
        return ContentFacts::nobody();
    };
    let b = person_box(largest, aspect);
    ContentFacts {
        people: pose.people.len() as u32,
        person_area: f64::from(b.area()),
        head_visible: head_visible(largest),
        body: body_extent(largest),
        roll_deg: Some(roll_deg(largest, aspect)),
        person_box: Some(b),
        ..ContentFacts::nobody()
    }
}

/// Whether a second person's body square is at least [`SECOND_PERSON_SHARE`]
/// of the largest's.
pub fn second_person_large(pose: &Pose) -> bool {
    let aspect = pose.aspect();
    match pose.people.as_slice() {
        [first, second, ..] => {
            let (a, b) = (
                first.detection.body_box(aspect).area(),
                second.detection.body_box(aspect).area(),
            );
            f64::from(b) >= SECOND_PERSON_SHARE * f64::from(a)
        }
        _ => false,
    }
}
