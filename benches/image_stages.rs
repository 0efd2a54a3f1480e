//! Each stage of the image repair on its own: decode (JPEG, JPEG with an EXIF
//! turn, PNG, HEIC), resize down and up, pad to the aspect window, encode JPEG
//! and PNG. Run with `cargo bench --bench image_stages`; CI runs each once.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use preflight::__bench::{self as image_stages, Picture};
use preflight::plan::image::fit;
use preflight::{Model, Orientation, PadFill, Provider, Spec};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn decoded(rel: &str) -> Picture {
    image_stages::probe_and_decode(&fixture(rel)).expect("fixture decodes")
}

fn stages(c: &mut Criterion) {
    let spec = Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Image).expect("sold");

    let mut group = c.benchmark_group("image_decode");
    group.sample_size(20);
    for (name, rel) in [
        ("jpeg_3000x800", "images/panorama_3000x800.jpg"),
        (
            "jpeg_exif6_1280x720",
            "images/exif6_stored_1280x720_displays_720x1280.jpg",
        ),
        ("png_1024", "images/square_1024_ok.png"),
        ("heic_720x1280", "images/heic_720x1280.heic"),
    ] {
        let path = fixture(rel);
        group.bench_function(name, |b| {
            b.iter(|| black_box(image_stages::probe_and_decode(&path).expect("decodes")))
        });
    }
    group.finish();

    let panorama = decoded("images/panorama_3000x800.jpg");
    let tiny = decoded("images/tiny_200x150.png");
    // The plan's layouts: the panorama padded to Kling's 2.5:1, the tiny
    // picture enlarged to the 340 px minimum.
    let pano_layout = fit(panorama.width(), panorama.height(), &spec.image, None).expect("fits");
    let tiny_layout = fit(tiny.width(), tiny.height(), &spec.image, None).expect("fits");
    assert!(pano_layout.is_padded());

    let mut group = c.benchmark_group("image_resize");
    group.sample_size(20);
    group.bench_function("down_3000x800_to_1500x400", |b| {
        b.iter(|| black_box(image_stages::resize(&panorama, 1500, 400).expect("resizes")))
    });
    group.bench_function("up_200x150_to_min_side", |b| {
        b.iter(|| {
            black_box(
                image_stages::resize(&tiny, tiny_layout.content_width, tiny_layout.content_height)
                    .expect("resizes"),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("image_pad");
    group.sample_size(20);
    for (name, fill) in [
        ("border_3000x800_to_2.5", PadFill::Border),
        ("blur_3000x800_to_2.5", PadFill::Blur),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(image_stages::pad(&panorama, &pano_layout, fill).expect("pads")))
        });
    }
    group.finish();

    let canvas = image_stages::pad(&panorama, &pano_layout, PadFill::Border).expect("pads");
    let mut group = c.benchmark_group("image_encode");
    group.sample_size(20);
    group.bench_function("jpeg_q92_3000x1200", |b| {
        b.iter(|| black_box(image_stages::encode_jpeg(&canvas, 92).expect("encodes")))
    });
    group.bench_function("png_3000x1200", |b| {
        b.iter(|| black_box(image_stages::encode_png(&canvas).expect("encodes")))
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
