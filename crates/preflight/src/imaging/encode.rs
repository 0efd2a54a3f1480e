//! Encoding, and the search for the best quality that fits the byte budget.
//!
//! JPEG: jpeg-encoder (AVX2), baseline, 4:2:0, no metadata but an RGB ICC
//! profile; optimised Huffman tables once the budget is tight. PNG: the `png` crate through `image`.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::Raster;
use crate::error::FixError;
use crate::plan::image::{OutputFormat, JPEG_MAX_SIDE};

/// The quality used when the budget allows it: visually lossless for photos.
pub(crate) const JPEG_QUALITY_TOP: u8 = 92;
/// The lowest quality tried before the picture is made smaller instead.
pub(crate) const JPEG_QUALITY_FLOOR: u8 = 50;

/// `optimize`: two-pass optimised Huffman tables, 5–10% smaller files for about
/// 15% more encoding time; used when the byte budget is tight.
pub(crate) fn jpeg(img: &Raster, quality: u8, optimize: bool) -> Result<Vec<u8>, FixError> {
    let err = |e: jpeg_encoder::EncodingError| FixError::Image(format!("JPEG encode: {e}"));
    if img.width > JPEG_MAX_SIDE || img.height > JPEG_MAX_SIDE {
        return Err(FixError::Image(format!(
            "{}x{} is over JPEG's largest side of {JPEG_MAX_SIDE} px",
            img.width, img.height
        )));
    }
    let color = match img.channels {
        3 => ColorType::Rgb,
        // The alpha channel is ignored by the encoder; callers flatten first.
        4 => ColorType::Rgba,
        n => return Err(FixError::Image(format!("JPEG encode: {n} channels"))),
    };
    // About 1 bit per pixel is typical at high quality; grow from there.
    let mut out = Vec::with_capacity((img.width as usize * img.height as usize / 6).max(4096));
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
    encoder.set_optimized_huffman_tables(optimize);
    if let Some(icc) = &img.icc {
        encoder.add_icc_profile(icc).map_err(err)?;
    }
    encoder
        .encode(&img.data, img.width as u16, img.height as u16, color)
        .map_err(err)?;
    Ok(out)
}

pub(crate) fn png(img: &Raster, best: bool) -> Result<Vec<u8>, FixError> {
    let mut out = Vec::new();
    let compression = if best {
        CompressionType::Best
    } else {
        CompressionType::Fast
    };
    let mut encoder = PngEncoder::new_with_quality(&mut out, compression, FilterType::Adaptive);
    if let Some(icc) = &img.icc {
        // PNG takes any ICC profile; the error case is for other formats.
        let _ = encoder.set_icc_profile(icc.clone());
    }
    let color = match img.channels {
        3 => ExtendedColorType::Rgb8,
        4 => ExtendedColorType::Rgba8,
        n => return Err(FixError::Image(format!("PNG encode: {n} channels"))),
    };
    encoder
        .write_image(&img.data, img.width, img.height, color)
        .map_err(|e| FixError::Image(format!("PNG encode: {e}")))?;
    Ok(out)
}

/// The outcome of fitting one canvas into the budget.
pub(crate) enum Fit {
    /// The encoded file, and the JPEG quality used.
    Fits(Vec<u8>, Option<u8>),
    /// Even the smallest encoding is over the budget: `smallest` bytes.
    TooBig { smallest: u64 },
}

/// The best encoding of `img` in `format` that is at most `max_bytes`: for
/// JPEG the highest quality from `JPEG_QUALITY_TOP` down to
/// `JPEG_QUALITY_FLOOR` that fits (binary search over the encoded size); for
/// PNG fast compression, then the best compression.
pub(crate) fn fit(
    img: &Raster,
    format: OutputFormat,
    max_bytes: Option<u64>,
) -> Result<Fit, FixError> {
    let fits = |b: &[u8]| max_bytes.is_none_or(|m| b.len() as u64 <= m);
    match format {
        OutputFormat::Png => {
            let fast = png(img, false)?;
            if fits(&fast) {
                return Ok(Fit::Fits(fast, None));
            }
            let best = png(img, true)?;
            if fits(&best) {
                return Ok(Fit::Fits(best, None));
            }
            Ok(Fit::TooBig {
                smallest: best.len() as u64,
            })
        }
        OutputFormat::Jpeg => {
            let top = jpeg(img, JPEG_QUALITY_TOP, false)?;
            if fits(&top) {
                return Ok(Fit::Fits(top, Some(JPEG_QUALITY_TOP)));
            }
            let floor = jpeg(img, JPEG_QUALITY_FLOOR, true)?;
            if !fits(&floor) {
                return Ok(Fit::TooBig {
                    smallest: floor.len() as u64,
                });
            }
            // Invariant: `lo` fits (its bytes in `best`), everything above `hi` does not.
            let (mut lo, mut hi) = (JPEG_QUALITY_FLOOR, JPEG_QUALITY_TOP - 1);
            let mut best = floor;
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                let bytes = jpeg(img, mid, true)?;
                if fits(&bytes) {
                    lo = mid;
                    best = bytes;
                } else {
                    hi = mid - 1;
                }
            }
            Ok(Fit::Fits(best, Some(lo)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32) -> Raster {
        let mut state = 0x2545_f491_u32;
        let data = (0..w * h * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect();
        Raster {
            width: w,
            height: h,
            channels: 3,
            data,
            icc: None,
        }
    }

    #[test]
    fn the_budget_gets_the_highest_quality_that_fits() {
        let img = noise(192, 128);
        let at = |q| jpeg(&img, q, true).unwrap().len() as u64;
        let budget = at(71) - 1; // q71 just misses, lower qualities fit
        let Fit::Fits(bytes, Some(q)) = fit(&img, OutputFormat::Jpeg, Some(budget)).unwrap() else {
            panic!("a budget above the floor fits");
        };
        assert!(bytes.len() as u64 <= budget);
        assert_eq!(q, 70);
        assert!(at(q + 1) > budget);
        // Without pressure the top quality is used; below the floor, nothing fits.
        let Fit::Fits(_, Some(q)) = fit(&img, OutputFormat::Jpeg, None).unwrap() else {
            panic!()
        };
        assert_eq!(q, JPEG_QUALITY_TOP);
        let floor = at(JPEG_QUALITY_FLOOR);
        assert!(matches!(
            fit(&img, OutputFormat::Jpeg, Some(floor - 1)).unwrap(),
            Fit::TooBig { smallest } if smallest == floor
        ));
    }

    #[test]
    fn png_falls_back_to_best_compression() {
        let img = noise(64, 64);
        let fast = png(&img, false).unwrap().len() as u64;
        let best = png(&img, true).unwrap().len() as u64;
        match fit(&img, OutputFormat::Png, Some(best.max(fast))).unwrap() {
            Fit::Fits(bytes, None) => assert!(bytes.len() as u64 <= best.max(fast)),
            _ => panic!("fits"),
        }
        assert!(matches!(
            fit(&img, OutputFormat::Png, Some(best.min(fast) - 1)).unwrap(),
            Fit::TooBig { .. }
        ));
    }
}
