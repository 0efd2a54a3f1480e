//! Full decodes of arbitrary bytes: an image goes through the whole in-memory
//! repair (decode, orient, resize, pad, encode) and the content analysis's
//! reduced decode of a large JPEG, a video through the cut scan's
//! decode of every frame, under lowered decode limits so each run stays short.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use preflight::DecodeLimits;
use preflight::{FixOptions, MediaFacts, Model, Orientation, Provider, Spec};

/// Pictures past this are left to the pixel-limit tests: a 60-byte header can
/// claim the whole 2^28-pixel allowance, and each such run would take seconds.
const MAX_FUZZ_PIXELS: u64 = 16_000_000;

fuzz_target!(|data: &[u8]| {
    let path = scratch::path("decode");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    match preflight::probe(&path) {
        Ok(MediaFacts::Image(image)) => {
            let pixels = u64::from(image.stored_width) * u64::from(image.stored_height);
            if pixels <= MAX_FUZZ_PIXELS {
                let spec = Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Image)
                    .expect("kling v3 is sold");
                let _ = preflight::base64_image(&path, &spec, &FixOptions::default());
                // The content analysis decodes a large JPEG with another
                // decoder (jpeg-decoder, at a reduced size).
                let _ = preflight::__bench::decode_reduced(&path, 896);
            }
        }
        Ok(MediaFacts::Video(_)) => {
            let mut limits = DecodeLimits::default();
            limits.max_video_pixels = 4_000_000;
            limits.max_decoded_frames = 600;
            limits.max_scan_us = 20_000_000;
            let _ = preflight::scenes(&path, &limits);
        }
        Err(_) => {}
    }
});
