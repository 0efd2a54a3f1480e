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

/// A JPEG decoded at the smallest of 1/8, 1/4 and 1/2 of its size whose long
/// side is still at least `min_long`, as 8-bit RGB, upright: reduced IDCTs, so
/// the pixels that would be thrown away are never made. `None` when no
/// reduction applies, or when jpeg-decoder gives no 8-bit RGB or grey (CMYK,
/// 16-bit, a file it rejects): then the caller decodes in full, with the
/// decoder every other path uses.
pub(crate) fn decode_reduced(
    path: &Path,
    facts: &ImageFacts,
    min_long: u32,
) -> Result<Option<Raster>, FixError> {
    let (stored_w, stored_h) = (facts.stored_width, facts.stored_height);
    let scale = reduction(stored_w.max(stored_h), min_long);
    if facts.format != ImageFormat::Jpeg || scale == 1 {
        return Ok(None);
    }
    if let Some(err) = too_large(stored_w, stored_h) {
        return Err(err);
    }
    let file = File::open(path)?;
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::with_capacity(1 << 16, file));
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_DECODE_ALLOC).unwrap_or(usize::MAX));
    let wanted = |side: u32| u16::try_from(side.div_ceil(scale)).unwrap_or(u16::MAX);
    let Ok((w, h)) = decoder.scale(wanted(stored_w), wanted(stored_h)) else {
        return Ok(None);
    };
    let (Ok(pixels), Some(info)) = (decoder.decode(), decoder.info()) else {
        return Ok(None);
    };
    let data = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        _ => return Ok(None),
    };
    let (width, height) = (u32::from(w), u32::from(h));
    if data.len() != width as usize * height as usize * 3 {
        return Ok(None);
    }
    Ok(Some(
        Raster::rgb(width, height, data).orient(facts.orientation),
    ))
}

/// The JPEG scale denominator (8, 4, 2, else 1) that leaves a `long` side at
/// least `min_long`.
fn reduction(long: u32, min_long: u32) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&k| long.div_ceil(k) >= min_long.max(1))
        .unwrap_or(1)
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

#[cfg(test)]
mod tests {
    use super::{decode_reduced, reduction};
    use crate::facts::{ImageFacts, MediaFacts};
    use crate::imaging::rgb_for_analysis;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// ImageMagick's `convert` with `args` (input and output included).
    fn convert(args: &[&str]) {
        let status = Command::new("convert")
            .args(args)
            .status()
            .expect("convert");
        assert!(status.success(), "convert {args:?}");
    }

    /// The fixture image `source` made over by ImageMagick (`args` between
    /// input and output) into `dir/name`, with its probed facts.
    fn derived(dir: &Path, source: &str, args: &[&str], name: &str) -> (PathBuf, ImageFacts) {
        let input = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/images")
            .join(source);
        let output = dir.join(name);
        let mut all = vec![input.to_str().unwrap()];
        all.extend_from_slice(args);
        all.push(output.to_str().unwrap());
        convert(&all);
        match crate::probe::probe(&output).expect("probe") {
            MediaFacts::Image(facts) => (output, facts),
            MediaFacts::Video(_) => panic!("{name} is not a picture"),
        }
    }

    /// ImageMagick's own upright picture of `path` at `w` × `h` (Lanczos).
    fn reference(path: &Path, (w, h): (u32, u32), dir: &Path) -> Vec<u8> {
        let out = dir.join("reference.png");
        let size = format!("{w}x{h}!");
        let (input, output) = (path.to_str().unwrap(), out.to_str().unwrap());
        convert(&[
            input,
            "-auto-orient",
            "-colorspace",
            "sRGB",
            "-resize",
            &size,
            output,
        ]);
        image::open(&out).expect("reference").to_rgb8().into_raw()
    }

    #[test]
    fn the_reduction_keeps_the_long_side_at_least_the_minimum() {
        for (long, k) in [
            (4000, 4),
            (4032, 4),
            (3264, 2),
            (8000, 8),
            (2000, 2),
            (1791, 2),
        ] {
            assert_eq!(reduction(long, 896), k, "{long}");
        }
        for long in [0, 1, 895, 896, 1024, 1790] {
            assert_eq!(reduction(long, 896), 1, "{long}");
        }
        for long in 0..20_000 {
            let k = reduction(long, 896);
            assert!(k == 1 || long.div_ceil(k) >= 896, "{long}: 1/{k}");
            assert!(
                k == 8 || long.div_ceil(k * 2) < 896,
                "{long}: 1/{k} is not the most"
            );
        }
    }

    /// A phone photo's size with EXIF orientation 6: decoded at 1/4, turned
    /// upright, and the same picture as ImageMagick's (orient, then Lanczos).
    #[test]
    fn a_large_turned_jpeg_is_decoded_reduced_and_upright() {
        let dir = tempfile::tempdir().unwrap();
        let source = "exif6_stored_1280x720_displays_720x1280.jpg";
        let args = ["-resize", "400%", "-quality", "92"];
        let (big, facts) = derived(dir.path(), source, &args, "big.jpg");
        assert_eq!(
            (facts.stored_width, facts.stored_height, facts.orientation),
            (5120, 2880, 6)
        );
        let reduced = decode_reduced(&big, &facts, 896)
            .unwrap()
            .expect("a reduced decode");
        assert_eq!(
            (reduced.width, reduced.height, reduced.channels),
            (720, 1280, 3)
        );
        let (work, full) = rgb_for_analysis(&big, &facts, (896, 1024)).unwrap();
        assert_eq!(full, (2880, 5120));
        assert_eq!((work.width, work.height, work.channels), (576, 1024, 3));
        let expected = reference(&big, (576, 1024), dir.path());
        let diff = crate::av::scenes::diff(&work.data, &expected);
        assert!(diff < 1.5, "{diff:.2} levels from ImageMagick's");
    }

    /// jpeg-decoder gives CMYK as CMYK: the full decode (which turns it RGB)
    /// takes over.
    #[test]
    fn a_large_cmyk_jpeg_is_decoded_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let args = ["-resize", "300%"];
        let (big, facts) = derived(dir.path(), "cmyk_720x1280.jpg", &args, "cmyk.jpg");
        assert_eq!((facts.width, facts.height), (2160, 3840));
        assert!(decode_reduced(&big, &facts, 896).unwrap().is_none());
        let (work, full) = rgb_for_analysis(&big, &facts, (896, 1024)).unwrap();
        assert_eq!((full, work.width, work.height), ((2160, 3840), 576, 1024));
    }

    /// A grey JPEG comes out as RGB with three equal channels.
    #[test]
    fn a_large_grey_jpeg_is_decoded_reduced_as_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let args = ["-colorspace", "Gray"];
        let (big, facts) = derived(dir.path(), "panorama_3000x800.jpg", &args, "grey.jpg");
        let reduced = decode_reduced(&big, &facts, 896)
            .unwrap()
            .expect("a reduced decode");
        assert_eq!(
            (reduced.width, reduced.height, reduced.channels),
            (1500, 400, 3)
        );
        assert!(reduced
            .data
            .chunks_exact(3)
            .all(|p| p[0] == p[1] && p[1] == p[2]));
        assert!(reduced.data.iter().any(|&v| v > 0 && v < 255));
    }
}
