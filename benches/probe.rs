//! Probing and checking a folder of media in-process, against what a user would
//! otherwise run: `ffprobe` once per file. Both sides see the same files in the
//! same run; the ratio of their times is the number to report.

use std::path::PathBuf;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use preflight::{check, probe, Spec};

fn fixture_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    for dir in ["images", "videos"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
            files.push(entry.expect("entry").path());
        }
    }
    files.sort();
    files
}

fn probe_folder(c: &mut Criterion) {
    let files = fixture_files();
    let spec = Spec::all().remove(0);
    let mut group = c.benchmark_group("check_fixture_folder");
    group.sample_size(10);
    group.throughput(Throughput::Elements(files.len() as u64));
    group.bench_function("preflight_probe_and_check", |b| {
        b.iter(|| {
            for f in &files {
                if let Ok(facts) = probe(f) {
                    std::hint::black_box(check(&facts, &spec));
                }
            }
        })
    });
    group.bench_function("ffprobe_cli_per_file", |b| {
        b.iter(|| {
            for f in &files {
                let out = Command::new("ffprobe")
                    .args([
                        "-v",
                        "error",
                        "-of",
                        "json",
                        "-show_format",
                        "-show_streams",
                    ])
                    .arg(f)
                    .output()
                    .expect("ffprobe");
                std::hint::black_box(out);
            }
        })
    });
    group.finish();

    let mut single = c.benchmark_group("probe_one");
    single.sample_size(20);
    for name in [
        "videos/ok_720x1280_5s.mp4",
        "images/portrait_720x1280_ok.jpg",
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        single.bench_function(name, |b| b.iter(|| probe(&path).expect("probe")));
    }
    single.finish();
}

criterion_group!(benches, probe_folder);
criterion_main!(benches);
