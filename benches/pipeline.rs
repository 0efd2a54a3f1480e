//! The decision core (check, plan) and a short video repair (probe, plan,
//! conform, check again), per stage.
//! Run with `cargo bench --bench pipeline`; `cargo test --benches` runs each
//! benchmark once, which is what CI does to keep them compiling and working.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use preflight::{check, plan, probe, repair, FixOptions, MediaFacts, Spec};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn facts_of(rels: &[&str]) -> Vec<MediaFacts> {
    rels.iter()
        .map(|r| probe(&fixture(r)).expect("fixture probes"))
        .collect()
}

fn decisions(c: &mut Criterion) {
    let facts = facts_of(&[
        "videos/long_45s_360x640.mp4",
        "videos/rotate_90_stored_640x360.mp4",
        "videos/hevc_10bit_720x1280.mp4",
        "videos/wide_4096x1024.mp4",
        "images/panorama_3000x800.jpg",
        "images/tiny_200x150.png",
        "images/portrait_720x1280_ok.jpg",
    ]);
    let specs = Spec::all();
    let options = FixOptions::default();
    // Named by what they cover: the spec table grows with the providers.
    let per = format!("{}_files_x_{}_specs", facts.len(), specs.len());
    c.bench_function(&format!("check/{per}"), |b| {
        b.iter(|| {
            for f in &facts {
                for s in &specs {
                    std::hint::black_box(check(f, s));
                }
            }
        })
    });
    c.bench_function(&format!("plan/{per}"), |b| {
        b.iter(|| {
            for f in &facts {
                for s in &specs {
                    std::hint::black_box(plan(f, s, &options));
                }
            }
        })
    });
}

fn video_conform(c: &mut Criterion) {
    let spec = Spec::all().remove(0);
    let options = FixOptions::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("video_conform");
    group.sample_size(10);
    for (name, rel) in [
        (
            "rotate_640x360_4s_reencode",
            "videos/rotate_90_stored_640x360.mp4",
        ),
        ("mkv_640x360_4s_remux", "videos/mkv_640x360.mkv"),
    ] {
        let input = fixture(rel);
        let out = dir.path().join(format!("{name}.mp4"));
        group.bench_function(name, |b| {
            b.iter(|| repair(&input, &out, &spec, &options).expect("conform"))
        });
    }
    group.finish();
}

criterion_group!(benches, decisions, video_conform);
criterion_main!(benches);
