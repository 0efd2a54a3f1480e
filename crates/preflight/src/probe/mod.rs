//! `probe(path)`: facts about an image or video, from its headers and metadata.
//! Files are identified by content ([`crate::sniff`]), never by extension, and
//! videos are never decoded here. This module only dispatches: the image prober
//! lives beside the image decoders, the video prober beside FFmpeg.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::ProbeError;
use crate::facts::MediaFacts;
use crate::sniff::{sniff, Sniffed, SNIFF_LEN};

/// Facts about the image or video at `path`, read from its headers.
///
/// A panic inside a decoder is contained and returned as
/// [`ProbeError::Internal`].
pub fn probe(path: &Path) -> Result<MediaFacts, ProbeError> {
    // A panic in a decoder becomes this file's error, not the end of the run.
    std::panic::catch_unwind(|| probe_inner(path))
        .unwrap_or_else(|payload| Err(ProbeError::Internal(crate::error::panic_message(&*payload))))
}

/// What the first bytes of the file at `path` say it is, without probing it:
/// enough to sort files into images and videos before the work starts.
pub fn sniff_file(path: &Path) -> io::Result<Sniffed> {
    Ok(sniff(&read_head(&mut File::open(path)?)?))
}

fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
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
    let head = read_head(&mut file)?;
    match sniff(&head) {
        Sniffed::Image(format) => {
            crate::imaging::probe_image(path, format, &head, bytes).map(MediaFacts::Image)
        }
        Sniffed::Video(container) => {
            crate::av::probe_video(path, Some(container), bytes).map(MediaFacts::Video)
        }
        Sniffed::Unknown => crate::av::probe_video(path, None, bytes).map(MediaFacts::Video),
    }
}
