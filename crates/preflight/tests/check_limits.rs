//! Property tests of the rule engine: for every limit of every spec, a file
//! exactly at the limit passes that rule and one unit past it breaks it.

use preflight::check::{check_image, check_video};
use preflight::spec::Spec;
use preflight::{ColorModel, Container, ImageFacts, ImageFormat, VideoFacts};
use proptest::prelude::*;

fn image(w: u32, h: u32, bytes: u64) -> ImageFacts {
    ImageFacts {
        format: ImageFormat::Jpeg,
        stored_width: w,
        stored_height: h,
        width: w,
        height: h,
        bytes,
        bit_depth: 8,
        has_alpha: false,
        color_model: ColorModel::Rgb,
        orientation: 1,
    }
}

fn video(w: u32, h: u32, duration_us: u64, bytes: u64) -> VideoFacts {
    VideoFacts {
        container: Container::Mp4,
        codec: "h264".into(),
        profile: Some("High".into()),
        pixel_format: Some("yuv420p".into()),
        bit_depth: Some(8),
        coded_width: w,
        coded_height: h,
        width: w,
        height: h,
        sample_aspect: (1, 1),
        colour: Default::default(),
        start_us: 0,
        rotation: 0,
        duration_us,
        frame_rate: 30.0,
        variable_frame_rate: false,
        bytes,
        audio_codec: Some("aac".into()),
        video_streams: 1,
        moov_first: Some(true),
    }
}

fn image_rules(facts: &ImageFacts, spec: &Spec) -> Vec<&'static str> {
    check_image(facts, spec)
        .violations
        .iter()
        .map(|v| v.rule.id())
        .collect()
}

fn video_rules(facts: &VideoFacts, spec: &Spec) -> Vec<&'static str> {
    check_video(facts, spec)
        .violations
        .iter()
        .map(|v| v.rule.id())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::util::proptest_cases(200)))]

    #[test]
    fn image_byte_limit_is_inclusive(side in 300u32..4000) {
        for spec in Spec::all() {
            let Some(max) = spec.image.max_bytes else { continue };
            prop_assert!(!image_rules(&image(side, side, max), &spec).contains(&"image.bytes.max"));
            prop_assert!(image_rules(&image(side, side, max + 1), &spec).contains(&"image.bytes.max"));
        }
    }

    #[test]
    fn image_side_limits_are_inclusive(other in 300u32..700) {
        for spec in Spec::all() {
            let min = spec.image.min_side;
            // The other side stays within the aspect window of the one at the limit.
            let other = other.min(min * 5 / 2).max(min);
            prop_assert!(image_rules(&image(min, other, 1), &spec).is_empty());
            prop_assert_eq!(image_rules(&image(min - 1, other, 1), &spec).contains(&"image.width.min"), true);
            prop_assert_eq!(image_rules(&image(other, min - 1, 1), &spec).contains(&"image.height.min"), true);
            if let Some(max) = spec.image.max_side {
                let near = max - max / 3;
                prop_assert!(!image_rules(&image(max, near, 1), &spec).contains(&"image.width.max"));
                prop_assert!(image_rules(&image(max + 1, near, 1), &spec).contains(&"image.width.max"));
                prop_assert!(!image_rules(&image(near, max, 1), &spec).contains(&"image.height.max"));
                prop_assert!(image_rules(&image(near, max + 1, 1), &spec).contains(&"image.height.max"));
            }
        }
    }

    #[test]
    fn image_aspect_limits_are_inclusive(k in 150u32..10_000) {
        for spec in Spec::all() {
            let wide = spec.image.max_aspect;
            let (w, h) = (wide.num * k, wide.den * k);
            prop_assert!(!image_rules(&image(w, h, 1), &spec).contains(&"image.aspect.max"));
            prop_assert!(image_rules(&image(w + 1, h, 1), &spec).contains(&"image.aspect.max"));
            let tall = spec.image.min_aspect;
            let (w, h) = (tall.num * k, tall.den * k);
            prop_assert!(!image_rules(&image(w, h, 1), &spec).contains(&"image.aspect.min"));
            prop_assert!(image_rules(&image(w, h + 1, 1), &spec).contains(&"image.aspect.min"));
        }
    }

    #[test]
    fn video_duration_limits_are_inclusive_to_the_microsecond(side in 340u32..3850) {
        for spec in Spec::all() {
            let (min, max) = (spec.video.min_duration_us, spec.video.max_duration_us);
            let rules = |d| video_rules(&video(side, side, d, 1), &spec);
            prop_assert!(rules(min).is_empty());
            prop_assert!(rules(max).is_empty());
            prop_assert_eq!(rules(min - 1), vec!["video.duration.min"]);
            prop_assert_eq!(rules(max + 1), vec!["video.duration.max"]);
        }
    }

    #[test]
    fn video_size_and_byte_limits_are_inclusive(other in 340u32..3850) {
        for spec in Spec::all() {
            let d = spec.video.min_duration_us;
            let rules = |w, h, b| video_rules(&video(w, h, d, b), &spec);
            let min = spec.video.min_side;
            prop_assert!(rules(min, other, 1).is_empty());
            prop_assert_eq!(rules(min - 1, other, 1), vec!["video.width.min"]);
            prop_assert_eq!(rules(other, min - 1, 1), vec!["video.height.min"]);
            if let Some(max) = spec.video.max_side {
                let other = other.min(max);
                prop_assert!(rules(max, other, 1).is_empty());
                prop_assert_eq!(rules(max + 1, other, 1), vec!["video.width.max"]);
                prop_assert_eq!(rules(other, max + 1, 1), vec!["video.height.max"]);
            }
            if let Some(max) = spec.video.max_bytes {
                prop_assert!(rules(other, other, max).is_empty());
                prop_assert_eq!(rules(other, other, max + 1), vec!["video.bytes.max"]);
            }
        }
    }

    #[test]
    fn a_compliant_video_has_no_violations_and_no_warnings(
        w in 170u32..1925, h in 170u32..1925, seconds in 3u64..=10,
    ) {
        let (w, h) = (w * 2, h * 2);
        for spec in Spec::all() {
            let facts = video(w, h, seconds * 1_000_000, 1_000_000);
            let report = check_video(&facts, &spec);
            prop_assert!(report.ok(), "{:?}", report.violations);
            prop_assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        }
    }
}

