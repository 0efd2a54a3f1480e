//! Each provider's documented limits, as data.
//!
//! Sources: `shared/providers.md` and the providers' own pages. "MB" is read as
//! 10^6 bytes: no provider says which is meant and the smaller reading is the one
//! that is never rejected.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::facts::ImageFormat;

/// One megabyte as providers count it (10^6 bytes).
pub const MB: u64 = 1_000_000;
/// One second in microseconds.
pub const SECOND_US: u64 = 1_000_000;

/// A service that sells Kling Motion Control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Kling's own API.
    Kling,
    /// PowerTokens.
    Powertokens,
    /// Novita AI.
    Novita,
    /// Highway.
    Highway,
    /// AIHubMax.
    Aihubmax,
    /// fal (queue API).
    Fal,
    /// Replicate (predictions API).
    Replicate,
    /// kie.ai.
    Kie,
    /// PiAPI.
    Piapi,
    /// WaveSpeed AI.
    Wavespeed,
}

impl Provider {
    /// Every provider, in the order `providers` lists them.
    pub const ALL: [Provider; 10] = [
        Provider::Kling,
        Provider::Powertokens,
        Provider::Novita,
        Provider::Highway,
        Provider::Aihubmax,
        Provider::Fal,
        Provider::Replicate,
        Provider::Kie,
        Provider::Piapi,
        Provider::Wavespeed,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Kling => "kling",
            Provider::Powertokens => "powertokens",
            Provider::Novita => "novita",
            Provider::Highway => "highway",
            Provider::Aihubmax => "aihubmax",
            Provider::Fal => "fal",
            Provider::Replicate => "replicate",
            Provider::Kie => "kie",
            Provider::Piapi => "piapi",
            Provider::Wavespeed => "wavespeed",
        }
    }

    /// Models this provider sells for Motion Control.
    pub fn models(self) -> &'static [Model] {
        match self {
            Provider::Kling
            | Provider::Aihubmax
            | Provider::Fal
            | Provider::Replicate
            | Provider::Kie
            | Provider::Piapi
            | Provider::Wavespeed => &[Model::KlingV3, Model::KlingV2_6],
            Provider::Powertokens | Provider::Novita | Provider::Highway => &[Model::KlingV3],
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "kling" | "kling-official" | "klingai" => Ok(Provider::Kling),
            "powertokens" => Ok(Provider::Powertokens),
            "novita" => Ok(Provider::Novita),
            "highway" | "highwayapi" => Ok(Provider::Highway),
            "aihubmax" => Ok(Provider::Aihubmax),
            "fal" | "fal.ai" => Ok(Provider::Fal),
            "replicate" => Ok(Provider::Replicate),
            "kie" | "kie.ai" => Ok(Provider::Kie),
            "piapi" => Ok(Provider::Piapi),
            "wavespeed" | "wavespeedai" => Ok(Provider::Wavespeed),
            _ => Err(SpecError::UnknownProvider(s.to_string())),
        }
    }
}

/// A Kling model offered for Motion Control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Model {
    /// Kling v3.
    #[serde(rename = "kling-v3")]
    KlingV3,
    /// Kling v2.6.
    #[serde(rename = "kling-v2-6")]
    KlingV2_6,
}

impl Model {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Model::KlingV3 => "kling-v3",
            Model::KlingV2_6 => "kling-v2-6",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "kling-v3" | "v3" | "kling-v3-0" => Ok(Model::KlingV3),
            "kling-v2-6" | "v2-6" | "kling-v2.6" | "v2.6" => Ok(Model::KlingV2_6),
            _ => Err(SpecError::UnknownModel(s.to_string())),
        }
    }
}

/// `character_orientation`: whose pose and framing the result follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// The character follows the reference image's orientation.
    Image,
    /// The character follows the motion video's orientation.
    Video,
}

impl Orientation {
    /// Both orientations.
    pub const ALL: [Orientation; 2] = [Orientation::Image, Orientation::Video];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Orientation::Image => "image",
            Orientation::Video => "video",
        }
    }
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Orientation {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s.to_ascii_lowercase().as_str() {
            "image" => Ok(Orientation::Image),
            "video" => Ok(Orientation::Video),
            _ => Err(SpecError::UnknownOrientation(s.to_string())),
        }
    }
}

/// A provider, model or orientation that is unknown or not sold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// No provider by that name.
    #[error("unknown provider `{0}` (known: kling, powertokens, novita, highway, aihubmax, fal, replicate, kie, piapi, wavespeed)")]
    UnknownProvider(String),
    /// No model by that name.
    #[error("unknown model `{0}` (known: kling-v3, kling-v2-6)")]
    UnknownModel(String),
    /// No orientation by that name.
    #[error("unknown orientation `{0}` (known: image, video)")]
    UnknownOrientation(String),
    /// The provider does not sell that model.
    #[error("{provider} does not sell {model} for Motion Control (it sells: {available})")]
    ModelNotOffered {
        /// The provider asked for.
        provider: Provider,
        /// The model it does not sell.
        model: Model,
        /// The models it does sell.
        available: String,
    },
}

