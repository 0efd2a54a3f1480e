//! HEIC/HEIF and AVIF through the system libheif (libheif-rs). libheif applies
//! the container's transforms (`irot`, `imir`, `clap`) itself, so the size it
//! reports and the pixels it decodes are already as displayed.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use libheif_rs::{ColorSpace, HeifContext, ImageHandle, LibHeif, RgbChroma};

use super::{is_rgb_icc, too_large, Raster};
use crate::error::FixError;
use crate::error::ProbeError;
use crate::facts::ColorModel;

/// Largest HEIF/AVIF file read into memory (phone pictures are a few MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

fn read(path: &Path) -> Result<Vec<u8>, ProbeError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(ProbeError::Unsupported(format!(
            "{len} bytes is more than this tool reads for a HEIF/AVIF picture ({MAX_FILE_BYTES})"
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn heif_error(err: libheif_rs::HeifError) -> ProbeError {
    // libheif ends some messages with a newline.
    ProbeError::Damaged(format!("libheif: {}", err.message.trim_end()))
}

/// What the HEIF/AVIF headers say about the primary picture.
pub(crate) struct HeifHeader {
    pub width: u32,
    pub height: u32,
    /// Size before the container's rotation (`ispe`).
    pub stored_width: u32,
    pub stored_height: u32,
    pub has_alpha: bool,
    pub bit_depth: u8,
    pub color_model: ColorModel,
}

fn header_of(handle: &ImageHandle) -> HeifHeader {
    let (width, height) = (handle.width(), handle.height());
    let (iw, ih) = (handle.ispe_width(), handle.ispe_height());
    let (stored_width, stored_height) = if iw > 0 && ih > 0 {
        (iw as u32, ih as u32)
    } else {
        (width, height)
    };
    let chroma = handle.chroma_bits_per_pixel();
    HeifHeader {
        width,
        height,
        stored_width,
        stored_height,
        has_alpha: handle.has_alpha_channel(),
        bit_depth: handle.luma_bits_per_pixel(),
        // libheif reports no chroma bits for monochrome pictures.
        color_model: if chroma == 0 || chroma == u8::MAX {
            ColorModel::Gray
        } else {
            ColorModel::Rgb
        },
    }
}

pub(crate) fn probe(path: &Path) -> Result<HeifHeader, ProbeError> {
    let bytes = read(path)?;
    let ctx = HeifContext::read_from_bytes(&bytes).map_err(heif_error)?;
    let handle = ctx.primary_image_handle().map_err(heif_error)?;
    let header = header_of(&handle);
    if header.width == 0 || header.height == 0 {
        return Err(ProbeError::Damaged(format!(
            "header gives an empty size {}x{}",
            header.width, header.height
        )));
    }
    Ok(header)
}

pub(crate) fn decode(path: &Path) -> Result<Raster, FixError> {
    let bytes = read(path)?;
    let ctx = HeifContext::read_from_bytes(&bytes).map_err(heif_error)?;
    let handle = ctx.primary_image_handle().map_err(heif_error)?;
    let header = header_of(&handle);
    if let Some(err) = too_large(header.width, header.height) {
        return Err(err);
    }
    let deep = header.bit_depth > 8;
    let chroma = match (header.has_alpha, deep) {
        (false, false) => RgbChroma::Rgb,
        (true, false) => RgbChroma::Rgba,
        (false, true) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    };
    let lib = LibHeif::new();
    let image = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(heif_error)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| FixError::Image("libheif gave no interleaved plane".into()))?;
    let channels: usize = if header.has_alpha { 4 } else { 3 };
    let (w, h) = (plane.width as usize, plane.height as usize);
    if too_large(plane.width, plane.height).is_some() || w == 0 || h == 0 {
        return Err(FixError::Image(format!(
            "libheif decoded an unexpected size {w}x{h}"
        )));
    }
    let sample_bytes = if deep { 2 } else { 1 };
    let row_bytes = w * channels * sample_bytes;
    if plane.stride < row_bytes || plane.data.len() < plane.stride * (h - 1) + row_bytes {
        return Err(FixError::Image(
            "libheif plane is smaller than its size".into(),
        ));
    }
    let mut data = Vec::with_capacity(w * h * channels);
    if deep {
        // Little-endian samples of `bits` bits: keep the top 8.
        let shift = plane.bits_per_pixel.clamp(9, 16) - 8;
        for row in plane.data.chunks(plane.stride).take(h) {
            data.extend(
                row[..row_bytes]
                    .chunks_exact(2)
                    .map(|s| (u16::from_le_bytes([s[0], s[1]]) >> shift).min(255) as u8),
            );
        }
    } else {
        for row in plane.data.chunks(plane.stride).take(h) {
            data.extend_from_slice(&row[..row_bytes]);
        }
    }
    let icc = handle
        .color_profile_raw()
        .map(|p| p.data)
        .filter(|p| is_rgb_icc(p));
    Ok(Raster {
        width: w as u32,
        height: h as u32,
        channels: channels as u8,
        data,
        icc,
    })
}
