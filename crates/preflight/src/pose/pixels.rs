//! The pixels the models see: a square of the picture (upright, tilted or
//! reaching past its edges) resampled to the model's input, and small grey
//! copies for measuring how the background moves.

use crate::content::BoxN;

/// 8-bit RGB pixels, rows top to bottom, no padding.
#[derive(Debug, Clone)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

/// What a square sees beyond the picture's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Black.
    Zero,
    /// The nearest edge pixel.
    Replicate,
}

/// A square of the picture in pixels: centre, side and rotation (radians,
/// clockwise on screen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Square {
    /// Centre, across.
    pub cx: f32,
    /// Centre, down.
    pub cy: f32,
    /// Side length.
    pub side: f32,
    /// Rotation.
    pub rotation: f32,
}

impl Square {
    /// The whole picture, letterboxed: centred, as wide as its long side.
    pub fn whole(width: u32, height: u32) -> Square {
        Square {
            cx: width as f32 / 2.0,
            cy: height as f32 / 2.0,
            side: width.max(height) as f32,
            rotation: 0.0,
        }
    }

    /// Where a point given in this square (0–1 each way) lies in the picture,
    /// normalised to the picture.
    pub fn to_frame(&self, x: f32, y: f32, width: u32, height: u32) -> (f32, f32) {
        let (a, b) = ((x - 0.5) * self.side, (y - 0.5) * self.side);
        let (s, c) = self.rotation.sin_cos();
        (
            (self.cx + c * a - s * b) / width as f32,
            (self.cy + s * a + c * b) / height as f32,
        )
    }

    /// The square's bounding box, normalised to the picture (unrotated squares).
    pub fn frame_box(&self, width: u32, height: u32) -> BoxN {
        let (x0, y0) = self.to_frame(0.0, 0.0, width, height);
        let (x1, y1) = self.to_frame(1.0, 1.0, width, height);
        BoxN { x0, y0, x1, y1 }
    }
}

impl Rgb {
    /// The square resampled to `out` × `out` pixels (bilinear), as f32 RGB
    /// scaled to `lo..hi`. Outside the picture is black with `Border::Zero`
    /// (MediaPipe's detector input), the nearest edge pixel with
    /// `Border::Replicate` (its landmark input).
    pub fn sample(
        &self,
        square: &Square,
        out: usize,
        (lo, hi): (f32, f32),
        border: Border,
    ) -> Vec<f32> {
        let mut tensor = Vec::with_capacity(out * out * 3);
        let scale = (hi - lo) / 255.0;
        let step = square.side / out as f32;
        let (s, c) = square.rotation.sin_cos();
        let (w, h) = (self.width as i64, self.height as i64);
        for v in 0..out {
            let b = v as f32 * step - square.side / 2.0;
            for u in 0..out {
                let a = u as f32 * step - square.side / 2.0;
                // MediaPipe maps the square's corners onto the input's (its
                // `GetRotatedSubRectToRectTransformMatrix` and OpenCV's
                // warpAffine): output pixel u samples the picture at
                // corner + u × step. At a 3× reduction the phase of that grid
                // moves the detector's score by tenths (a motorcycle scores
                // 0.86 half a pixel away, 0.35 here, as in MediaPipe).
                let sx = square.cx + c * a - s * b;
                let sy = square.cy + s * a + c * b;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                let mut rgb = [0f32; 3];
                for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
                    for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                        let (mut x, mut y) = (x0 + dx, y0 + dy);
                        let weight = wx * wy;
                        let outside = x < 0 || y < 0 || x >= w || y >= h;
                        if weight == 0.0 || (outside && border == Border::Zero) {
                            continue;
                        }
                        if outside {
                            x = x.clamp(0, w - 1);
                            y = y.clamp(0, h - 1);
                        }
                        let i = ((y * w + x) * 3) as usize;
                        for (k, v) in rgb.iter_mut().enumerate() {
                            *v += weight * f32::from(self.data[i + k]);
                        }
                    }
                }
                tensor.extend(rgb.iter().map(|&v| lo + v * scale));
            }
        }
        tensor
    }

    /// A grey copy `out_w` wide (height to keep the aspect), each pixel the
    /// mean of its area: enough to see the background move, cheap to compare.
    pub fn grey_thumbnail(&self, out_w: u32) -> Grey {
        let out_w = out_w.min(self.width).max(1);
        let out_h = ((self.height as u64 * out_w as u64) / self.width.max(1) as u64).max(1) as u32;
        let mut data = vec![0f32; (out_w * out_h) as usize];
        let mut count = vec![0u32; data.len()];
        for y in 0..self.height {
            let ty = (y as u64 * out_h as u64 / self.height as u64) as u32;
            for x in 0..self.width {
                let tx = (x as u64 * out_w as u64 / self.width as u64) as u32;
                let i = ((y * self.width + x) * 3) as usize;
                let luma = 0.299 * f32::from(self.data[i])
                    + 0.587 * f32::from(self.data[i + 1])
                    + 0.114 * f32::from(self.data[i + 2]);
                let t = (ty * out_w + tx) as usize;
                data[t] += luma;
                count[t] += 1;
            }
        }
        for (d, n) in data.iter_mut().zip(&count) {
            *d /= (*n).max(1) as f32;
        }
        Grey {
            width: out_w,
            height: out_h,
            data,
        }
    }
}