/// An aspect ratio as a fraction, kept exact so that limits compare without rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    /// Numerator (width).
    pub num: u32,
    /// Denominator (height).
    pub den: u32,
}

impl Ratio {
    /// `num`:`den`.
    pub const fn new(num: u32, den: u32) -> Ratio {
        Ratio { num, den }
    }

    /// The ratio as a number.
    pub fn value(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// How the provider accepts an input in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// A URL or inline base64.
    UrlOrBase64,
    /// A URL only.
    UrlOnly,
}

/// What a provider accepts as the reference image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRules {
    /// Accepted formats.
    pub formats: &'static [ImageFormat],
    /// Largest file, in bytes, if limited.
    pub max_bytes: Option<u64>,
    /// Shortest side allowed, in pixels.
    pub min_side: u32,
    /// Longest side allowed, in pixels, if limited.
    pub max_side: Option<u32>,
    /// Narrowest width:height allowed (tallest picture).
    pub min_aspect: Ratio,
    /// Widest width:height allowed.
    pub max_aspect: Ratio,
    /// How the image may be sent.
    pub transport: Transport,
}

/// What a provider accepts as the motion video.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoRules {
    /// Container names as in [`crate::facts::Container::name`].
    pub containers: &'static [&'static str],
    /// Largest file, in bytes, if limited.
    pub max_bytes: Option<u64>,
    /// Shortest side allowed, in pixels.
    pub min_side: u32,
    /// Longest side allowed, in pixels, if limited.
    pub max_side: Option<u32>,
    /// Shortest duration allowed, in microseconds.
    pub min_duration_us: u64,
    /// Longest duration allowed, in microseconds.
    pub max_duration_us: u64,
    /// How the video may be sent.
    pub transport: Transport,
}

/// The rules for one provider × model × character orientation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    /// Who sells it.
    pub provider: Provider,
    /// Which model.
    pub model: Model,
    /// Which orientation the character follows.
    pub orientation: Orientation,
    /// Rules for the reference image.
    pub image: ImageRules,
    /// Rules for the motion video.
    pub video: VideoRules,
    /// Where the numbers come from, for people reading `providers`.
    pub source: &'static str,
}

const JPEG_PNG: &[ImageFormat] = &[ImageFormat::Jpeg, ImageFormat::Png];
const JPEG_PNG_WEBP: &[ImageFormat] = &[ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp];
const MP4_MOV: &[&str] = &["mp4", "mov"];
const MP4_MOV_MKV: &[&str] = &["mp4", "mov", "matroska"];
const ASPECT_MIN: Ratio = Ratio::new(2, 5); // 1:2.5
const ASPECT_MAX: Ratio = Ratio::new(5, 2); // 2.5:1

/// Kling's own limits (legacy API), which powertokens repeats and the other
/// resellers run on.
fn kling_image_rules() -> ImageRules {
    ImageRules {
        formats: JPEG_PNG,
        max_bytes: Some(10 * MB),
        min_side: 300,
        max_side: Some(65_536),
        min_aspect: ASPECT_MIN,
        max_aspect: ASPECT_MAX,
        transport: Transport::UrlOrBase64,
    }
}

fn kling_video_rules(orientation: Orientation) -> VideoRules {
    VideoRules {
        containers: MP4_MOV,
        max_bytes: Some(100 * MB),
        min_side: 340,
        max_side: Some(3850),
        min_duration_us: 3 * SECOND_US,
        max_duration_us: match orientation {
            Orientation::Image => 10 * SECOND_US,
            Orientation::Video => 30 * SECOND_US,
        },
        transport: Transport::UrlOnly,
    }
}

fn url_only(rules: ImageRules) -> ImageRules {
    ImageRules {
        transport: Transport::UrlOnly,
        ..rules
    }
}

