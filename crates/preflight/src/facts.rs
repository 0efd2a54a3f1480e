//! Facts about a media file, as `probe` finds them. Plain data: every decision
//! (`check`, `plan`) is made from these, never from the file itself.

use serde::Serialize;

/// Image formats recognised by their content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// JPEG (baseline or progressive).
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF (the first frame).
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIF/HEIC, through libheif.
    Heif,
    /// AVIF, through libheif.
    Avif,
}

impl ImageFormat {
    /// The lower-case name used in reports (`jpeg`, `png`…).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Tiff => "tiff",
            ImageFormat::Heif => "heif",
            ImageFormat::Avif => "avif",
        }
    }
}

/// How the colour of an image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorModel {
    /// Grey levels, with or without alpha.
    Gray,
    /// RGB.
    Rgb,
    /// Indexed colours (a palette).
    Palette,
    /// CMYK (print); turned RGB when repaired.
    Cmyk,
    /// YCCK, Adobe's JPEG form of CMYK.
    Ycck,
    /// Anything else the decoder reports.
    Other,
}

/// What the headers of a picture say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageFacts {
    /// The format found by content.
    pub format: ImageFormat,
    /// Size as stored in the file.
    pub stored_width: u32,
    /// Height as stored in the file.
    pub stored_height: u32,
    /// Size as displayed, after the EXIF orientation.
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
    /// File size in bytes.
    pub bytes: u64,
    /// Bits per channel sample.
    pub bit_depth: u8,
    /// Whether the picture has an alpha channel (not whether it is used).
    pub has_alpha: bool,
    /// The colour model of its samples.
    pub color_model: ColorModel,
    /// EXIF orientation tag (1–8); 1 when absent.
    pub orientation: u8,
}

/// Containers recognised by their content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// MP4 (ISO base media).
    Mp4,
    /// QuickTime MOV.
    Mov,
    /// WebM.
    Webm,
    /// Matroska (MKV).
    Matroska,
    /// AVI.
    Avi,
    /// Anything else FFmpeg can open, by its demuxer name.
    Other(String),
}

impl Container {
    /// The demuxer-style name used in reports and specs.
    pub fn name(&self) -> &str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Webm => "webm",
            Container::Matroska => "matroska",
            Container::Avi => "avi",
            Container::Other(name) => name,
        }
    }
}

/// What the headers and a bounded packet sample of a video say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoFacts {
    /// The container found by content.
    pub container: Container,
    /// Video codec name as FFmpeg spells it (`h264`, `hevc`, `vp9`, `prores`).
    pub codec: String,
    /// Codec profile (`High`, `Main 10`), when known.
    pub profile: Option<String>,
    /// Pixel format as FFmpeg spells it (`yuv420p`), when known.
    pub pixel_format: Option<String>,
    /// Bits per colour sample, when known.
    pub bit_depth: Option<u8>,
    /// Size as encoded in the stream.
    pub coded_width: u32,
    /// Height as encoded.
    pub coded_height: u32,
    /// Size as displayed: the stored size stretched by the sample aspect ratio
    /// (the width changes, as players do), then turned by the rotation.
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
    /// Sample (pixel) aspect ratio `num:den`; `1:1` when square or unknown.
    pub sample_aspect: (u32, u32),
    /// How the pixel values map to colours, as the stream is tagged.
    pub colour: VideoColour,
    /// Where the file's timeline starts, in microseconds (an MPEG-TS capture
    /// often starts at 1.4 s or later). Outputs always start at 0.
    pub start_us: i64,
    /// Clockwise rotation a player applies, in degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Duration in microseconds (integer so that limits compare exactly).
    pub duration_us: u64,
    /// Average frame rate in frames per second.
    pub frame_rate: f64,
    /// Whether frame durations vary (from the packet sample).
    pub variable_frame_rate: bool,
    /// File size in bytes.
    pub bytes: u64,
    /// Codec of the first audio stream; `None` without sound.
    pub audio_codec: Option<String>,
    /// How many video streams the container has.
    pub video_streams: u32,
    /// For MP4/MOV: whether the `moov` atom comes before `mdat`.
    pub moov_first: Option<bool>,
}

