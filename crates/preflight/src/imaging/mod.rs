//! Image executors: the only code that touches pixels. They carry out an
//! [`ImagePlan`] decided beforehand from the facts alone:
//! decode (upright, 8-bit) → flatten → resize → pad → encode within the budget.

mod decode;
mod encode;
mod heif;
mod pad;
mod probe;
mod resize;
pub(crate) mod stages;

pub(crate) use decode::decode_reduced;
pub(crate) use probe::probe_image;

use std::borrow::Cow;
use std::path::Path;

use crate::error::FixError;
use crate::facts::{ColorModel, ImageFacts};
use crate::plan::image::{fit, ImagePlan, Layout, OutputFormat};
use crate::plan::PadFill;
use crate::spec::Spec;

/// Decoded pixels: 8-bit RGB (3 channels) or RGBA (4), rows top to bottom.
#[derive(Debug, Clone)]
pub(crate) struct Raster {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
    /// An RGB ICC profile to carry into the output.
    pub icc: Option<Vec<u8>>,
}

/// The pixel-limit error for a `width` × `height` picture over it.
pub(crate) fn too_large(width: u32, height: u32) -> Option<FixError> {
    crate::limits::image_too_large(width, height).map(FixError::Probe)
}

/// An ICC profile for RGB data (a CMYK profile must not follow converted pixels).
pub(crate) fn is_rgb_icc(profile: &[u8]) -> bool {
    profile.len() >= 128 && &profile[16..20] == b"RGB "
}

impl Raster {
    /// 8-bit RGB pixels, rows top to bottom, with no ICC profile.
    pub(crate) fn rgb(width: u32, height: u32, data: Vec<u8>) -> Raster {
        Raster {
            width,
            height,
            channels: 3,
            data,
            icc: None,
        }
    }

    /// The pixels turned as EXIF orientation `exif` (1–8) says, so that they
    /// stand as displayed. Works in 64×64 tiles to stay in cache.
    pub(crate) fn orient(self, exif: u8) -> Raster {
        match self.channels {
            3 => self.orient_n::<3>(exif),
            _ => self.orient_n::<4>(exif),
        }
    }

    fn orient_n<const C: usize>(self, exif: u8) -> Raster {
        if !(2..=8).contains(&exif) {
            return self;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let (ow, oh) = if exif >= 5 { (h, w) } else { (w, h) };
        // Source pixel of output pixel (x, y).
        let source = |x: usize, y: usize| -> usize {
            let (sx, sy) = match exif {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x), // 8
            };
            sy * w + sx
        };
        let src = &self.data;
        let mut data = vec![0u8; ow * oh * C];
        const TILE: usize = 64;
        for ty in (0..oh).step_by(TILE) {
            for tx in (0..ow).step_by(TILE) {
                for y in ty..(ty + TILE).min(oh) {
                    let row = &mut data[y * ow * C..(y + 1) * ow * C];
                    for x in tx..(tx + TILE).min(ow) {
                        let s = source(x, y) * C;
                        row[x * C..x * C + C].copy_from_slice(&src[s..s + C]);
                    }
                }
            }
        }
        Raster {
            width: ow as u32,
            height: oh as u32,
            channels: self.channels,
            data,
            icc: self.icc,
        }
    }

    /// Any pixel not fully opaque.
    fn has_transparency(&self) -> bool {
        self.channels == 4 && self.data.chunks_exact(4).any(|p| p[3] < 255)
    }

    fn drop_alpha(self) -> Raster {
        if self.channels != 4 {
            return self;
        }
        let mut data = self.data;
        let pixels = data.len() / 4;
        for i in 0..pixels {
            data.copy_within(i * 4..i * 4 + 3, i * 3);
        }
        data.truncate(pixels * 3);
        Raster {
            channels: 3,
            data,
            ..self
        }
    }

    /// Transparency laid over `bg`.
    fn flatten(self, bg: [u8; 3]) -> Raster {
        if self.channels != 4 {
            return self;
        }
        let mut data = self.data;
        for px in data.chunks_exact_mut(4) {
            let a = px[3] as u32;
            for c in 0..3 {
                px[c] = ((px[c] as u32 * a + bg[c] as u32 * (255 - a) + 127) / 255) as u8;
            }
            px[3] = 255;
        }
        Raster { data, ..self }.drop_alpha()
    }
}

/// A finished output, in memory.
pub(crate) struct Rendered {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub has_alpha: bool,
}