impl Spec {
    /// The spec for a combination the provider actually sells.
    pub fn lookup(
        provider: Provider,
        model: Model,
        orientation: Orientation,
    ) -> Result<Spec, SpecError> {
        if !provider.models().contains(&model) {
            let available = provider
                .models()
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SpecError::ModelNotOffered {
                provider,
                model,
                available,
            });
        }
        let (image, video, source) = match provider {
            Provider::Kling => (
                kling_image_rules(),
                kling_video_rules(orientation),
                "Kling API docs, motion-control (legacy API)",
            ),
            Provider::Powertokens => (
                kling_image_rules(),
                kling_video_rules(orientation),
                "powertokens kling-v3 motion-control page",
            ),
            // novita and highwayapi publish the same page: 10 MB for both inputs,
            // >= 300 px, 3-30 s whatever the orientation.
            Provider::Novita | Provider::Highway => (
                ImageRules {
                    max_side: None,
                    ..kling_image_rules()
                },
                VideoRules {
                    max_bytes: Some(10 * MB),
                    min_side: 300,
                    max_side: None,
                    max_duration_us: 30 * SECOND_US,
                    ..kling_video_rules(orientation)
                },
                if provider == Provider::Novita {
                    "novita kling-v3.0-motion-control page"
                } else {
                    "highwayapi kling-v3.0-motion-control page"
                },
            ),
            // aihubmax documents only formats, durations and URL-only inputs; it
            // runs Kling's model, so Kling's own size limits are kept as the safe
            // reading.
            Provider::Aihubmax => (
                ImageRules {
                    transport: Transport::UrlOnly,
                    ..kling_image_rules()
                },
                kling_video_rules(orientation),
                "aihubmax kling-v3 motion-control page; sizes from Kling's own limits",
            ),
            // The marketplaces take links only (each hosts uploads of its own)
            // and run Kling's model: Kling's limits unless their page says more.
            // Durations stay Kling's per orientation even where a page says
            // 3-30 s: the model itself stops at 10 s for `image`.
            Provider::Fal | Provider::Piapi | Provider::Wavespeed => (
                url_only(kling_image_rules()),
                kling_video_rules(orientation),
                match provider {
                    Provider::Fal => "fal kling-video motion-control API page; Kling's limits",
                    Provider::Piapi => "PiAPI kling motion-control API page; Kling's limits",
                    _ => "WaveSpeed kling motion-control API page; Kling's limits",
                },
            ),
            // Replicate states 340-3850 px for the image, not Kling's 300-65536.
            Provider::Replicate => (
                ImageRules {
                    min_side: 340,
                    max_side: Some(3850),
                    ..url_only(kling_image_rules())
                },
                kling_video_rules(orientation),
                "Replicate kwaivgi kling motion-control API page",
            ),
            // kie also takes WebP images and MKV videos.
            Provider::Kie => (
                ImageRules {
                    formats: JPEG_PNG_WEBP,
                    ..url_only(kling_image_rules())
                },
                VideoRules {
                    containers: MP4_MOV_MKV,
                    ..kling_video_rules(orientation)
                },
                "kie kling motion-control market page",
            ),
        };
        Ok(Spec {
            provider,
            model,
            orientation,
            image,
            video,
            source,
        })
    }

    /// Every spec of every provider, model and orientation.
    pub fn all() -> Vec<Spec> {
        let mut specs = Vec::new();
        for provider in Provider::ALL {
            for &model in provider.models() {
                for orientation in Orientation::ALL {
                    specs.push(
                        Spec::lookup(provider, model, orientation)
                            .expect("models() lists only offered models"),
                    );
                }
            }
        }
        specs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_combination_has_a_spec() {
        assert_eq!(Spec::all().len(), (2 + 1 + 1 + 1 + 2 + 2 * 5) * 2);
    }

    #[test]
    fn unsold_model_is_a_clear_error() {
        let err = Spec::lookup(Provider::Novita, Model::KlingV2_6, Orientation::Video).unwrap_err();
        assert!(err.to_string().contains("novita does not sell kling-v2-6"));
    }

    #[test]
    fn durations_follow_orientation() {
        let k = Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Image).unwrap();
        assert_eq!(k.video.max_duration_us, 10 * SECOND_US);
        let n = Spec::lookup(Provider::Novita, Model::KlingV3, Orientation::Image).unwrap();
        assert_eq!(n.video.max_duration_us, 30 * SECOND_US);
        assert_eq!(n.video.max_bytes, Some(10 * MB));
    }

    #[test]
    fn marketplaces_differ_from_kling_only_where_their_pages_say() {
        let kling = Spec::lookup(Provider::Kling, Model::KlingV2_6, Orientation::Image).unwrap();
        let r = Spec::lookup(Provider::Replicate, Model::KlingV2_6, Orientation::Image).unwrap();
        assert_eq!((r.image.min_side, r.image.max_side), (340, Some(3850)));
        assert_eq!(r.video, kling.video);
        let k = Spec::lookup(Provider::Kie, Model::KlingV3, Orientation::Video).unwrap();
        assert!(k.image.formats.contains(&ImageFormat::Webp));
        assert!(k.video.containers.contains(&"matroska"));
        for p in [Provider::Fal, Provider::Piapi, Provider::Wavespeed] {
            let s = Spec::lookup(p, Model::KlingV2_6, Orientation::Image).unwrap();
            assert_eq!(s.video, kling.video, "{p}");
            assert_eq!(s.image.transport, Transport::UrlOnly, "{p}");
            assert_eq!(s.image.min_side, kling.image.min_side, "{p}");
        }
        assert_eq!(
            "wavespeed".parse::<Provider>().unwrap(),
            Provider::Wavespeed
        );
    }
}
