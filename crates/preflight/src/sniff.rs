//! Identifying a file by its first bytes, and reading the few header fields the
//! decoders do not expose. Pure functions over byte slices and bounded readers.
//!
//! Below [`probe`](mod@crate::probe), which uses it to choose a prober. Public for
//! the fuzz targets, which feed these parsers arbitrary bytes, and for tools
//! that sort files before probing them ([`probe::sniff_file`](crate::probe::sniff_file)).

use std::io::{self, Read, Seek, SeekFrom};

use crate::facts::{ColorModel, Container, ImageFormat};

/// What the first bytes say a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// An image format this crate decodes.
    Image(ImageFormat),
    /// A video container.
    Video(Container),
    /// Not one of the signatures we know; FFmpeg may still recognise it.
    Unknown,
}

/// How many leading bytes `sniff` wants.
pub const SNIFF_LEN: usize = 64;

const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
    b"mif2",
];
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];
/// Top-level atoms an old QuickTime file may start with instead of `ftyp`.
const QUICKTIME_FIRST_ATOMS: &[&[u8; 4]] = &[b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// What `head` (the first [`SNIFF_LEN`] bytes of a file, or fewer) says the
/// file is.
pub fn sniff(head: &[u8]) -> Sniffed {
    let starts = |sig: &[u8]| head.len() >= sig.len() && &head[..sig.len()] == sig;
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Image(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image(ImageFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Image(ImageFormat::Gif);
    }
    if starts(b"RIFF") && head.len() >= 12 {
        match &head[8..12] {
            b"WEBP" => return Sniffed::Image(ImageFormat::Webp),
            b"AVI " => return Sniffed::Video(Container::Avi),
            _ => {}
        }
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Sniffed::Image(ImageFormat::Tiff);
    }
    if starts(b"BM") && head.len() >= 18 {
        // The DIB header size tells a real BMP from text that starts with "BM".
        let dib = u32::from_le_bytes([head[14], head[15], head[16], head[17]]);
        if matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Sniffed::Image(ImageFormat::Bmp);
        }
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        let is_webm = head.windows(4).any(|w| w == b"webm");
        return Sniffed::Video(if is_webm {
            Container::Webm
        } else {
            Container::Matroska
        });
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return sniff_ftyp(head);
    }
    if head.len() >= 8 && QUICKTIME_FIRST_ATOMS.iter().any(|a| &head[4..8] == *a) {
        return Sniffed::Video(Container::Mov);
    }
    Sniffed::Unknown
}

/// ISO base media: the brands say HEIF, AVIF, QuickTime or MP4.
fn sniff_ftyp(head: &[u8]) -> Sniffed {
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.clamp(12, head.len());
    let major = &head[8..12];
    // Compatible brands start after the minor version (bytes 12..16).
    let brands: Vec<&[u8]> = std::iter::once(major)
        .chain(head.get(16..end).unwrap_or(&[]).chunks_exact(4))
        .collect();
    let has = |set: &[&[u8; 4]]| brands.iter().any(|b| set.iter().any(|s| *b == &s[..]));
    if has(AVIF_BRANDS) {
        return Sniffed::Image(ImageFormat::Avif);
    }
    if has(HEIF_BRANDS) {
        return Sniffed::Image(ImageFormat::Heif);
    }
    if major == b"qt  " {
        Sniffed::Video(Container::Mov)
    } else {
        Sniffed::Video(Container::Mp4)
    }
}

/// What the top-level boxes of an MP4/MOV file say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxLayout {
    /// Whether `moov` comes before `mdat`; `None` when either is missing.
    pub moov_first: Option<bool>,
    /// A box that claims more bytes than the file has.
    pub truncated: Option<String>,
}