#[test]
fn containers_and_formats_outside_the_list_are_violations() {
    for spec in Spec::all() {
        let mut v = video(720, 1280, 5_000_000, 1);
        v.container = Container::Webm;
        assert_eq!(video_rules(&v, &spec), ["video.container"]);
        v.container = Container::Mov;
        assert!(video_rules(&v, &spec).is_empty());
        v.container = Container::Matroska;
        let listed = spec.video.containers.contains(&"matroska");
        assert_eq!(
            video_rules(&v, &spec).is_empty(),
            listed,
            "{}",
            spec.provider
        );
        let mut i = image(720, 1280, 1);
        i.format = ImageFormat::Gif;
        assert_eq!(image_rules(&i, &spec), ["image.format"]);
        // WebP only where listed (kie).
        i.format = ImageFormat::Webp;
        let listed = spec.image.formats.contains(&ImageFormat::Webp);
        assert_eq!(
            image_rules(&i, &spec).is_empty(),
            listed,
            "{}",
            spec.provider
        );
        i.format = ImageFormat::Png;
        assert!(image_rules(&i, &spec).is_empty());
    }
}

#[test]
fn advisories_are_warnings_not_violations() {
    let spec = Spec::all().remove(0);
    let mut v = video(641, 361, 5_000_000, 1);
    v.codec = "hevc".into();
    v.pixel_format = Some("yuv420p10le".into());
    v.bit_depth = Some(10);
    v.variable_frame_rate = true;
    v.rotation = 90;
    v.moov_first = Some(false);
    v.video_streams = 2;
    let report = check_video(&v, &spec);
    assert!(report.ok());
    let rules: Vec<&str> = report.warnings.iter().map(|w| w.rule.id()).collect();
    assert_eq!(
        rules,
        [
            "video.codec.h264",
            "video.pixel_format.yuv420p",
            "video.frame_rate.constant",
            "video.rotation.none",
            "video.size.even",
            "video.moov.first",
            "video.streams.single"
        ]
    );
}
