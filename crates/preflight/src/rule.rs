//! The rules a check reports and a plan step serves, as one typed list. Pure:
//! no I/O. Each rule prints and serialises as its stable id, such as
//! `video.duration.max`: those ids are part of the JSON output.

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident = $id:literal,)*) => {
        /// A provider limit (a violation), an advisory (a warning), or a user
        /// option a plan step carries out.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($(#[$doc])* $name,)*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$name,)*];

            /// The stable id, such as `video.duration.max`.
            pub fn id(self) -> &'static str {
                match self {
                    $(Rule::$name => $id,)*
                }
            }
        }
    };
}

rules! {
    /// The image format is not one the provider takes.
    ImageFormat = "image.format",
    /// The image file is over the provider's byte limit.
    ImageBytesMax = "image.bytes.max",
    /// The image is narrower than the minimum side.
    ImageWidthMin = "image.width.min",
    /// The image is lower than the minimum side.
    ImageHeightMin = "image.height.min",
    /// The image is wider than the maximum side.
    ImageWidthMax = "image.width.max",
    /// The image is higher than the maximum side.
    ImageHeightMax = "image.height.max",
    /// The image is taller than the tallest aspect ratio.
    ImageAspectMin = "image.aspect.min",
    /// The image is wider than the widest aspect ratio.
    ImageAspectMax = "image.aspect.max",
    /// Advisory: an EXIF orientation turns the picture on display.
    ImageOrientationNone = "image.orientation.none",
    /// Advisory: CMYK or YCCK samples.
    ImageColorRgb = "image.color.rgb",
    /// Advisory: samples deeper than 8 bits.
    ImageDepth8bit = "image.depth.8bit",
    /// The container is not one the provider takes.
    VideoContainer = "video.container",
    /// The video file is over the provider's byte limit.
    VideoBytesMax = "video.bytes.max",
    /// The video is narrower than the minimum side.
    VideoWidthMin = "video.width.min",
    /// The video is lower than the minimum side.
    VideoHeightMin = "video.height.min",
    /// The video is wider than the maximum side.
    VideoWidthMax = "video.width.max",
    /// The video is higher than the maximum side.
    VideoHeightMax = "video.height.max",
    /// The video is shorter than the minimum length.
    VideoDurationMin = "video.duration.min",
    /// The video is longer than the maximum length.
    VideoDurationMax = "video.duration.max",
    /// Advisory: the codec is not H.264.
    VideoCodecH264 = "video.codec.h264",
    /// Advisory: the pixel format is not 8-bit yuv420p.
    VideoPixelFormatYuv420p = "video.pixel_format.yuv420p",
    /// Advisory: the frame rate is variable.
    VideoFrameRateConstant = "video.frame_rate.constant",
    /// Advisory: a rotation flag turns the picture on display.
    VideoRotationNone = "video.rotation.none",
    /// Advisory: a side is odd.
    VideoSizeEven = "video.size.even",
    /// Advisory: the `moov` atom comes after the media data.
    VideoMoovFirst = "video.moov.first",
    /// Advisory: more than one video stream.
    VideoStreamsSingle = "video.streams.single",
    /// Advisory: the pixels are not square (the picture is stretched on display).
    VideoPixelAspectSquare = "video.pixel_aspect.square",
    /// Advisory: HDR (PQ or HLG transfer).
    VideoHdr = "video.hdr",
    /// Advisory (`check --deep`): the video has hard cuts.
    VideoCutsNone = "video.cuts.none",
    /// Advisory (`check --deep`): the video starts black or frozen.
    VideoStartMoving = "video.start.moving",
    /// Advisory (`check --deep`): the cut scan stopped before the end.
    VideoScanPartial = "video.scan.partial",
    /// Advisory (`check --deep`, `fix`): frames the video decoder concealed.
    VideoDamaged = "video.damaged",
    /// Advisory (`check --deep`, `fix`): sound the decoder rejected, replaced
    /// with silence (or left out when most of it is unreadable).
    AudioDamaged = "audio.damaged",
    /// Advisory (`--content`): no person in the picture (video: in none or
    /// almost none of the sampled frames).
    ContentPersonMissing = "content.person.missing",
    /// Advisory (`--content`): the largest person's box is under 5 % of the frame.
    ContentPersonSmall = "content.person.small",
    /// Advisory (`--content`): a second person at least half as large as the first.
    ContentPersonMany = "content.person.many",
    /// Advisory (`--content`): fewer than 3 of nose, eyes and ears visible.
    ContentHeadHidden = "content.head.hidden",
    /// Advisory (`--content`): less than head, both shoulders and both elbows visible.
    ContentBodyPartial = "content.body.partial",
    /// Advisory (`--content`): the body is turned more than 45° from upright.
    ContentPoseOrientation = "content.pose.orientation",
    /// Advisory (`--content`, videos): the person is missing from more than 20 %
    /// of the sampled frames while present in others.
    ContentPersonLost = "content.person.lost",
    /// Advisory (`--content`, videos): limbs move faster than the documented limit.
    ContentMotionFast = "content.motion.fast",
    /// Advisory (`--content`, videos): the background moves between samples.
    ContentCameraMoving = "content.camera.moving",
    /// Advisory (`submit`): a half-body image driven by a full-body video.
    ContentFramingMismatch = "content.framing.mismatch",
    /// The user's `--keep-sound no`.
    OptionKeepSound = "option.keep_sound",
    /// The user's `--max-fps`.
    OptionMaxFps = "option.max_fps",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// Compares with an id: `rule == "video.duration.max"`.
impl PartialEq<str> for Rule {
    fn eq(&self, other: &str) -> bool {
        self.id() == other
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

impl std::str::FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.id() == s)
            .ok_or_else(|| format!("unknown rule `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for &rule in Rule::ALL {
            assert_eq!(rule.id().parse::<Rule>(), Ok(rule));
            assert_eq!(rule.to_string(), rule.id());
        }
        assert!("image.pixels.max".parse::<Rule>().is_err());
    }

    #[test]
    fn serialises_as_its_id() {
        let json = serde_json::to_string(&[Rule::VideoDurationMax, Rule::ImageDepth8bit]).unwrap();
        assert_eq!(json, r#"["video.duration.max","image.depth.8bit"]"#);
    }
}
