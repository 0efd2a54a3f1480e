//! The image repair's stages one at a time: decode, resize, pad, encode. The
//! same code `execute` runs, opened up for benchmarks and for tools that put
//! their own pipeline together. The plan still decides sizes: `plan::image::fit`
//! gives the `Layout` that `pad` fills.

use std::path::Path;

use super::{decode, encode, pad, resize, Raster};
use crate::error::FixError;
use crate::facts::ImageFacts;
use crate::plan::image::Layout;
use crate::plan::PadFill;

/// Decoded pixels, upright, 8-bit RGB or RGBA.
#[derive(Debug, Clone)]
pub struct Picture(Raster);

impl Picture {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.0.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.0.height
    }

    /// 3 (RGB) or 4 (RGBA).
    pub fn channels(&self) -> u8 {
        self.0.channels
    }
}

/// Decodes the picture at `path` (whose `facts` were probed), turned upright by
/// its EXIF orientation, under the same pixel limit as `fix`.
pub fn decode(path: &Path, facts: &ImageFacts) -> Result<Picture, FixError> {
    decode::decode(path, facts).map(Picture)
}

/// `picture` scaled to `width` × `height` (Lanczos3 down, bicubic up).
pub fn resize(picture: &Picture, width: u32, height: u32) -> Result<Picture, FixError> {
    resize::resize(&picture.0, width, height).map(Picture)
}

/// `picture`, already at the layout's content size, centred on its canvas.
pub fn pad(picture: &Picture, layout: &Layout, fill: PadFill) -> Result<Picture, FixError> {
    pad::pad(&picture.0, layout, fill).map(Picture)
}

/// Baseline JPEG, 4:2:0, at `quality` (1–100).
pub fn encode_jpeg(picture: &Picture, quality: u8) -> Result<Vec<u8>, FixError> {
    encode::jpeg(&picture.0, quality, false)
}

/// PNG, fast compression.
pub fn encode_png(picture: &Picture) -> Result<Vec<u8>, FixError> {
    encode::png(&picture.0, false)
}
