//! Decoding into 8-bit RGB or RGBA, upright. Every decoder runs under limits:
//! the size a header claims is checked against `MAX_IMAGE_PIXELS` before any
//! pixel buffer is allocated, and the `image` crate's own allocation limit is set.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::{heif, is_rgb_icc, too_large, Raster};
use crate::error::FixError;
use crate::facts::{ImageFacts, ImageFormat};
use crate::limits::MAX_IMAGE_PIXELS;

/// Bytes the `image` decoders may allocate in all: an 8-bit RGBA picture at the
/// pixel limit (deeper pictures get proportionally fewer pixels).
const MAX_DECODE_ALLOC: u64 = MAX_IMAGE_PIXELS * 4;

/// The `image` crate's name for `format`; `None` for the formats libheif reads.
pub(crate) fn image_format(format: ImageFormat) -> Option<image::ImageFormat> {
    Some(match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
        ImageFormat::Heif | ImageFormat::Avif => return None,
    })
}

fn decode_error(err: image::ImageError) -> FixError {
    FixError::Image(format!("cannot decode: {err}"))
}

/// Decodes `path` (whose facts were probed) into upright 8-bit pixels: EXIF
/// orientation applied, CMYK turned RGB, 16-bit reduced, grey expanded; alpha
/// kept when the picture has it.
pub(crate) fn decode(path: &Path, facts: &ImageFacts) -> Result<Raster, FixError> {
    let Some(format) = image_format(facts.format) else {
        return heif::decode(path);
    };
    let file = File::open(path)?;
    let mut reader = ImageReader::new(BufReader::with_capacity(1 << 16, file));
    reader.set_format(format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    if let Some(err) = too_large(w, h) {
        return Err(err);
    }
    if w == 0 || h == 0 {
        return Err(FixError::Image(format!("empty picture {w}x{h}")));
    }
    let icc = decoder
        .icc_profile()
        .ok()
        .flatten()
        .filter(|p| is_rgb_icc(p));
    let img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok(into_raster(img, icc).orient(facts.orientation))
}

/// 8-bit RGB or RGBA, moving the buffer when it already is.
pub(crate) fn into_raster(img: DynamicImage, icc: Option<Vec<u8>>) -> Raster {
    let (width, height) = (img.width(), img.height());
    if img.color().has_alpha() {
        Raster {
            width,
            height,
            channels: 4,
            data: img.into_rgba8().into_raw(),
            icc,
        }
    } else {
        Raster {
            width,
            height,
            channels: 3,
            data: img.into_rgb8().into_raw(),
            icc,
        }
    }
}
