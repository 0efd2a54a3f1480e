//! `probe(path)`: facts about an image or video, from its headers and metadata.
//! Files are identified by content, never by extension, and videos are never
//! decoded here.

mod image;
pub mod sniff;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::ProbeError;
use crate::facts::MediaFacts;
use sniff::{sniff, Sniffed};

/// The largest image, in pixels, that this crate will decode (2^28, about 16k × 16k:
/// more than any phone camera makes). A header that claims more is refused before
/// anything is allocated for it.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 28;

pub fn probe(path: &Path) -> Result<MediaFacts, ProbeError> {
    // A panic in a decoder becomes this file's error, not the end of the run.
    std::panic::catch_unwind(|| probe_inner(path))
        .unwrap_or_else(|payload| Err(ProbeError::Internal(crate::error::panic_message(&*payload))))
}

fn probe_inner(path: &Path) -> Result<MediaFacts, ProbeError> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(ProbeError::Unrecognised(": it is a folder".into()));
    }
    let bytes = meta.len();
    if bytes == 0 {
        return Err(ProbeError::Empty);
    }
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    (&mut file)
        .take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    match sniff(&head) {
        Sniffed::Image(format) => {
            image::probe_image(path, format, &head, bytes).map(MediaFacts::Image)
        }
        Sniffed::Video(container) => {
            crate::av::probe_video(path, Some(container), bytes).map(MediaFacts::Video)
        }
        Sniffed::Unknown => crate::av::probe_video(path, None, bytes).map(MediaFacts::Video),
    }
}