/// The scaled, padded canvas for `layout`.
fn compose<'a>(
    src: &'a Raster,
    layout: &Layout,
    fill: PadFill,
) -> Result<Cow<'a, Raster>, FixError> {
    let content = if (src.width, src.height) == (layout.content_width, layout.content_height) {
        Cow::Borrowed(src)
    } else {
        Cow::Owned(resize::resize(
            src,
            layout.content_width,
            layout.content_height,
        )?)
    };
    if !layout.is_padded() {
        return Ok(content);
    }
    Ok(Cow::Owned(pad::pad(&content, layout, fill)?))
}

/// Carries out `plan` on the picture at `input`, in memory.
pub(crate) fn render(
    input: &Path,
    facts: &ImageFacts,
    plan: &ImagePlan,
    spec: &Spec,
) -> Result<Rendered, FixError> {
    let mut src = decode::decode(input, facts)?;
    if (src.width, src.height) != (plan.source_width, plan.source_height) {
        return Err(FixError::Image(format!(
            "decoded {}x{}, but the header said {}x{}",
            src.width, src.height, plan.source_width, plan.source_height
        )));
    }
    if src.channels == 4 {
        src = if !src.has_transparency() {
            src.drop_alpha()
        } else if plan.output == OutputFormat::Jpeg {
            let bg = match plan.fill {
                PadFill::Color(c) => c,
                _ => [255, 255, 255],
            };
            src.flatten(bg)
        } else {
            src
        };
    }

    let mut layout = plan.layout;
    loop {
        let canvas = compose(&src, &layout, plan.fill)?;
        match encode::fit(&canvas, plan.output, plan.max_bytes)? {
            encode::Fit::Fits(bytes, _quality) => {
                return Ok(Rendered {
                    bytes,
                    width: canvas.width,
                    height: canvas.height,
                    format: plan.output,
                    has_alpha: canvas.channels == 4,
                })
            }
            encode::Fit::TooBig { smallest } => {
                let budget = plan.max_bytes.unwrap_or(u64::MAX);
                // Bytes grow about with the area: aim a little under the budget,
                // at least 10% smaller per step.
                let factor = ((budget as f64 / smallest as f64).sqrt() * 0.97).clamp(0.3, 0.9);
                let long = layout.content_width.max(layout.content_height) as f64;
                let cap = (long * factor).floor() as u64;
                let next = fit(src.width, src.height, &spec.image, Some(cap))
                    .map_err(|_| FixError::Image("no size meets every rule".into()))?;
                if next == layout {
                    return Err(FixError::Image(format!(
                        "even at the smallest size allowed ({}x{}) the picture needs {smallest} bytes, \
                         over the budget of {budget}",
                        layout.width, layout.height
                    )));
                }
                layout = next;
            }
        }
    }
}

/// Writes the repaired picture to `output` (a temporary path chosen by
/// [`crate::fix::execute`], which checks it again and renames it).
pub fn execute(
    input: &Path,
    facts: &ImageFacts,
    plan: &ImagePlan,
    spec: &Spec,
    output: &Path,
) -> Result<(), FixError> {
    let rendered = render(input, facts, plan, spec)?;
    std::fs::write(output, &rendered.bytes)?;
    Ok(())
}

/// Carries out `plan` on the picture at `input` in memory: the bytes of the
/// output, and its facts (known from what was encoded, not probed again).
pub(crate) fn render_to_memory(
    input: &Path,
    facts: &ImageFacts,
    plan: &ImagePlan,
    spec: &Spec,
) -> Result<(Vec<u8>, ImageFacts), FixError> {
    let rendered = render(input, facts, plan, spec)?;
    let after = ImageFacts {
        format: rendered.format.image_format(),
        stored_width: rendered.width,
        stored_height: rendered.height,
        width: rendered.width,
        height: rendered.height,
        bytes: rendered.bytes.len() as u64,
        bit_depth: 8,
        has_alpha: rendered.has_alpha,
        color_model: ColorModel::Rgb,
        orientation: 1,
    };
    Ok((rendered.bytes, after))
}

