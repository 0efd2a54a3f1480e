//! Uniform scaling with fast_image_resize (SIMD convolution): Catmull-Rom to
//! enlarge (sharp, little ringing), Lanczos3 to reduce. Alpha is premultiplied
//! while filtering so transparent pixels do not bleed their colour.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::Raster;
use crate::error::FixError;

fn pixel_type(channels: u8) -> PixelType {
    if channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    }
}

/// `src` scaled to `width` × `height`; the raster itself when the size is unchanged.
pub(crate) fn resize(src: &Raster, width: u32, height: u32) -> Result<Raster, FixError> {
    if (src.width, src.height) == (width, height) {
        return Ok(src.clone());
    }
    resize_with(src, width, height, None)
}

/// `src` scaled with `filter` (or the default for the direction).
pub(crate) fn resize_with(
    src: &Raster,
    width: u32,
    height: u32,
    filter: Option<FilterType>,
) -> Result<Raster, FixError> {
    let err = |e: &dyn std::fmt::Display| FixError::Image(format!("resize: {e}"));
    let pixel = pixel_type(src.channels);
    let view = fast_image_resize::images::ImageRef::new(src.width, src.height, &src.data, pixel)
        .map_err(|e| err(&e))?;
    let mut dst = Image::new(width, height, pixel);
    let enlarging = width as u64 * height as u64 > src.width as u64 * src.height as u64;
    let filter = filter.unwrap_or(if enlarging {
        FilterType::CatmullRom
    } else {
        FilterType::Lanczos3
    });
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
    Resizer::new()
        .resize(&view, &mut dst, &options)
        .map_err(|e| err(&e))?;
    Ok(Raster {
        width,
        height,
        channels: src.channels,
        data: dst.into_vec(),
        icc: src.icc.clone(),
    })
}
