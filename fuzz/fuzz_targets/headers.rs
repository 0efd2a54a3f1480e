//! The pure header readers: signatures, MP4 box walk, JPEG frame header, and
//! the ends of JPEG, PNG and WebP files (cut short or whole).
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use preflight::facts::ImageFormat;
use preflight::sniff;

fuzz_target!(|data: &[u8]| {
    let _ = sniff::sniff(data);
    let _ = sniff::box_layout(&mut Cursor::new(data), data.len() as u64);
    let _ = sniff::jpeg_color(Cursor::new(data));
    let _ = sniff::png_is_palette(data);
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
        let _ = sniff::image_cut_short(&mut Cursor::new(data), format, data.len() as u64);
    }
});