/// The picture at `path` upright, as 8-bit RGB with its long side between
/// `min_side` and `max_side` (alpha dropped): the working copy the pose
/// models look at. A large JPEG is decoded at a reduced size no smaller than
/// `min_side` ([`decode::decode_reduced`]); what is still larger than
/// `max_side` is scaled down with Lanczos3. A picture under `min_side` is
/// left as it is. Also returns the full upright size.
pub(crate) fn rgb_for_analysis(
    path: &Path,
    facts: &ImageFacts,
    (min_side, max_side): (u32, u32),
) -> Result<(Raster, (u32, u32)), FixError> {
    let (raster, full) = match decode::decode_reduced(path, facts, min_side)? {
        // A JPEG's upright size, as its header and orientation give it.
        Some(reduced) => (reduced, (facts.width, facts.height)),
        None => {
            let raster = decode::decode(path, facts)?;
            let full = (raster.width, raster.height);
            (raster, full)
        }
    };
    let raster = shrink_to(raster, max_side)?;
    Ok((to_rgb(raster), full))
}

/// `raster` scaled down so that its long side is at most `max_side`.
pub(crate) fn shrink_to(raster: Raster, max_side: u32) -> Result<Raster, FixError> {
    let long = raster.width.max(raster.height);
    if long <= max_side || max_side == 0 {
        return Ok(raster);
    }
    let k = f64::from(max_side) / f64::from(long);
    let w = ((f64::from(raster.width) * k).round() as u32).max(1);
    let h = ((f64::from(raster.height) * k).round() as u32).max(1);
    resize::resize(&raster, w, h)
}

/// Three channels: alpha dropped.
pub(crate) fn to_rgb(raster: Raster) -> Raster {
    if raster.channels == 3 {
        return raster;
    }
    let data = raster
        .data
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Raster {
        channels: 3,
        data,
        ..raster
    }
}

/// PNG bytes (fast compression) of 8-bit RGB pixels.
pub(crate) fn rgb_png(width: u32, height: u32, data: Vec<u8>) -> Result<Vec<u8>, FixError> {
    encode::png(&Raster::rgb(width, height, data), false)
}

/// The upright picture at `path` cut to `crop` (pixels of the upright
/// picture), encoded as JPEG at quality 95 when the input is a JPEG and as
/// PNG otherwise; returns the bytes and their extension.
pub(crate) fn crop_picture(
    path: &Path,
    facts: &ImageFacts,
    crop: &crate::content::framing::Crop,
) -> Result<(Vec<u8>, &'static str), FixError> {
    let raster = decode::decode(path, facts)?;
    let ch = raster.channels as usize;
    let (x0, y0) = (
        crop.x.min(raster.width) as usize,
        crop.y.min(raster.height) as usize,
    );
    let w = (crop.width as usize).min(raster.width as usize - x0);
    let h = (crop.height as usize).min(raster.height as usize - y0);
    let mut data = Vec::with_capacity(w * h * ch);
    let stride = raster.width as usize * ch;
    for y in y0..y0 + h {
        data.extend_from_slice(&raster.data[y * stride + x0 * ch..y * stride + (x0 + w) * ch]);
    }
    let cut = Raster {
        width: w as u32,
        height: h as u32,
        channels: raster.channels,
        data,
        icc: raster.icc,
    };
    if facts.format == crate::facts::ImageFormat::Jpeg {
        Ok((encode::jpeg(&to_rgb(cut), 95, false)?, "jpg"))
    } else {
        Ok((encode::png(&cut, false)?, "png"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::metadata::Orientation;
    use image::{DynamicImage, RgbImage};

    #[test]
    fn orient_matches_the_image_crate_for_all_eight() {
        let (w, h) = (5u32, 3u32);
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        for exif in 1..=8u8 {
            let mut reference = DynamicImage::ImageRgb8(img.clone());
            reference.apply_orientation(Orientation::from_exif(exif).unwrap());
            let ours = Raster {
                width: w,
                height: h,
                channels: 3,
                data: img.as_raw().clone(),
                icc: None,
            }
            .orient(exif);
            assert_eq!(
                (ours.width, ours.height),
                (reference.width(), reference.height())
            );
            assert_eq!(
                ours.data,
                reference.to_rgb8().into_raw(),
                "orientation {exif}"
            );
        }
    }

    #[test]
    fn flatten_and_drop_alpha() {
        let r = Raster {
            width: 2,
            height: 1,
            channels: 4,
            data: vec![10, 20, 30, 255, 200, 0, 0, 0],
            icc: None,
        };
        assert!(r.has_transparency());
        let flat = r.flatten([255, 255, 255]);
        assert_eq!(flat.channels, 3);
        assert_eq!(flat.data, vec![10, 20, 30, 255, 255, 255]);
    }
}