/// A small grey picture.
#[derive(Debug, Clone)]
pub struct Grey {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Luma, 0–255, rows top to bottom.
    pub data: Vec<f32>,
}

/// Largest shift tried, as a share of the thumbnail width each way.
const MAX_SHIFT: f32 = 0.08;

impl Grey {
    /// How far the background moved from `previous` to `self`, as a share of
    /// the width: the shift (whole thumbnail pixels, up to [`MAX_SHIFT`]) that
    /// best matches the two outside the people's boxes (`masks`, normalised),
    /// if it matches clearly better than no shift. `None` when too little
    /// background is left to compare.
    pub fn background_shift(&self, previous: &Grey, masks: &[BoxN]) -> Option<f64> {
        if self.width != previous.width || self.height != previous.height {
            return None;
        }
        let (w, h) = (self.width as i32, self.height as i32);
        // Which pixels the people cover, worked out once: the search below
        // asks about each pixel twice for every one of its shifts.
        let covered: Vec<bool> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let (fx, fy) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
                masks
                    .iter()
                    .any(|b| fx >= b.x0 && fx <= b.x1 && fy >= b.y0 && fy <= b.y1)
            })
            .collect();
        let masked = |x: i32, y: i32| covered[(y * w + x) as usize];
        let reach = ((w as f32 * MAX_SHIFT).round() as i32).max(1);
        let cost = |dx: i32, dy: i32| -> Option<f32> {
            let (mut sum, mut n) = (0f32, 0u32);
            for y in reach..h - reach {
                for x in reach..w - reach {
                    if masked(x, y) || masked(x - dx, y - dy) {
                        continue;
                    }
                    let a = self.data[(y * w + x) as usize];
                    let b = previous.data[((y - dy) * w + (x - dx)) as usize];
                    sum += (a - b).abs();
                    n += 1;
                }
            }
            let inner = ((w - 2 * reach).max(0) * (h - 2 * reach).max(0)) as u32;
            // A quarter of the picture must be background.
            (n * 4 >= inner && n > 0).then(|| sum / n as f32)
        };
        let still = cost(0, 0)?;
        let mut best = (0i32, 0i32, still);
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                if let Some(c) = cost(dx, dy) {
                    if c < best.2 {
                        best = (dx, dy, c);
                    }
                }
            }
        }
        // A textureless background matches anywhere: only a clear gain counts.
        if best.2 > still * 0.8 {
            return Some(0.0);
        }
        Some(f64::from((best.0 as f32).hypot(best.1 as f32) / w as f32))
    }
}
