//! The arithmetic around MediaPipe's BlazePose models, without pixels: the
//! detector's anchors and how its raw outputs become detections, weighted
//! non-maximum suppression, the rotated square a detection gives the landmark
//! model, and how landmarks found in that square map back to the frame.
//!
//! The constants are those of MediaPipe's own graphs for these two models
//! (`pose_detection_cpu`, `pose_detection_to_roi`, `pose_landmark_by_roi_cpu`,
//! mediapipe 0.10.14), so that the same picture gives the same keypoints as
//! MediaPipe's own pipeline (the agreement test compares them).

use serde::Serialize;

/// The detector's input side, pixels.
pub const DETECTOR_SIDE: usize = 224;
/// The landmark model's input side, pixels.
pub const LANDMARK_SIDE: usize = 256;
/// Anchors (candidate boxes) the detector scores.
pub const ANCHORS: usize = 2254;
/// Values per anchor: box (4) and 4 keypoints (x, y).
pub const DETECTOR_VALUES: usize = 12;
/// Landmarks the model returns: 33 body points and 6 auxiliary ones.
pub const MODEL_LANDMARKS: usize = 39;
/// Body landmarks (MediaPipe's 33-point topology).
pub const BODY_LANDMARKS: usize = 33;

/// A point in frame coordinates normalised to 0–1 (x across, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    /// Across, 0 at the left edge, 1 at the right.
    pub x: f32,
    /// Down, 0 at the top edge, 1 at the bottom.
    pub y: f32,
}

/// An axis-aligned box, normalised to the frame (0–1).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BoxN {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge.
    pub x1: f32,
    /// Bottom edge.
    pub y1: f32,
}

impl BoxN {
    /// Width (0 when empty).
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    /// Height (0 when empty).
    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    /// Area, as a share of the frame when the box lies inside it.
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// The part inside the frame.
    pub fn clipped(&self) -> BoxN {
        BoxN {
            x0: self.x0.clamp(0.0, 1.0),
            y0: self.y0.clamp(0.0, 1.0),
            x1: self.x1.clamp(0.0, 1.0),
            y1: self.y1.clamp(0.0, 1.0),
        }
    }

    /// The smallest box holding `points`; `None` without any.
    pub fn around(points: impl IntoIterator<Item = Point>) -> Option<BoxN> {
        points.into_iter().fold(None, |b, p| {
            let b = b.unwrap_or(BoxN {
                x0: p.x,
                y0: p.y,
                x1: p.x,
                y1: p.y,
            });
            Some(BoxN {
                x0: b.x0.min(p.x),
                y0: b.y0.min(p.y),
                x1: b.x1.max(p.x),
                y1: b.y1.max(p.y),
            })
        })
    }

