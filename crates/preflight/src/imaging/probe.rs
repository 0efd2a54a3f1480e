//! Image facts from headers, beside the decoders that will read the pixels:
//! the `image` crate's decoders read only what they need for size, colour type
//! and orientation; HEIF and AVIF go through libheif.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

use image::{ExtendedColorType, ImageDecoder, ImageReader};

use super::{decode, heif};
use crate::error::ProbeError;
use crate::facts::{ColorModel, ImageFacts, ImageFormat};
use crate::limits::{image_too_large, MAX_IMAGE_PIXELS};
use crate::sniff;

/// Facts about the picture at `path`, which sniffing found to be `format`
/// (`head`: its first bytes; `bytes`: its size).
pub(crate) fn probe_image(
    path: &Path,
    format: ImageFormat,
    head: &[u8],
    bytes: u64,
) -> Result<ImageFacts, ProbeError> {
    let Some(image_format) = decode::image_format(format) else {
        return probe_heif(path, format, bytes);
    };
    let file = File::open(path)?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(image_format);
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let (stored_width, stored_height) = decoder.dimensions();
    if stored_width == 0 || stored_height == 0 {
        return Err(ProbeError::Damaged(format!(
            "header gives an empty size {stored_width}x{stored_height}"
        )));
    }
    if let Some(err) = image_too_large(stored_width, stored_height) {
        return Err(err);
    }
    // A file cut short passes every header read above, and one that needs no
    // repair would be sent as it is.
    if let Some(reason) = sniff::image_cut_short(&mut File::open(path)?, format, bytes)? {
        return Err(ProbeError::Damaged(reason));
    }
    let original = decoder.original_color_type();
    let has_alpha = decoder.color_type().has_alpha();
    let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    let (mut bit_depth, mut color_model) = color_of(original);
    if format == ImageFormat::Jpeg {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(0))?;
        if let Some((precision, model)) = sniff::jpeg_color(BufReader::new(file))? {
            bit_depth = precision;
            color_model = model;
        }
    }
    if format == ImageFormat::Png && sniff::png_is_palette(head) {
        color_model = ColorModel::Palette;
    }
    // The GIF decoder always gives RGBA; the first frame is transparent only
    // when its graphic control extension names a transparent colour.
    let has_alpha = if format == ImageFormat::Gif {
        let file = File::open(path)?;
        sniff::gif_first_frame_transparent(BufReader::new(file))?.unwrap_or(has_alpha)
    } else if has_alpha && matches!(format, ImageFormat::Bmp | ImageFormat::Tiff) {
        alpha_is_used(path, image_format)?
    } else {
        has_alpha
    };
    // EXIF orientations 5–8 turn the picture a quarter: width and height swap.
    let (width, height) = if (5..=8).contains(&orientation) {
        (stored_height, stored_width)
    } else {
        (stored_width, stored_height)
    };
    Ok(ImageFacts {
        format,
        stored_width,
        stored_height,
        width,
        height,
        bytes,
        bit_depth,
        has_alpha,
        color_model,
        orientation,
    })
}

/// BMP and TIFF writers often add an alpha channel nobody uses (every pixel
/// opaque), and their headers cannot say: the pixels are read, under the same
/// limits as a repair, to tell. These formats are rare and uncompressed or
/// cheap to decode.
fn alpha_is_used(path: &Path, format: image::ImageFormat) -> Result<bool, ProbeError> {
    use image::GenericImageView;
    let file = File::open(path)?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 4);
    reader.limits(limits);
    let img = reader.decode().map_err(damaged)?;
    Ok(img.color().has_alpha() && img.pixels().any(|(_, _, p)| p.0[3] < 255))
}

/// HEIF and AVIF through libheif, which applies the container's rotation and
/// mirroring itself: the size reported is the displayed one and there is no
/// EXIF orientation left to honour.
fn probe_heif(path: &Path, format: ImageFormat, bytes: u64) -> Result<ImageFacts, ProbeError> {
    let header = heif::probe(path)?;
    if let Some(err) = image_too_large(header.width, header.height) {
        return Err(err);
    }
    Ok(ImageFacts {
        format,
        stored_width: header.stored_width,
        stored_height: header.stored_height,
        width: header.width,
        height: header.height,
        bytes,
        bit_depth: header.bit_depth,
        has_alpha: header.has_alpha,
        color_model: header.color_model,
        orientation: 1,
    })
}

fn damaged(err: image::ImageError) -> ProbeError {
    match err {
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ProbeError::Damaged("the header ends early".into())
        }
        other => ProbeError::Damaged(other.to_string()),
    }
}

fn color_of(color: ExtendedColorType) -> (u8, ColorModel) {
    use ExtendedColorType as C;
    let channels = color.channel_count().max(1) as u16;
    let depth = (color.bits_per_pixel() / channels).min(255) as u8;
    let model = match color {
        C::L1 | C::La1 | C::L2 | C::La2 | C::L4 | C::La4 | C::L8 | C::La8 | C::L16 | C::La16 => {
            ColorModel::Gray
        }
        C::Cmyk8 | C::Cmyk16 => ColorModel::Cmyk,
        C::Unknown(_) => ColorModel::Other,
        _ => ColorModel::Rgb,
    };
    (depth, model)
}