impl VideoFacts {
    /// Duration in seconds, for display.
    pub fn duration_s(&self) -> f64 {
        self.duration_us as f64 / 1e6
    }

    /// Pixels are not square: the stored picture is stretched on display.
    pub fn anamorphic(&self) -> bool {
        let (n, d) = self.sample_aspect;
        n != d
    }
}

/// Colour tags of a video stream, as FFmpeg names them (`bt709`, `bt2020`,
/// `smpte2084`, `arib-std-b67`, `tv`); `None` when the stream does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VideoColour {
    /// Colour primaries (`bt709`, `bt2020`, `smpte170m`).
    pub primaries: Option<String>,
    /// Transfer function (`bt709`, `smpte2084` for PQ, `arib-std-b67` for HLG).
    pub transfer: Option<String>,
    /// YUV matrix (`bt709`, `bt2020nc`, `bt470bg`).
    pub matrix: Option<String>,
    /// `tv` (limited) or `pc` (full).
    pub range: Option<String>,
}

/// A high dynamic range transfer, which an SDR pipeline shows wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HdrTransfer {
    /// SMPTE ST 2084 (HDR10, Dolby Vision base layers).
    Pq,
    /// ARIB STD-B67 hybrid log-gamma (most phones' HDR video).
    Hlg,
}

impl HdrTransfer {
    /// The short name people use: `PQ` or `HLG`.
    pub fn name(self) -> &'static str {
        match self {
            HdrTransfer::Pq => "PQ",
            HdrTransfer::Hlg => "HLG",
        }
    }

    /// The transfer's name in FFmpeg (and zimg).
    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            HdrTransfer::Pq => "smpte2084",
            HdrTransfer::Hlg => "arib-std-b67",
        }
    }
}

impl VideoColour {
    /// The HDR transfer, if the stream is tagged with one.
    pub fn hdr(&self) -> Option<HdrTransfer> {
        [HdrTransfer::Pq, HdrTransfer::Hlg]
            .into_iter()
            .find(|t| self.transfer.as_deref() == Some(t.ffmpeg_name()))
    }
}

/// Facts about an image or a video.
// One value per file, made once and read often: boxing the larger variant
// would buy nothing but an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MediaFacts {
    /// A still picture.
    Image(ImageFacts),
    /// A video.
    Video(VideoFacts),
}

impl MediaFacts {
    /// Image or video.
    pub fn kind(&self) -> MediaKind {
        match self {
            MediaFacts::Image(_) => MediaKind::Image,
            MediaFacts::Video(_) => MediaKind::Video,
        }
    }

    /// Displayed size.
    pub fn size(&self) -> (u32, u32) {
        match self {
            MediaFacts::Image(i) => (i.width, i.height),
            MediaFacts::Video(v) => (v.width, v.height),
        }
    }

    /// File size in bytes.
    pub fn bytes(&self) -> u64 {
        match self {
            MediaFacts::Image(i) => i.bytes,
            MediaFacts::Video(v) => v.bytes,
        }
    }

    /// Short format name: the image format or the container.
    pub fn format_name(&self) -> &str {
        match self {
            MediaFacts::Image(i) => i.format.name(),
            MediaFacts::Video(v) => v.container.name(),
        }
    }
}

/// Image or video, without the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A still picture.
    Image,
    /// A video.
    Video,
}

impl MediaKind {
    /// `image` or `video`.
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
        }
    }
}

