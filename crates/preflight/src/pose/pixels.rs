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

/// Where a sample falls along one axis: the pixel before it and how far past
/// that pixel it is.
#[derive(Debug, Clone, Copy)]
struct Tap {
    first: i64,
    fraction: f32,
}

impl Tap {
    fn at(position: f32) -> Tap {
        let first = position.floor();
        Tap {
            first: first as i64,
            fraction: position - first,
        }
    }
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
    /// Width over height, as the detections' normalised boxes need it.
    pub fn aspect(&self) -> f32 {
        self.width as f32 / self.height.max(1) as f32
    }

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
        let push = |rgb: [f32; 3]| tensor.extend_from_slice(&rgb.map(|v| lo + v * scale));
        if square.rotation == 0.0 {
            self.walk_upright(square, out, border, push);
        } else {
            self.walk_turned(square, out, border, push);
        }
        tensor
    }

    /// Where output pixel `i` (of `out` across `square`) samples, from the
    /// square's centre. MediaPipe maps the square's corners onto the
    /// input's (its `GetRotatedSubRectToRectTransformMatrix` and OpenCV's
    /// warpAffine): output pixel u samples the picture at corner + u × step.
    /// At a 3× reduction the phase of that grid moves the detector's score
    /// by tenths (a motorcycle scores 0.86 half a pixel away, 0.35 here, as
    /// in MediaPipe).
    fn offset(square: &Square, out: usize, i: usize) -> f32 {
        i as f32 * (square.side / out as f32) - square.side / 2.0
    }

    /// The square's colours, row by row, for any rotation.
    fn walk_turned(
        &self,
        square: &Square,
        out: usize,
        border: Border,
        mut emit: impl FnMut([f32; 3]),
    ) {
        let (s, c) = square.rotation.sin_cos();
        for v in 0..out {
            let b = Self::offset(square, out, v);
            for u in 0..out {
                let a = Self::offset(square, out, u);
                let x = Tap::at(square.cx + c * a - s * b);
                let y = Tap::at(square.cy + s * a + c * b);
                emit(self.bilinear(x, y, border));
            }
        }
    }

    /// As [`Rgb::walk_turned`] for an upright square (the detector's), about
    /// twice as fast: where a column samples does not depend on the row, so
    /// each column's and each row's source is worked out once. With sin 0
    /// and cos 1 the positions and the sums are the same, so are the values,
    /// to the bit.
    fn walk_upright(
        &self,
        square: &Square,
        out: usize,
        border: Border,
        mut emit: impl FnMut([f32; 3]),
    ) {
        let columns: Vec<Tap> = (0..out)
            .map(|u| Tap::at(square.cx + Self::offset(square, out, u)))
            .collect();
        for v in 0..out {
            let row = Tap::at(square.cy + Self::offset(square, out, v));
            for column in &columns {
                let rgb = self
                    .bilinear_inside(*column, row)
                    .unwrap_or_else(|| self.bilinear(*column, row, border));
                emit(rgb);
            }
        }
    }

    /// As [`Rgb::bilinear`], for a point whose four pixels are all in the
    /// picture (most of them): the same sums without the edge cases.
    #[inline]
    fn bilinear_inside(&self, x: Tap, y: Tap) -> Option<[f32; 3]> {
        let (w, h) = (self.width as i64, self.height as i64);
        if x.first < 0 || y.first < 0 || x.first + 1 >= w || y.first + 1 >= h {
            return None;
        }
        let stride = w as usize * 3;
        let top = (y.first as usize * w as usize + x.first as usize) * 3;
        let pixels = self.data.get(top..top + stride + 6)?;
        let (wx, wy) = (
            [1.0 - x.fraction, x.fraction],
            [1.0 - y.fraction, y.fraction],
        );
        let mut rgb = [0f32; 3];
        for (k, v) in rgb.iter_mut().enumerate() {
            // Top left, top right, bottom left, bottom right: the order of
            // the general case's sums (a zero weight adds zero there too).
            *v += wx[0] * wy[0] * f32::from(pixels[k]);
            *v += wx[1] * wy[0] * f32::from(pixels[3 + k]);
            *v += wx[0] * wy[1] * f32::from(pixels[stride + k]);
            *v += wx[1] * wy[1] * f32::from(pixels[stride + 3 + k]);
        }
        Some(rgb)
    }

    /// The picture's colour at a point between pixels, each channel 0–255.
    fn bilinear(&self, x: Tap, y: Tap, border: Border) -> [f32; 3] {
        let (w, h) = (self.width as i64, self.height as i64);
        let mut rgb = [0f32; 3];
        for (dy, wy) in [(0, 1.0 - y.fraction), (1, y.fraction)] {
            for (dx, wx) in [(0, 1.0 - x.fraction), (1, x.fraction)] {
                let (mut px, mut py) = (x.first + dx, y.first + dy);
                let weight = wx * wy;
                let outside = px < 0 || py < 0 || px >= w || py >= h;
                if weight == 0.0 || (outside && border == Border::Zero) {
                    continue;
                }
                if outside {
                    px = px.clamp(0, w - 1);
                    py = py.clamp(0, h - 1);
                }
                let i = ((py * w + px) * 3) as usize;
                for (k, v) in rgb.iter_mut().enumerate() {
                    *v += weight * f32::from(self.data[i + k]);
                }
            }
        }
        rgb
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A picture whose every byte differs from its neighbours'.
    fn picture(width: u32, height: u32) -> Rgb {
        let data = (0..width * height * 3)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        Rgb {
            width,
            height,
            data,
        }
    }

    fn walked(
        walk: impl Fn(&Rgb, &Square, usize, Border, &mut dyn FnMut([f32; 3])),
        rgb: &Rgb,
        square: &Square,
        out: usize,
        border: Border,
    ) -> Vec<u32> {
        let mut values = Vec::new();
        walk(rgb, square, out, border, &mut |p: [f32; 3]| {
            values.extend(p.map(f32::to_bits))
        });
        values
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The upright shortcut gives the general walk's values to the bit,
        /// inside the picture, across its edges and beyond them.
        #[test]
        fn the_upright_walk_is_the_general_one(
            (width, height) in (1u32..40, 1u32..40),
            (cx, cy) in (-20.0f32..60.0, -20.0f32..60.0),
            side in 0.5f32..90.0,
            out in 1usize..24,
            replicate in any::<bool>(),
        ) {
            let rgb = picture(width, height);
            let square = Square { cx, cy, side, rotation: 0.0 };
            let border = if replicate { Border::Replicate } else { Border::Zero };
            let upright = walked(|r, s, o, b, e| r.walk_upright(s, o, b, e), &rgb, &square, out, border);
            let general = walked(|r, s, o, b, e| r.walk_turned(s, o, b, e), &rgb, &square, out, border);
            prop_assert_eq!(upright, general);
        }
    }
}