/// Walks the top-level boxes of an ISO base media file, reading only their
/// 8- or 16-byte headers. Bounded: at most `MAX_BOXES` headers are read.
pub fn box_layout<R: Read + Seek>(reader: &mut R, file_len: u64) -> io::Result<BoxLayout> {
    const MAX_BOXES: usize = 1024;
    let mut pos = 0u64;
    let mut moov_first = None;
    for _ in 0..MAX_BOXES {
        if pos + 8 > file_len {
            break;
        }
        reader.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        reader.read_exact(&mut header)?;
        let kind = [header[4], header[5], header[6], header[7]];
        let mut size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
        if size == 1 {
            let mut large = [0u8; 8];
            if pos + 16 > file_len {
                return Ok(truncated(moov_first, &kind, 16, file_len - pos));
            }
            reader.read_exact(&mut large)?;
            size = u64::from_be_bytes(large);
        } else if size == 0 {
            // The box runs to the end of the file.
            size = file_len - pos;
        }
        if size < 8 {
            return Ok(BoxLayout {
                moov_first,
                truncated: Some(format!(
                    "box `{}` at byte {pos} has an impossible size {size}",
                    String::from_utf8_lossy(&kind)
                )),
            });
        }
        if moov_first.is_none() {
            match &kind {
                b"moov" => moov_first = Some(true),
                b"mdat" => moov_first = Some(false),
                _ => {}
            }
        }
        // `size` comes from the file: compare without adding, so a 64-bit size
        // near u64::MAX cannot overflow (found by fuzzing).
        if size > file_len - pos {
            return Ok(truncated(moov_first, &kind, size, file_len - pos));
        }
        pos += size;
    }
    Ok(BoxLayout {
        moov_first,
        truncated: None,
    })
}

fn truncated(moov_first: Option<bool>, kind: &[u8; 4], size: u64, remaining: u64) -> BoxLayout {
    BoxLayout {
        moov_first,
        truncated: Some(format!(
            "box `{}` declares {size} bytes but only {remaining} remain",
            String::from_utf8_lossy(kind)
        )),
    }
}

/// Colour facts of a JPEG from its frame header: sample precision and colour
/// model (CMYK and YCCK are 4 components; Adobe's APP14 tells them apart).
/// Reads at most `MAX_SCAN` bytes.
pub fn jpeg_color<R: Read>(reader: R) -> io::Result<Option<(u8, ColorModel)>> {
    const MAX_SCAN: u64 = 1 << 20;
    let mut bytes = Vec::new();
    reader.take(MAX_SCAN).read_to_end(&mut bytes)?;
    let mut adobe_transform = None;
    let mut i = 2; // after SOI
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return Ok(None);
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let body = bytes.get(i + 4..i + 2 + len).unwrap_or(&[]);
        match marker {
            // APP14 "Adobe": byte 11 of the segment body is the colour transform.
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => {
                adobe_transform = Some(body[11]);
            }
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if body.len() < 6 {
                    return Ok(None);
                }
                let precision = body[0];
                let components = body[5];
                let model = match components {
                    1 => ColorModel::Gray,
                    3 => ColorModel::Rgb,
                    4 if adobe_transform == Some(2) => ColorModel::Ycck,
                    4 => ColorModel::Cmyk,
                    _ => ColorModel::Other,
                };
                return Ok(Some((precision, model)));
            }
            0xDA | 0xD9 => return Ok(None),
            _ => {}
        }
        i += 2 + len;
    }
    Ok(None)
}