    /// Intersection over union with `other` (0 when either is empty).
    pub fn iou(&self, other: &BoxN) -> f32 {
        let inter = BoxN {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
        .area();
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// One person the detector found: a face box, a score, and four keypoints
/// (MediaPipe's order: hip centre, a point on the circle around the whole
/// body, shoulder centre, a point on the circle around the upper body).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detection {
    /// Sigmoid score, 0–1.
    pub score: f32,
    /// The face box, normalised to the frame.
    pub face: BoxN,
    /// The four alignment keypoints, normalised to the frame.
    pub keypoints: [Point; 4],
}

impl Detection {
    /// The square around the whole body (centre at the hips, half side the
    /// distance to the body-circle point), in frame units, clipped to the
    /// frame. `aspect` is width / height of the frame, so that the square is
    /// square in pixels.
    pub fn body_box(&self, aspect: f32) -> BoxN {
        let [hip, circle, ..] = self.keypoints;
        let r_px = ((circle.x - hip.x) * aspect).hypot(circle.y - hip.y);
        BoxN {
            x0: hip.x - r_px / aspect,
            y0: hip.y - r_px,
            x1: hip.x + r_px / aspect,
            y1: hip.y + r_px,
        }
        .clipped()
    }

    /// The body circle's diameter as a share of the frame height.
    pub fn body_size(&self, aspect: f32) -> f32 {
        let [hip, circle, ..] = self.keypoints;
        2.0 * ((circle.x - hip.x) * aspect).hypot(circle.y - hip.y)
    }

    /// The same detection seen through a crop: `crop` is where the crop lies in
    /// this detection's frame (normalised), so points scale out of it.
    pub fn from_crop(&self, crop: &BoxN) -> Detection {
        let map = |p: Point| Point {
            x: crop.x0 + p.x * crop.width(),
            y: crop.y0 + p.y * crop.height(),
        };
        Detection {
            score: self.score,
            face: BoxN {
                x0: crop.x0 + self.face.x0 * crop.width(),
                y0: crop.y0 + self.face.y0 * crop.height(),
                x1: crop.x0 + self.face.x1 * crop.width(),
                y1: crop.y0 + self.face.y1 * crop.height(),
            },
            keypoints: self.keypoints.map(map),
        }
    }
}

/// The anchors of MediaPipe's `pose_detection_cpu` graph: SSD anchors over a
/// 224 px input, strides 8, 16, 32, 32, 32, aspect ratio 1 with the
/// interpolated scale, fixed size. With fixed-size anchors only the centres
/// matter: 2 per cell on the 28×28 and 14×14 grids, 6 per cell on the 7×7
/// grid (the three stride-32 layers share it), 2254 in all.
pub fn anchors() -> Vec<Point> {
    let mut out = Vec::with_capacity(ANCHORS);
    for (stride, per_cell) in [(8usize, 2usize), (16, 2), (32, 6)] {
        let cells = DETECTOR_SIDE.div_ceil(stride);
        for row in 0..cells {
            for col in 0..cells {
                let centre = Point {
                    x: (col as f32 + 0.5) / cells as f32,
                    y: (row as f32 + 0.5) / cells as f32,
                };
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

/// The detector's raw outputs for one run: `boxes` is 2254 × 12 values,
/// `scores` 2254 logits. Returns the anchors scoring at least `min_score`,
/// decoded into the detector's input square (0–1), before suppression.
pub fn decode_detections(
    boxes: &[f32],
    scores: &[f32],
    anchors: &[Point],
    min_score: f32,
) -> Vec<Detection> {
    let side = DETECTOR_SIDE as f32;
    let mut out = Vec::new();
    for (i, anchor) in anchors.iter().enumerate() {
        let (Some(&logit), Some(raw)) = (
            scores.get(i),
            boxes.get(i * DETECTOR_VALUES..(i + 1) * DETECTOR_VALUES),
        ) else {
            break;
        };
        // MediaPipe clips the logit to ±100 before the sigmoid.
        let score = sigmoid(logit.clamp(-100.0, 100.0));
        if score < min_score {
            continue;
        }
        let cx = raw[0] / side + anchor.x;
        let cy = raw[1] / side + anchor.y;
        let (w, h) = (raw[2] / side, raw[3] / side);
        let point = |k: usize| Point {
            x: raw[4 + 2 * k] / side + anchor.x,
            y: raw[5 + 2 * k] / side + anchor.y,
        };
        out.push(Detection {
            score,
            face: BoxN {
                x0: cx - w / 2.0,
                y0: cy - h / 2.0,
                x1: cx + w / 2.0,
                y1: cy + h / 2.0,
            },
            keypoints: [point(0), point(1), point(2), point(3)],
        });
    }
    out
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Weighted non-maximum suppression as MediaPipe's detector graph does it
/// (IoU over 0.3 joins a cluster; a cluster's boxes and keypoints are averaged,
/// weighted by score, and it keeps its best score). Best first.
pub fn weighted_nms(mut candidates: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = candidates.first().copied() {
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) = candidates
            .into_iter()
            .partition(|d| d.face.iou(&best.face) > iou_threshold);
        candidates = rest;
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let avg = |f: &dyn Fn(&Detection) -> f32| -> f32 {
            cluster.iter().map(|d| f(d) * d.score).sum::<f32>() / total
        };
        let mut merged = best;
        merged.face = BoxN {
            x0: avg(&|d| d.face.x0),
            y0: avg(&|d| d.face.y0),
            x1: avg(&|d| d.face.x1),
            y1: avg(&|d| d.face.y1),
        };
        for k in 0..4 {
            merged.keypoints[k] = Point {
                x: avg(&|d| d.keypoints[k].x),
                y: avg(&|d| d.keypoints[k].y),
            };
        }
        out.push(merged);
    }
    out
}

/// How a frame of `width` × `height` sits in a square input: the picture is
/// scaled to fit and centred, with bars on the short side. Returns the
/// picture's box inside the square (normalised to the square).
pub fn letterbox(width: u32, height: u32) -> BoxN {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let long = w.max(h);
    let (sw, sh) = (w / long, h / long);
    BoxN {
        x0: (1.0 - sw) / 2.0,
        y0: (1.0 - sh) / 2.0,
        x1: (1.0 + sw) / 2.0,
        y1: (1.0 + sh) / 2.0,
    }
}

/// A detection found in a letterboxed square, in the frame's own coordinates.
pub fn remove_letterbox(d: &Detection, picture: &BoxN) -> Detection {
    let map = |p: Point| Point {
        x: (p.x - picture.x0) / picture.width(),
        y: (p.y - picture.y0) / picture.height(),
    };
    Detection {
        score: d.score,
        face: BoxN {
            x0: (d.face.x0 - picture.x0) / picture.width(),
            y0: (d.face.y0 - picture.y0) / picture.height(),
            x1: (d.face.x1 - picture.x0) / picture.width(),
            y1: (d.face.y1 - picture.y0) / picture.height(),
        },
        keypoints: d.keypoints.map(map),
    }
}

/// A rotated rectangle in frame coordinates: centre and size normalised to
/// the frame, rotation in radians (clockwise on screen, as MediaPipe's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Roi {
    /// Centre, across (0–1).
    pub cx: f32,
    /// Centre, down (0–1).
    pub cy: f32,
    /// Width as a share of the frame width.
    pub width: f32,
    /// Height as a share of the frame height.
    pub height: f32,
    /// Rotation, radians.
    pub rotation: f32,
}

/// Angle in (-π, π].
pub fn normalize_radians(a: f32) -> f32 {
    let two_pi = 2.0 * std::f32::consts::PI;
    a - two_pi * ((a + std::f32::consts::PI) / two_pi).floor()
}

/// The square the landmark model looks at for a detection
/// (`pose_detection_to_roi`: centred on the hips, side twice the body-circle
/// radius, turned so that the body stands upright, then scaled by 1.25).
pub fn roi_from_alignment(hip: Point, circle: Point, width: u32, height: u32) -> Roi {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let (x0, y0) = (hip.x * w, hip.y * h);
    let (x1, y1) = (circle.x * w, circle.y * h);
    let side = 2.0 * (x1 - x0).hypot(y1 - y0) * 1.25;
    let rotation = normalize_radians(std::f32::consts::FRAC_PI_2 - (-(y1 - y0)).atan2(x1 - x0));
    Roi {
        cx: hip.x,
        cy: hip.y,
        width: side / w,
        height: side / h,
        rotation,
    }
}

/// A point given in the ROI's own square (0–1 each way) in frame coordinates
/// (MediaPipe's `LandmarkProjectionCalculator`).
pub fn project_from_roi(p: Point, roi: &Roi) -> Point {
    let (x, y) = (p.x - 0.5, p.y - 0.5);
    let (s, c) = roi.rotation.sin_cos();
    Point {
        x: (c * x - s * y) * roi.width + roi.cx,
        y: (s * x + c * y) * roi.height + roi.cy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn there_are_2254_anchors_as_the_model_has_outputs() {
        let a = anchors();
        assert_eq!(a.len(), ANCHORS);
        assert_eq!(
            a[0],
            Point {
                x: 0.5 / 28.0,
                y: 0.5 / 28.0
            }
        );
        assert_eq!(
            a[ANCHORS - 1],
            Point {
                x: 6.5 / 7.0,
                y: 6.5 / 7.0
            }
        );
    }

    #[test]
    fn an_upright_body_gives_an_unrotated_square() {
        let roi = roi_from_alignment(Point { x: 0.5, y: 0.6 }, Point { x: 0.5, y: 0.2 }, 100, 100);
        assert!(roi.rotation.abs() < 1e-6);
        assert!((roi.width - 1.0).abs() < 1e-6);
        // Upside down: half a turn.
        let roi = roi_from_alignment(Point { x: 0.5, y: 0.4 }, Point { x: 0.5, y: 0.8 }, 100, 100);
        assert!((roi.rotation.abs() - std::f32::consts::PI).abs() < 1e-5);
    }

    proptest! {
        #[test]
        fn projection_round_trips_the_roi_corners(
            cx in 0.0f32..1.0, cy in 0.0f32..1.0, side in 0.05f32..2.0,
            rot in -3.1f32..3.1, w in 100u32..4000, h in 100u32..4000,
        ) {
            let roi = Roi { cx, cy, width: side * h as f32 / w as f32, height: side, rotation: rot };
            // The ROI's centre maps to its centre, and its corners stay at the
            // same pixel distance from it, whatever the rotation.
            let c = project_from_roi(Point { x: 0.5, y: 0.5 }, &roi);
            prop_assert!((c.x - cx).abs() < 1e-5 && (c.y - cy).abs() < 1e-5);
            let corner = project_from_roi(Point { x: 1.0, y: 1.0 }, &roi);
            let d = ((corner.x - cx) * w as f32).hypot((corner.y - cy) * h as f32);
            let expected = side * h as f32 * std::f32::consts::FRAC_1_SQRT_2;
            prop_assert!((d - expected).abs() <= expected * 1e-3 + 1e-3);
        }

        #[test]
        fn letterbox_removal_inverts_the_letterbox(w in 1u32..5000, h in 1u32..5000, x in 0.0f32..1.0, y in 0.0f32..1.0) {
            let pic = letterbox(w, h);
            prop_assert!(pic.width() > 0.0 && pic.height() > 0.0);
            prop_assert!((pic.width().max(pic.height()) - 1.0).abs() < 1e-6);
            let inside = Point { x: pic.x0 + x * pic.width(), y: pic.y0 + y * pic.height() };
            let d = Detection { score: 1.0, face: BoxN::default(), keypoints: [inside; 4] };
            let back = remove_letterbox(&d, &pic).keypoints[0];
            prop_assert!((back.x - x).abs() < 1e-4 && (back.y - y).abs() < 1e-4);
        }

        #[test]
        fn nms_keeps_one_detection_per_cluster_and_never_more_than_given(
            boxes in proptest::collection::vec((0.0f32..0.9, 0.0f32..0.9, 0.05f32..0.1, 0.5f32..1.0), 0..20),
        ) {
            let dets: Vec<Detection> = boxes.iter().map(|&(x, y, s, score)| Detection {
                score,
                face: BoxN { x0: x, y0: y, x1: x + s, y1: y + s },
                keypoints: [Point { x, y }; 4],
            }).collect();
            let kept = weighted_nms(dets.clone(), 0.3);
            prop_assert!(kept.len() <= dets.len());
            prop_assert_eq!(kept.is_empty(), dets.is_empty());
            for pair in kept.windows(2) {
                prop_assert!(pair[0].score >= pair[1].score);
            }
        }
    }
}