/// What a scene scan found. Times are microseconds from the start of the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scenes {
    /// Start times of new shots (hard cuts).
    pub cuts_us: Vec<u64>,
    /// End of leading black or frozen frames (0 when the motion starts at once).
    pub content_start_us: u64,
    /// Time of the last decoded frame plus one frame.
    pub duration_us: u64,
    /// Frames decoded.
    pub frames: u64,
    /// The scan stopped at the limit of `DecodeLimits::max_scan_us` (or of
    /// decoded frames) before the end of the video: what comes after
    /// `duration_us` was not looked at.
    pub stopped_early: bool,
    /// Video packets the decoder rejected (`fix` refuses such a picture,
    /// unless `--segment auto` finds a window clear of it). Each span runs
    /// to the next keyframe that decodes, since the frames between refer to
    /// the lost one.
    pub picture_damage: Damage,
    /// Frames the video decoder returned flagged as damaged (concealed).
    pub concealed: Damage,
    /// Audio packets the decoder rejected or flagged (`check --deep` only;
    /// `fix` replaces them with silence).
    pub sound_damage: Damage,
}

/// Damage a decode found in one stream: packets its decoder rejected, or
/// frames it returned flagged as damaged. Times are microseconds from the
/// start of the file (or of the output, for a repair's findings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Damage {
    /// Damaged packets (or frames).
    pub count: u64,
    /// Packets (or frames) of the stream decoded, damaged ones included.
    pub decoded: u64,
    /// Where the damage lies, in time order: `(start_us, end_us)`, damage
    /// less than [`Damage::MERGE_US`] apart counted as one place. At most
    /// [`Damage::MAX_SPANS`]: later damage lengthens the last.
    pub spans: Vec<(u64, u64)>,
}

impl Damage {
    /// Damage closer than this to the previous is the same place.
    pub const MERGE_US: u64 = 500_000;
    /// Places kept apart; beyond, the last place grows.
    pub const MAX_SPANS: usize = 64;

    /// Nothing damaged.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Where the first damage starts.
    pub fn first_us(&self) -> Option<u64> {
        self.spans.first().map(|s| s.0)
    }

    /// Where the last damage ends.
    pub fn last_us(&self) -> Option<u64> {
        self.spans.last().map(|s| s.1)
    }

    /// More than half of what was decoded is damaged.
    pub fn mostly(&self) -> bool {
        self.count > 0 && self.count * 2 > self.decoded
    }

    /// One damaged packet or frame from `start_us` to `end_us`.
    pub fn note(&mut self, start_us: u64, end_us: u64) {
        self.count += 1;
        let end_us = end_us.max(start_us);
        let full = self.spans.len() >= Self::MAX_SPANS;
        match self.spans.last_mut() {
            Some(last) if full || start_us <= last.1 + Self::MERGE_US => {
                last.0 = last.0.min(start_us);
                last.1 = last.1.max(end_us);
            }
            _ => self.spans.push((start_us, end_us)),
        }
    }

    /// Lengthens the latest damage to cover `start_us..end_us` without
    /// counting another packet (the frames after a lost one, up to the next
    /// keyframe, refer to it).
    pub fn cover(&mut self, start_us: u64, end_us: u64) {
        let end_us = end_us.max(start_us);
        match self.spans.last_mut() {
            Some(last) => {
                last.0 = last.0.min(start_us);
                last.1 = last.1.max(end_us);
            }
            None => self.spans.push((start_us, end_us)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_merges_close_places_and_stays_bounded() {
        let mut d = Damage::default();
        assert!(d.is_empty() && !d.mostly() && d.first_us().is_none());
        d.decoded = 10;
        d.note(1_000_000, 1_021_000);
        d.note(1_300_000, 1_321_000);
        d.note(3_000_000, 3_021_000);
        assert_eq!(d.spans, [(1_000_000, 1_321_000), (3_000_000, 3_021_000)]);
        assert_eq!(
            (d.count, d.first_us(), d.last_us()),
            (3, Some(1_000_000), Some(3_021_000))
        );
        assert!(!d.mostly());
        d.cover(3_000_000, 4_000_000);
        assert_eq!(d.count, 3);
        assert_eq!(d.last_us(), Some(4_000_000));
        for i in 0..200u64 {
            d.note(10_000_000 + i * 1_000_000, 10_000_000 + i * 1_000_000);
        }
        assert_eq!(d.spans.len(), Damage::MAX_SPANS);
        assert_eq!(d.last_us(), Some(209_000_000));
        assert!(d.mostly());
    }
}