/// Whether the first frame of a GIF has a transparent colour: its graphic
/// control extension (before the first image descriptor) sets the flag.
/// `None` when the stream cannot be walked that far. Reads at most `MAX_SCAN`
/// bytes and skips blocks by their length bytes, allocating nothing from them.
pub fn gif_first_frame_transparent<R: Read>(reader: R) -> io::Result<Option<bool>> {
    const MAX_SCAN: u64 = 1 << 20;
    let mut bytes = Vec::new();
    reader.take(MAX_SCAN).read_to_end(&mut bytes)?;
    if bytes.len() < 13 || !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return Ok(None);
    }
    let flags = bytes[10];
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 0x07) + 1); // global colour table
    }
    let mut transparent = false;
    while i < bytes.len() {
        match bytes[i] {
            // Image descriptor: the first frame starts here.
            0x2C => return Ok(Some(transparent)),
            0x21 => {
                let label = *bytes.get(i + 1).unwrap_or(&0);
                // Graphic control extension: block size 4, then packed flags.
                if label == 0xF9 && bytes.get(i + 2) == Some(&4) {
                    transparent = bytes.get(i + 3).is_some_and(|p| p & 1 != 0);
                }
                // Skip the extension's sub-blocks.
                i += 2;
                loop {
                    let Some(&len) = bytes.get(i) else {
                        return Ok(None);
                    };
                    i += 1 + len as usize;
                    if len == 0 {
                        break;
                    }
                }
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// PNG colour type from IHDR (byte 25): 3 is an indexed palette.
pub fn png_is_palette(head: &[u8]) -> bool {
    head.len() > 25 && &head[12..16] == b"IHDR" && head[25] == 3
}

/// Why a JPEG, PNG or WebP of `file_len` bytes stops before its own end (an
/// interrupted download or copy), or `None` when it is whole or is another
/// format. Decoders fill the missing rows with grey or fail, and a file that
/// needs no repair is sent as it is: only the ends are read here, never the
/// pixels, and nothing is allocated from the header's numbers.
pub fn image_cut_short<R: Read + Seek>(
    reader: &mut R,
    format: ImageFormat,
    file_len: u64,
) -> io::Result<Option<String>> {
    match format {
        ImageFormat::Jpeg => jpeg_cut_short(reader, file_len),
        ImageFormat::Png => png_cut_short(reader, file_len),
        ImageFormat::Webp => webp_cut_short(reader, file_len),
        _ => Ok(None),
    }
}

/// A JPEG is whole when an end-of-image marker (FF D9) follows its first
/// scan: FF D9 cannot occur inside entropy-coded data (an FF there is
/// followed by 00 or a restart marker), and data appended after the picture
/// (a second, smaller picture, a maker's trailer) ends with one or comes
/// after it. Searched backwards from the end, so a whole file costs one read.
fn jpeg_cut_short<R: Read + Seek>(reader: &mut R, file_len: u64) -> io::Result<Option<String>> {
    let scan = match jpeg_first_scan(reader, file_len)? {
        FirstScan::At(scan) => scan,
        FirstScan::FileEnds => return Ok(Some("the JPEG stops before its picture data".into())),
        FirstScan::Unwalkable => return Ok(None),
    };
    const CHUNK: u64 = 64 * 1024;
    let mut buf = vec![0u8; CHUNK as usize + 1];
    let mut end = file_len;
    while end > scan {
        // One byte past the chunk, so a marker across two chunks is seen.
        let start = end.saturating_sub(CHUNK).max(scan);
        let len = (end + 1).min(file_len) - start;
        let window = &mut buf[..len as usize];
        reader.seek(SeekFrom::Start(start))?;
        reader.read_exact(window)?;
        if window.windows(2).any(|w| w == [0xFF, 0xD9]) {
            return Ok(None);
        }
        end = start;
    }
    Ok(Some(
        "the JPEG has no end-of-image marker after its picture data: the file was cut short \
         (an interrupted download or copy?), and the bottom of the picture is missing"
            .into(),
    ))
}

/// Where a JPEG's first scan starts, as far as its segments say.
enum FirstScan {
    /// Its entropy-coded data starts at this offset.
    At(u64),
    /// The file ends among the segments before it.
    FileEnds,
    /// Something other than a segment where one belongs: the decoder says
    /// what is wrong, not this walk.
    Unwalkable,
}

/// The segments walked by their lengths from the start to the first scan.
fn jpeg_first_scan<R: Read + Seek>(reader: &mut R, file_len: u64) -> io::Result<FirstScan> {
    let mut at = 2u64; // after SOI
    let mut header = [0u8; 4];
    while at + 4 <= file_len {
        reader.seek(SeekFrom::Start(at))?;
        reader.read_exact(&mut header)?;
        let length = u64::from(u16::from_be_bytes([header[2], header[3]]));
        match header {
            // A fill byte before a marker.
            [0xFF, 0xFF, ..] => at += 1,
            [0xFF, 0xDA, ..] => return Ok(FirstScan::At(at + 2 + length)),
            // Markers without a length (SOI, EOI, TEM, RST) do not belong here.
            [0xFF, 0xD0..=0xD9 | 0x01, ..] => return Ok(FirstScan::Unwalkable),
            [0xFF, ..] => at += 2 + length,
            _ => return Ok(FirstScan::Unwalkable),
        }
    }
    Ok(FirstScan::FileEnds)
}

/// A PNG is whole when its chunks, walked by their lengths, reach IEND
/// inside the file.
fn png_cut_short<R: Read + Seek>(reader: &mut R, file_len: u64) -> io::Result<Option<String>> {
    let mut at = 8u64; // after the signature
    let mut header = [0u8; 8];
    while at + 8 <= file_len {
        reader.seek(SeekFrom::Start(at))?;
        reader.read_exact(&mut header)?;
        if &header[4..] == b"IEND" {
            return Ok(None);
        }
        let length = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        // Length, type, data and CRC.
        at += 12 + length;
    }
    Ok(Some(
        "the PNG ends before its IEND chunk: the file was cut short (an interrupted download \
         or copy?), and the bottom of the picture is missing"
            .into(),
    ))
}

/// A WebP is whole when its RIFF header's size fits in the file.
fn webp_cut_short<R: Read + Seek>(reader: &mut R, file_len: u64) -> io::Result<Option<String>> {
    let mut header = [0u8; 8];
    reader.seek(SeekFrom::Start(0))?;
    if file_len < 8 {
        return Ok(Some("the WebP stops inside its header".into()));
    }
    reader.read_exact(&mut header)?;
    let declared = 8 + u64::from(u32::from_le_bytes([
        header[4], header[5], header[6], header[7],
    ]));
    Ok((declared > file_len).then(|| {
        format!(
            "the WebP declares {declared} bytes but the file has {file_len}: it was cut short \
             (an interrupted download or copy?)"
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn mp4_box(kind: &[u8; 4], payload: usize) -> Vec<u8> {
        let mut b = ((payload + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.resize(payload + 8, 0);
        b
    }

    #[test]
    fn signatures() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0"),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(sniff(b"hello world, not media"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
        let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heic.resize(32, 0);
        assert_eq!(sniff(&heic), Sniffed::Image(ImageFormat::Heif));
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        assert_eq!(sniff(avif), Sniffed::Image(ImageFormat::Avif));
        let mov = b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ";
        assert_eq!(sniff(mov), Sniffed::Video(Container::Mov));
        let mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";
        assert_eq!(sniff(mp4), Sniffed::Video(Container::Mp4));
    }

    fn fixture_image(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/images");
        std::fs::read(dir.join(name)).unwrap()
    }

    fn cut_short(bytes: &[u8], format: ImageFormat) -> Option<String> {
        image_cut_short(&mut Cursor::new(bytes), format, bytes.len() as u64).unwrap()
    }

    /// Where the first scan of a JPEG starts, for the tests' cuts.
    fn scan_start(jpeg: &[u8]) -> usize {
        match jpeg_first_scan(&mut Cursor::new(jpeg), jpeg.len() as u64).unwrap() {
            FirstScan::At(at) => at as usize,
            _ => panic!("no scan"),
        }
    }

    const JPEGS: [&str; 3] = [
        "portrait_720x1280_ok.jpg",
        "progressive_720x1280.jpg",
        "exif6_stored_1280x720_displays_720x1280.jpg",
    ];

    proptest::proptest! {
        /// A JPEG cut anywhere after its headers is cut short; whole, or with
        /// anything appended, it is not.
        #[test]
        fn a_jpeg_cut_anywhere_in_its_picture_data_is_cut_short(
            which in 0..JPEGS.len(),
            share in 0.0f64..1.0,
            trailer in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let jpeg = fixture_image(JPEGS[which]);
            let scan = scan_start(&jpeg);
            // Up to the EOI marker's first byte.
            let cut = scan + ((jpeg.len() - 2 - scan) as f64 * share) as usize;
            let reason = cut_short(&jpeg[..cut], ImageFormat::Jpeg);
            proptest::prop_assert!(reason.is_some_and(|r| r.contains("cut short")));
            proptest::prop_assert_eq!(cut_short(&jpeg, ImageFormat::Jpeg), None);
            let mut appended = jpeg.clone();
            appended.extend(trailer);
            proptest::prop_assert_eq!(cut_short(&appended, ImageFormat::Jpeg), None);
        }

        /// A PNG cut anywhere before its IEND chunk is cut short.
        #[test]
        fn a_png_cut_before_its_end_chunk_is_cut_short(share in 0.0f64..1.0) {
            let png = fixture_image("square_1024_ok.png");
            let cut = 8 + ((png.len() - 12 - 8) as f64 * share) as usize;
            proptest::prop_assert!(cut_short(&png[..cut], ImageFormat::Png).is_some());
            proptest::prop_assert_eq!(cut_short(&png, ImageFormat::Png), None);
        }

        /// A WebP shorter than its RIFF header says is cut short.
        #[test]
        fn a_webp_shorter_than_its_header_says_is_cut_short(share in 0.0f64..1.0) {
            let webp = fixture_image("webp_720x1280.webp");
            let cut = ((webp.len() - 1) as f64 * share) as usize;
            proptest::prop_assert!(cut_short(&webp[..cut], ImageFormat::Webp).is_some());
            proptest::prop_assert_eq!(cut_short(&webp, ImageFormat::Webp), None);
        }
    }

    /// The end marker is searched backwards in chunks: one that straddles
    /// two chunks (FF at the end of one, D9 at the start of the next) is found.
    #[test]
    fn an_end_marker_across_two_search_chunks_is_found() {
        const CHUNK: usize = 64 * 1024;
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        jpeg.resize(3 * CHUNK, 0x11);
        jpeg.extend([0xFF, 0xD9]);
        // Appended after the picture: the marker's D9 is the first byte of
        // the last chunk searched, its FF the byte before.
        jpeg.extend(vec![0u8; CHUNK - 1]);
        let d9 = jpeg.len() - CHUNK;
        assert_eq!(jpeg[d9 - 1..=d9], [0xFF, 0xD9]);
        assert_eq!(cut_short(&jpeg, ImageFormat::Jpeg), None);
        jpeg.truncate(d9);
        assert!(cut_short(&jpeg, ImageFormat::Jpeg).is_some());
    }

    /// An EOI before the first scan (an EXIF thumbnail's) is not the
    /// picture's: cut in its scan, the file is still cut short.
    #[test]
    fn a_thumbnails_end_marker_does_not_make_a_cut_picture_whole() {
        let mut thumbnail = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x22, 0x22, 0xFF, 0xD9];
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend(((thumbnail.len() + 2) as u16).to_be_bytes());
        app1.append(&mut thumbnail);
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(app1);
        jpeg.extend([0xFF, 0xDA, 0x00, 0x02, 0x33, 0x33, 0x33]);
        assert!(cut_short(&jpeg, ImageFormat::Jpeg).is_some());
        jpeg.extend([0xFF, 0xD9]);
        assert_eq!(cut_short(&jpeg, ImageFormat::Jpeg), None);
    }

    #[test]
    fn moov_order_and_truncation() {
        let mut file = mp4_box(b"ftyp", 16);
        file.extend(mp4_box(b"moov", 100));
        file.extend(mp4_box(b"mdat", 1000));
        let len = file.len() as u64;
        let layout = box_layout(&mut Cursor::new(&file), len).unwrap();
        assert_eq!(layout.moov_first, Some(true));
        assert_eq!(layout.truncated, None);

        file.truncate(file.len() - 10);
        let len = file.len() as u64;
        let layout = box_layout(&mut Cursor::new(&file), len).unwrap();
        assert!(layout.truncated.unwrap().contains("mdat"));
    }

    #[test]
    fn gif_transparency_from_the_first_control_extension() {
        // Header, logical screen (no global table), GCE, image descriptor.
        let mut gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
        let gce = |flags: u8| vec![0x21, 0xF9, 4, flags, 0, 0, 0, 0];
        let mut opaque = gif.clone();
        opaque.extend(gce(0));
        opaque.push(0x2C);
        assert_eq!(
            gif_first_frame_transparent(Cursor::new(opaque)).unwrap(),
            Some(false)
        );
        gif.extend(gce(1));
        gif.push(0x2C);
        assert_eq!(
            gif_first_frame_transparent(Cursor::new(gif)).unwrap(),
            Some(true)
        );
        assert_eq!(
            gif_first_frame_transparent(Cursor::new(b"GIF89a")).unwrap(),
            None
        );
    }

    #[test]
    fn a_64_bit_box_size_near_the_maximum_is_truncation_not_overflow() {
        // The input the `headers` fuzz target found (it panicked on `pos + size`).
        let found: &[u8] = &[
            0, 0, 0, 28, 102, 178, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 40, 71, 73, 70, 56, 57, 97, 0,
            0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
            255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0,
            0, 0, 0, 0, 0, 75, 121, 215, 205, 92,
        ];
        let layout = box_layout(&mut Cursor::new(found), found.len() as u64).unwrap();
        assert!(layout.truncated.is_some());
        // The same in its plainest form: ftyp, then a box of size 1 whose 64-bit
        // size is u64::MAX.
        let mut file = mp4_box(b"ftyp", 16);
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&u64::MAX.to_be_bytes());
        let layout = box_layout(&mut Cursor::new(&file), file.len() as u64).unwrap();
        assert!(layout.truncated.unwrap().contains("mdat"));
    }

    #[test]
    fn jpeg_cmyk_from_frame_header() {
        // SOI, SOF0 with 4 components, then SOS.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 8, 0, 16, 0, 16, 4];
        jpeg.extend([0u8; 12]);
        jpeg.extend([0xFF, 0xDA]);
        assert_eq!(
            jpeg_color(Cursor::new(jpeg)).unwrap(),
            Some((8, ColorModel::Cmyk))
        );
    }
}
