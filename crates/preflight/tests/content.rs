//! The pose models on real photographs nobody here made, and on cases derived
//! from them with ImageMagick and the ffmpeg CLI. Needs the models and the
//! photos `bash scripts/setup.sh` installs: without them these tests fail and
//! say so (CI installs them). The models are loaded once for the whole binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use preflight::content::video::FrameSample;
use preflight::content::{BodyExtent, ContentFacts};
use preflight::pose::{Rgb, Square};
use preflight::{PoseModels, Rule};

fn models() -> &'static PoseModels {
    static MODELS: OnceLock<PoseModels> = OnceLock::new();
    MODELS.get_or_init(|| {
        PoseModels::load_default()
            .unwrap_or_else(|e| panic!("{e}\nrun `bash scripts/setup.sh` first"))
    })
}

/// A photo installed by `scripts/setup.sh`.
pub fn photo(name: &str) -> PathBuf {
    let dir = std::env::var_os("PREFLIGHT_PHOTOS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| preflight::pose::data_dir().join("photos"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/setup.sh` (it installs the content tests' photos)",
        path.display()
    );
    path
}

fn reference() -> &'static serde_json::Value {
    static REF: OnceLock<serde_json::Value> = OnceLock::new();
    REF.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/content/pose_reference.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    })
}

fn rgb(path: &Path) -> Rgb {
    let img = image::open(path).unwrap().to_rgb8();
    Rgb {
        width: img.width(),
        height: img.height(),
        data: img.into_raw(),
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ImageMagick's `convert` with `args`, writing `out` in `dir`.
fn convert(dir: &Path, args: &[&str], out: &str) -> PathBuf {
    let path = dir.join(out);
    run(Command::new("convert").args(args).arg(&path));
    path
}

fn rules(warnings: &[preflight::Warning]) -> Vec<&'static str> {
    warnings.iter().map(|w| w.rule.id()).collect()
}

fn content_rules(w: &[preflight::Warning]) -> Vec<&'static str> {
    rules(w)
        .into_iter()
        .filter(|r| r.starts_with("content."))
        .collect()
}

/// As `check` analyses a lone picture on two cores.
fn image(path: &Path) -> preflight::ImageContent {
    preflight::analyze_image(path, models(), 2)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_close(what: &str, ours: f32, theirs: f64, tolerance: f64) {
    let d = (f64::from(ours) - theirs).abs();
    assert!(
        d <= tolerance,
        "{what}: ONNX Runtime {ours}, TFLite {theirs} (off by {d})"
    );
}

#[test]
fn onnx_runtime_agrees_with_the_tflite_runtime_on_both_models() {
    let r = &reference()["raw"];
    let astronaut = rgb(&photo("astronaut.png"));
    // Every other pixel from (32, 32): the same input the reference built.
    let square = Square {
        cx: 256.0,
        cy: 256.0,
        side: 448.0,
        rotation: 0.0,
    };
    let (boxes, scores) = models().detector_raw(&astronaut, &square).unwrap();
    let sum: f64 = scores.iter().map(|&s| f64::from(s)).sum();
    assert_close(
        "summed logits",
        sum as f32,
        r["detector_logit_sum"].as_f64().unwrap(),
        0.05,
    );
    for best in r["detector_best"].as_array().unwrap() {
        let i = best["anchor"].as_u64().unwrap() as usize;
        assert_close("logit", scores[i], best["logit"].as_f64().unwrap(), 1e-3);
        for (k, v) in best["values"].as_array().unwrap().iter().enumerate() {
            assert_close("box value", boxes[i * 12 + k], v.as_f64().unwrap(), 1e-2);
        }
    }
    let roi = preflight::content::Roi {
        cx: 0.5,
        cy: 0.5,
        width: 1.0,
        height: 1.0,
        rotation: 0.0,
    };
    let (values, flag) = models().landmarks_raw(&astronaut, &roi).unwrap();
    assert_close(
        "pose flag",
        flag,
        r["landmark_flag"].as_f64().unwrap(),
        1e-3,
    );
    let theirs = r["landmark_values"].as_array().unwrap();
    assert_eq!(values.len(), theirs.len());
    for (i, (ours, theirs)) in values.iter().zip(theirs).enumerate() {
        assert_close(
            &format!("landmark value {i}"),
            *ours,
            theirs.as_f64().unwrap(),
            1e-2,
        );
    }
}

/// Our pipeline against MediaPipe's on its visible landmarks, in frame units.
/// Both run the same models on the same squares, up to how each resamples the
/// picture (MediaPipe through OpenCV).
const MEAN_OFFSET: f64 = 0.02;
const WORST_OFFSET: f64 = 0.05;

#[test]
fn keypoints_agree_with_mediapipe_s_own_pipeline() {
    let pipeline = reference()["pipeline"].as_object().unwrap();
    for (name, expected) in pipeline {
        let found = image(&photo(name));
        let Some(expected) = expected.as_array() else {
            assert_eq!(found.facts.people, 0, "{name}: MediaPipe finds nobody");
            continue;
        };
        let person = found
            .pose
            .people
            .first()
            .unwrap_or_else(|| panic!("{name}: nobody found"));
        let mut offsets = Vec::new();
        for (i, e) in expected.iter().enumerate() {
            let (x, y, vis) = (
                e[0].as_f64().unwrap(),
                e[1].as_f64().unwrap(),
                e[2].as_f64().unwrap(),
            );
            if vis < 0.5 {
                continue;
            }
            let l = person.landmarks[i];
            offsets.push((i, (f64::from(l.x) - x).hypot(f64::from(l.y) - y)));
        }
        assert!(
            offsets.len() >= 10,
            "{name}: only {} visible landmarks compared",
            offsets.len()
        );
        let mean = offsets.iter().map(|o| o.1).sum::<f64>() / offsets.len() as f64;
        let worst = offsets.iter().map(|o| o.1).fold(0.0, f64::max);
        eprintln!(
            "{name}: {} landmarks, mean offset {mean:.4}, worst {worst:.4} of the frame",
            offsets.len()
        );
        assert!(
            mean < MEAN_OFFSET && worst < WORST_OFFSET,
            "{name}: {offsets:.3?}"
        );
    }
}

/// The facts every clearly visible person shares.
fn assert_clear_person(name: &str, c: &preflight::ImageContent) {
    let r = content_rules(&c.warnings);
    for rule in [
        "content.person.missing",
        "content.person.small",
        "content.pose.orientation",
    ] {
        assert!(!r.contains(&rule), "{name}: {r:?} ({:?})", c.facts);
    }
    assert!(
        c.facts.people >= 1 && c.facts.head_visible,
        "{name}: {:?}",
        c.facts
    );
    assert!(c.facts.person_area > 0.2, "{name}: {:?}", c.facts);
}

#[test]
fn real_photos_of_people_give_a_clear_person() {
    // Her left elbow is behind the helmet she holds (MediaPipe's own
    // visibility for it: 0.33): less than an upper body by the rule.
    let astronaut = image(&photo("astronaut.png"));
    assert_clear_person("astronaut", &astronaut);
    assert_eq!(astronaut.facts.people, 1);
    assert_eq!(
        astronaut.facts.body,
        BodyExtent::Partial,
        "{:?}",
        astronaut.facts
    );
    assert!(astronaut.facts.person_area > 0.3, "{:?}", astronaut.facts);
    assert_eq!(content_rules(&astronaut.warnings), ["content.body.partial"]);

    // The cameraman leans into his camera: about 30° from upright.
    let camera = image(&photo("camera.png"));
    assert_clear_person("camera", &camera);
    assert!(
        (15.0..45.0).contains(&camera.facts.roll_deg.unwrap()),
        "{:?}",
        camera.facts
    );

    let messi = image(&photo("messi5.jpg"));
    assert_clear_person("messi5", &messi);
    assert_eq!(messi.facts.body, BodyExtent::Full, "{:?}", messi.facts);
    assert_eq!(content_rules(&messi.warnings), Vec::<&str>::new());
}

#[test]
fn photos_without_a_person_give_person_missing() {
    for name in [
        "coffee.png",
        "chelsea.png",
        "rocket.jpg",
        "motorcycle_left.png",
    ] {
        let c = image(&photo(name));
        assert_eq!(c.facts, ContentFacts::nobody(), "{name}");
        assert_eq!(
            content_rules(&c.warnings),
            ["content.person.missing"],
            "{name}"
        );
    }
}

/// The one advisory of a picture or video too small to judge.
fn assert_too_small(what: &str, facts: &ContentFacts, warnings: &[preflight::Warning], size: &str) {
    assert_eq!(
        content_rules(warnings),
        ["content.person.missing"],
        "{what}"
    );
    assert!(
        warnings[0]
            .message
            .contains(&format!("is {size} px: too small")),
        "{what}: {}",
        warnings[0].message
    );
    assert_eq!(facts.people, 0, "{what}: {facts:?}");
}

#[test]
fn pictures_too_small_to_judge_are_not_judged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Shrunk this far, the astronaut was "1 person, turned -176°", the
    // motorcycle "1 person, 100 % of the frame" and the cameraman "turned
    // 77°": the models saw blur.
    for (name, size, expect) in [
        ("astronaut.png", "12x12", "12 × 12"),
        ("motorcycle_left.png", "x8", "12 × 8"),
        ("camera.png", "80x80", "80 × 80"),
    ] {
        let p = photo(name);
        let small = convert(d, &[p.to_str().unwrap(), "-resize", size], "small.png");
        let c = image(&small);
        assert_too_small(name, &c.facts, &c.warnings, expect);
    }
    // From 128 px on the short side the player is judged as in the photo.
    let messi = photo("messi5.jpg");
    let m = messi.to_str().unwrap();
    let c = image(&convert(d, &[m, "-resize", "x128"], "messi_128.png"));
    assert_eq!(
        (c.facts.people, c.facts.body),
        (1, BodyExtent::Full),
        "{:?}",
        c.facts
    );
    assert!(c.facts.roll_deg.unwrap().abs() < 30.0, "{:?}", c.facts);
    assert!(content_rules(&c.warnings).is_empty(), "{:?}", c.warnings);
    // A video that small is not judged either.
    let clip = slideshow(d, &[(m, 3)], "scale=120:76", "small.mp4");
    let v = video(&clip);
    assert_too_small("video", &v.facts, &v.warnings, "120 × 76");
}

#[test]
fn derived_cases_give_their_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let astronaut = photo("astronaut.png");
    let a = astronaut.to_str().unwrap();

    let upside_down = image(&convert(d, &[a, "-rotate", "180"], "upside_down.png"));
    assert!(
        content_rules(&upside_down.warnings).contains(&"content.pose.orientation"),
        "{:?}",
        upside_down.facts
    );
    assert!(
        upside_down.facts.roll_deg.unwrap().abs() > 135.0,
        "{:?}",
        upside_down.facts
    );

    let lying = image(&convert(d, &[a, "-rotate", "90"], "lying.png"));
    assert!(
        content_rules(&lying.warnings).contains(&"content.pose.orientation"),
        "{:?}",
        lying.facts
    );

    let two = image(&convert(d, &[a, a, "+append"], "two.png"));
    assert_eq!(two.facts.people, 2, "{:?}", two.facts);
    assert!(content_rules(&two.warnings).contains(&"content.person.many"));

    // The top quarter cut off, through her nose: eyes and ears are gone.
    let headless = image(&convert(
        d,
        &[a, "-crop", "512x382+0+130", "+repage"],
        "headless.png",
    ));
    let r = content_rules(&headless.warnings);
    assert!(
        r.contains(&"content.head.hidden"),
        "{r:?} {:?}",
        headless.facts
    );
    assert!(!headless.facts.head_visible && headless.facts.people == 1);
    // Cut below the chin, nobody is found at all: BlazePose's detector looks
    // for a face (still an advisory, and the right one to act on).
    let no_face = image(&convert(
        d,
        &[a, "-crop", "512x330+0+182", "+repage"],
        "no_face.png",
    ));
    assert_eq!(
        content_rules(&no_face.warnings),
        ["content.person.missing"],
        "{:?}",
        no_face.facts
    );

    let small = small_person(d);
    let c = image(&small);
    assert_eq!(
        content_rules(&c.warnings),
        ["content.person.small"],
        "{:?}",
        c.facts
    );
    assert!(
        c.facts.person_area < 0.05 && c.facts.person_area > 0.002,
        "{:?}",
        c.facts
    );
}

/// messi5.jpg's player, cut out with the crowd and pitch around him, pasted at
/// 20 % of the height onto a 2000 × 1500 grass-green canvas.
pub fn small_person(dir: &Path) -> PathBuf {
    let messi = photo("messi5.jpg");
    convert(
        dir,
        &[
            "-size",
            "2000x1500",
            "xc:#3a7d3a",
            "(",
            messi.to_str().unwrap(),
            "-crop",
            "420x300+50+40",
            "+repage",
            "-resize",
            "x300",
            ")",
            "-geometry",
            "+1200+700",
            "-composite",
        ],
        "small.jpg",
    )
}

#[test]
fn frame_person_lifts_a_small_person_above_five_percent() {
    let dir = tempfile::tempdir().unwrap();
    let small = small_person(dir.path());
    let spec = preflight::Spec::lookup(
        preflight::Provider::Aihubmax,
        preflight::Model::KlingV3,
        preflight::Orientation::Video,
    )
    .unwrap();
    let framed = preflight::frame_person(&small, models(), &spec.image, 2)
        .unwrap()
        .expect("a crop");
    assert!(
        framed.before < 0.05 && framed.after > 0.05,
        "{} -> {}",
        framed.before,
        framed.after
    );
    let out = dir.path().join(format!("framed.{}", framed.extension));
    std::fs::write(&out, &framed.bytes).unwrap();
    // Checked again, by the models and by ImageMagick.
    let again = image(&out);
    assert!(again.facts.person_area > 0.05, "{:?}", again.facts);
    assert!(!content_rules(&again.warnings).contains(&"content.person.small"));
    let size = Command::new("identify")
        .args(["-format", "%w %h"])
        .arg(&out)
        .output()
        .unwrap();
    let size = String::from_utf8(size.stdout).unwrap();
    let (w, h) = size.split_once(' ').unwrap();
    let (w, h): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
    assert_eq!((w, h), (framed.crop.width, framed.crop.height));
    assert!(
        w.min(h) >= 300 && f64::from(w) / f64::from(h) <= 2.5 && f64::from(h) / f64::from(w) <= 2.5
    );
}

/// A lone picture's runs take two cores, a folder's one each: the same
/// findings either way, down to the landmarks (the small person also goes
/// through the tiles and a confirmation).
#[test]
fn a_pictures_findings_do_not_depend_on_its_cores() {
    let dir = tempfile::tempdir().unwrap();
    for path in [photo("messi5.jpg"), small_person(dir.path())] {
        let one = preflight::analyze_image(&path, models(), 1).unwrap();
        let two = preflight::analyze_image(&path, models(), 2).unwrap();
        assert_eq!(
            serde_json::to_value(&one.facts).unwrap(),
            serde_json::to_value(&two.facts).unwrap(),
            "{}",
            path.display()
        );
        let marks = |c: &preflight::ImageContent| -> Vec<(f32, f32, f32)> {
            c.pose
                .people
                .iter()
                .flat_map(|p| p.landmarks.iter().map(|l| (l.x, l.y, l.visibility)))
                .collect()
        };
        let (a, b) = (marks(&one), marks(&two));
        assert_eq!(a.len(), 33, "{}: one person's landmarks", path.display());
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            let d = (p.0 - q.0)
                .abs()
                .max((p.1 - q.1).abs())
                .max((p.2 - q.2).abs());
            assert!(d < 1e-5, "{}: {p:?} against {q:?}", path.display());
        }
    }
}

/// The tiles overlap, so the small person is found in two of them: one
/// confirmation on a close crop, not one per find (the second find is of
/// someone the first was already confirmed as). The models are this test's
/// own, so that no other test's runs are counted.
#[test]
fn a_person_found_in_two_tiles_is_confirmed_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_person(dir.path());
    let models = PoseModels::load_default().unwrap();
    for threads in [1, 2] {
        let before = models.runs().unwrap();
        let c = preflight::analyze_image(&path, &models, threads).unwrap();
        let after = models.runs().unwrap();
        assert_eq!(content_rules(&c.warnings), ["content.person.small"]);
        assert_eq!(c.facts.people, 1);
        // What the tiles find, looked at again here (these runs are not
        // counted: `after` was read before).
        let tiles = preflight::pose::tiles(c.frame.width, c.frame.height);
        let finding = tiles
            .iter()
            .filter(|t| {
                !models
                    .detect(&c.frame, t, preflight::content::MIN_SCORE)
                    .unwrap()
                    .is_empty()
            })
            .count();
        assert!(finding >= 2, "the person is in {finding} tiles' finds");
        assert_eq!(
            after.detector - before.detector,
            1 + tiles.len() as u64 + 1,
            "detector runs: the whole frame, {} tiles, one confirmation",
            tiles.len()
        );
        assert_eq!(after.landmarks - before.landmarks, 1, "landmark runs");
    }
}

/// A person pasted small onto a 2000 × 1500 picture of something else.
struct Pasted {
    /// The photo stretched to 2000 × 1500.
    background: &'static str,
    /// The astronaut whole, or messi5's player cut out with the crowd and
    /// pitch around him (420 × 300).
    footballer: bool,
    height: u32,
    at: (u32, u32),
}

impl Pasted {
    /// The picture, saved as a phone would (4:2:0, quality 90). The
    /// background and the cut-out go through 8-bit PNGs first, as in the
    /// 90 pictures the numbers in `pose::analyze` come from.
    fn write(&self, dir: &Path) -> PathBuf {
        let background = photo(self.background);
        let background = convert(
            dir,
            &[background.to_str().unwrap(), "-resize", "2000x1500!"],
            "background.png",
        );
        let subject = match self.footballer {
            true => {
                let messi = photo("messi5.jpg");
                let crop = ["-crop", "420x300+50+40", "+repage"];
                let args = [&[messi.to_str().unwrap()][..], &crop].concat();
                convert(dir, &args, "footballer.png")
            }
            false => photo("astronaut.png"),
        };
        let (height, at) = (
            format!("x{}", self.height),
            format!("+{}+{}", self.at.0, self.at.1),
        );
        let mut args = vec![background.to_str().unwrap(), "("];
        args.extend_from_slice(&[subject.to_str().unwrap(), "-resize", &height, ")"]);
        args.extend_from_slice(&["-geometry", &at, "-composite"]);
        args.extend_from_slice(&["-sampling-factor", "4:2:0", "-quality", "90"]);
        convert(dir, &args, "pasted.jpg")
    }

    /// Whether `d`'s face is where the person was pasted.
    fn holds(&self, d: &preflight::content::geometry::Detection) -> bool {
        let width = match self.footballer {
            true => self.height * 420 / 300,
            false => self.height,
        };
        let (x, y) = ((d.face.x0 + d.face.x1) / 2.0, (d.face.y0 + d.face.y1) / 2.0);
        let (x0, y0) = (self.at.0 as f32 / 2000.0, self.at.1 as f32 / 1500.0);
        let (x1, y1) = (x0 + width as f32 / 2000.0, y0 + self.height as f32 / 1500.0);
        (x0..x1).contains(&x) && (y0..y1).contains(&y)
    }

    /// Analysed: one person, where they were pasted.
    fn assert_found(&self, c: &preflight::ImageContent) {
        assert_eq!(c.facts.people, 1, "{:?}", c.facts);
        let person = &c.pose.people[0].detection;
        assert!(self.holds(person), "{person:?}");
    }

    /// Asserts that no tile finds the pasted person from `MIN_SCORE` on and
    /// that some tile sees them as a near miss; every tile's near misses,
    /// best first.
    fn assert_only_nearly_seen(&self, frame: &Rgb) -> Vec<preflight::content::geometry::Detection> {
        let (mut sure, mut near, mut all_near) = (0, 0, Vec::new());
        for tile in preflight::pose::tiles(frame.width, frame.height) {
            let (found, missed) = models()
                .detect_with_near_misses(
                    frame,
                    &tile,
                    preflight::content::MIN_SCORE,
                    preflight::pose::NEAR_MISS,
                )
                .unwrap();
            sure += found.iter().filter(|d| self.holds(d)).count();
            near += missed.iter().filter(|d| self.holds(d)).count();
            all_near.extend(missed);
        }
        assert_eq!(sure, 0, "a tile's sure find is of the pasted person");
        assert!(near >= 1, "no tile nearly sees the pasted person");
        all_near.sort_by(|a, b| b.score.total_cmp(&a.score));
        all_near
    }
}

/// No tile finds the astronaut, pasted on the coffee cups, from `MIN_SCORE`
/// on, but some see them as a near miss: the tiles' best near miss gets the
/// close look too, after the sure finds (the cups, which the crop refuses),
/// and the crop confirms a person where they were pasted.
#[test]
fn a_small_person_the_tiles_nearly_miss_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = Pasted {
        background: "coffee.png",
        footballer: false,
        height: 300,
        at: (300, 200),
    };
    let c = image(&pasted.write(dir.path()));
    pasted.assert_only_nearly_seen(&c.frame);
    pasted.assert_found(&c);
    assert!(content_rules(&c.warnings).contains(&"content.person.small"));
}

/// The footballer on the coffee cups: the tiles' best near miss is a cup
/// (0.47), refused on its crop; the second best is him (0.39), and it gets
/// its look too.
#[test]
fn the_tiles_second_best_near_miss_gets_a_look() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = Pasted {
        background: "coffee.png",
        footballer: true,
        height: 300,
        at: (1000, 600),
    };
    let c = image(&pasted.write(dir.path()));
    let near = pasted.assert_only_nearly_seen(&c.frame);
    assert!(!pasted.holds(&near[0]), "the best near miss is him");
    pasted.assert_found(&c);
}

/// The footballer, 450 px high, on motorcycle_left.png: the whole frame's
/// only sure find is a loose box over the motorcycle, large enough that the
/// tiles would not run, and the landmark model sees no body in it. The tiles
/// run then, and find him (0.97).
#[test]
fn a_person_under_a_loose_whole_frame_box_is_found_in_the_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = Pasted {
        background: "motorcycle_left.png",
        footballer: true,
        height: 450,
        at: (300, 200),
    };
    let c = image(&pasted.write(dir.path()));
    let frame = &c.frame;
    let whole = Square::whole(frame.width, frame.height);
    let found = models()
        .detect(frame, &whole, preflight::content::MIN_SCORE)
        .unwrap();
    assert!(!found.is_empty());
    let aspect = frame.width as f32 / frame.height as f32;
    for d in &found {
        assert!(!pasted.holds(d), "the whole frame finds him: {d:?}");
        assert!(d.body_box(aspect).area() >= preflight::pose::ZOOM_BELOW);
        let [hip, circle, ..] = d.keypoints;
        let roi = preflight::content::geometry::roi_from_alignment(
            hip,
            circle,
            frame.width,
            frame.height,
        );
        // MediaPipe's threshold on the pose flag.
        let presence = models().landmarks(frame, &roi).unwrap().presence;
        assert!(presence < 0.5, "{d:?}: {presence}; {:?}", c.pose.people);
    }
    pasted.assert_found(&c);
}

/// The footballer swaying over a moving test pattern for 8 s, a keyframe
/// every second, with `then` (an ffmpeg filter, or nothing) applied after,
/// and `more` ffmpeg options: written to `dir`/`out`.
fn swaying_with_keyframes(dir: &Path, then: &str, more: &[&str], out: &str) -> PathBuf {
    let messi = photo("messi5.jpg");
    let filter = format!("[1]scale=-2:300[p];[0][p]overlay=x='100+60*sin(t)':y=30{then}");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x360:r=25:d=8",
        "-loop",
        "1",
        "-i",
        messi.to_str().unwrap(),
        "-filter_complex",
        &filter,
        "-t",
        "8",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
    ];
    args.extend_from_slice(more);
    ffmpeg(dir, &args, out)
}

/// A video with a keyframe every second is decoded in two parts side by
/// side on two threads, in one on one thread: the same frames, the same
/// findings, down to the landmarks.
#[test]
fn a_video_decoded_in_parts_gives_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = swaying_with_keyframes(dir.path(), "", &[], "gop1s.mp4");
    let one = assert_same_findings_in_parts(&path);
    assert!(
        one.samples.iter().all(|s| s.pose.people.len() == 1),
        "{:?}",
        one.facts
    );
}

/// The same footage with no frames from 3 to 4.44 s (variable frame rate,
/// as a phone writes when it drops frames): the frame at 4.44 s is the
/// picture shown at the 3.25, 3.75 and 4.25 s samples. It counts as each of
/// them, in one part or two, so the groups after the gap, and what is
/// followed in them, do not depend on the cores (handed over once, it
/// shifted the one-part groups by two samples: camera_moving_share 0.42 on
/// one core, 0.58 on two).
#[test]
fn a_video_with_a_gap_gives_the_same_findings_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let path = swaying_with_keyframes(
        dir.path(),
        ",select='lt(t,3)+gte(t,4.43)'",
        &["-fps_mode", "passthrough"],
        "gap.mp4",
    );
    let one = assert_same_findings_in_parts(&path);
    let at = |t_us: u64| one.samples.iter().find(|s| s.t_us == t_us);
    let shown = at(4_440_000).expect("the frame after the gap is sampled");
    assert_eq!(
        one.samples.iter().filter(|s| s.t_us == shown.t_us).count(),
        3
    );
}

/// `path` analysed in two parts side by side on two threads, and in one on
/// one thread: the same samples, the same findings, down to the landmarks.
/// Returns the one-part analysis.
fn assert_same_findings_in_parts(path: &Path) -> preflight::VideoContent {
    let facts = match preflight::probe(path).unwrap() {
        preflight::MediaFacts::Video(v) => v,
        _ => panic!("not a video"),
    };
    let window = (0, facts.duration_us);
    let times = preflight::content::video::sample_times(window.0, window.1);
    let parts = preflight::pose::decode_parts(path, &times, 2);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[1].start % 3, 0, "{parts:?}");
    let limits = preflight::DecodeLimits::default();
    let analyse =
        |threads| preflight::analyze_video(path, models(), window, 0, &limits, threads).unwrap();
    let (one, two) = (analyse(1), analyse(2));
    assert_eq!(
        serde_json::to_value(&one.facts).unwrap(),
        serde_json::to_value(&two.facts).unwrap()
    );
    assert_eq!(one.samples.len(), times.len());
    assert_eq!(one.samples.len(), two.samples.len());
    for (a, b) in one.samples.iter().zip(&two.samples) {
        assert_eq!((a.t_us, a.followed), (b.t_us, b.followed));
        assert_eq!(a.pose.people.len(), b.pose.people.len(), "at {} us", a.t_us);
        let marks = |s: &FrameSample| -> Vec<(f32, f32)> {
            s.pose
                .people
                .iter()
                .flat_map(|p| p.landmarks.iter().map(|l| (l.x, l.y)))
                .collect()
        };
        for (p, q) in marks(a).iter().zip(&marks(b)) {
            assert!(
                (p.0 - q.0).abs() < 1e-5 && (p.1 - q.1).abs() < 1e-5,
                "at {} us",
                a.t_us
            );
        }
    }
    one
}

/// `ffmpeg` making a video from `args`, in `dir`.
fn ffmpeg(dir: &Path, args: &[&str], out: &str) -> PathBuf {
    let path = dir.join(out);
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path));
    path
}

/// A video of `stills` (a picture and its seconds each), one after the
/// other, each through `filter`, at 25 frames a second: `dir`/`out`.
fn slideshow(dir: &Path, stills: &[(&str, u32)], filter: &str, out: &str) -> PathBuf {
    let mut args: Vec<String> = Vec::new();
    let mut graph = String::new();
    for (i, (picture, seconds)) in stills.iter().enumerate() {
        args.extend(["-loop", "1", "-t"].map(String::from));
        args.extend([seconds.to_string(), "-i".into(), picture.to_string()]);
        graph.push_str(&format!("[{i}]{filter}[s{i}];"));
    }
    let inputs: String = (0..stills.len()).map(|i| format!("[s{i}]")).collect();
    graph.push_str(&format!("{inputs}concat=n={}:v=1[v]", stills.len()));
    args.extend(["-filter_complex".into(), graph]);
    args.extend(["-map", "[v]", "-r", "25", "-pix_fmt", "yuv420p"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(dir, &args, out)
}

fn video(path: &Path) -> preflight::VideoContent {
    let facts = match preflight::probe(path).unwrap() {
        preflight::MediaFacts::Video(v) => v,
        _ => panic!("not a video"),
    };
    let limits = preflight::DecodeLimits::default();
    preflight::analyze_video(
        path,
        models(),
        (0, facts.duration_us),
        facts.rotation,
        &limits,
        2,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn has(samples: &[FrameSample], rule: Rule, warnings: &[preflight::Warning]) -> bool {
    let _ = samples;
    warnings.iter().any(|w| w.rule == rule)
}

#[test]
fn videos_made_from_the_photos_give_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = photo("astronaut.png");
    let a = a.to_str().unwrap();
    let coffee = photo("coffee.png");

    let messi = photo("messi5.jpg");
    let m = messi.to_str().unwrap();
    // Still: the footballer for 4 s.
    let still = video(&ffmpeg(
        d,
        &[
            "-loop",
            "1",
            "-i",
            m,
            "-t",
            "4",
            "-r",
            "25",
            "-vf",
            "scale=548:342,setsar=1",
            "-pix_fmt",
            "yuv420p",
        ],
        "still.mp4",
    ));
    assert_eq!(
        content_rules(&still.warnings),
        Vec::<&str>::new(),
        "{:?}",
        still.facts
    );
    assert_eq!(still.facts.frames_with_person, still.facts.frames_sampled);
    assert!(still.facts.frames_sampled.unwrap() >= 6);

    // The astronaut for 2 s, then the coffee cup for 2 s: lost half the time.
    let coffee_path = coffee.to_str().unwrap();
    let lost = video(&slideshow(
        d,
        &[(a, 2), (coffee_path, 2)],
        "scale=600:400,setsar=1",
        "lost.mp4",
    ));
    assert!(
        has(&lost.samples, Rule::ContentPersonLost, &lost.warnings),
        "{:?}",
        lost.facts
    );

    // The camera pans across a scene: the footballer, cut out with the crowd
    // behind him, standing in front of the launch pad of rocket.jpg.
    let rocket = photo("rocket.jpg");
    let scene = convert(
        d,
        &[
            rocket.to_str().unwrap(),
            "-resize",
            "1600x",
            "(",
            m,
            "-crop",
            "420x300+50+40",
            "+repage",
            "-resize",
            "x300",
            ")",
            "-geometry",
            "+560+380",
            "-composite",
        ],
        "scene.png",
    );
    let pan = video(&ffmpeg(
        d,
        &[
            "-loop",
            "1",
            "-i",
            scene.to_str().unwrap(),
            "-t",
            "4",
            "-r",
            "25",
            "-vf",
            "crop=960:540:x='200+t*80':y=200",
            "-pix_fmt",
            "yuv420p",
        ],
        "pan.mp4",
    ));
    assert!(
        has(&pan.samples, Rule::ContentCameraMoving, &pan.warnings),
        "{:?}",
        pan.facts
    );
    assert!(!has(
        &still.samples,
        Rule::ContentCameraMoving,
        &still.warnings
    ));

    // A coffee cup only: nobody in any frame.
    let empty = video(&ffmpeg(
        d,
        &[
            "-loop",
            "1",
            "-i",
            coffee.to_str().unwrap(),
            "-t",
            "3",
            "-r",
            "25",
            "-pix_fmt",
            "yuv420p",
        ],
        "empty.mp4",
    ));
    assert_eq!(
        content_rules(&empty.warnings),
        ["content.person.missing"],
        "{:?}",
        empty.facts
    );
}

#[test]
fn a_person_swinging_across_the_frame_moves_too_fast() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let messi = photo("messi5.jpg");
    // The player, cut out, swinging left and right on a plain background once
    // a second: the samples, half a second apart, catch him at either end.
    let fast = video(&ffmpeg(
        d,
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x3a7d3a:s=1280x720:r=25:d=4",
            "-loop",
            "1",
            "-i",
            messi.to_str().unwrap(),
            "-filter_complex",
            "[1]crop=420:300:50:40,scale=-2:300[p];[0][p]overlay=x='360+340*sin(2*PI*t)':y=200[v]",
            "-map",
            "[v]",
            "-t",
            "4",
            "-pix_fmt",
            "yuv420p",
        ],
        "fast.mp4",
    ));
    assert!(
        has(&fast.samples, Rule::ContentMotionFast, &fast.warnings),
        "{:?}",
        fast.facts
    );
    // The same footage standing still is not fast.
    let slow = video(&ffmpeg(
        d,
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x3a7d3a:s=1280x720:r=25:d=4",
            "-loop",
            "1",
            "-i",
            messi.to_str().unwrap(),
            "-filter_complex",
            "[1]crop=420:300:50:40,scale=-2:300[p];[0][p]overlay=x=360:y=200[v]",
            "-map",
            "[v]",
            "-t",
            "4",
            "-pix_fmt",
            "yuv420p",
        ],
        "slow.mp4",
    ));
    assert!(
        !has(&slow.samples, Rule::ContentMotionFast, &slow.warnings),
        "{:?}",
        slow.facts
    );
}

/// A video of one still person (the footballer, full body): the samples
/// after the first of each group are followed by the landmark model alone,
/// and say what the detected samples say. Two people side by side: nothing
/// is followed (the detector counts every sample) and the video has
/// `content.person.many`.
#[test]
fn a_lone_person_is_followed_and_two_people_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let astronaut = photo("astronaut.png");
    let a = astronaut.to_str().unwrap();
    let still_of = |picture: &Path, out: &str| {
        video(&ffmpeg(
            d,
            &[
                "-loop",
                "1",
                "-i",
                picture.to_str().unwrap(),
                "-t",
                "4",
                "-r",
                "25",
                "-vf",
                "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1",
                "-pix_fmt",
                "yuv420p",
            ],
            out,
        ))
    };
    let one = still_of(&photo("messi5.jpg"), "one.mp4");
    let n = one.samples.len();
    let followed: Vec<bool> = one.samples.iter().map(|s| s.followed).collect();
    // Groups of three: detected, followed, followed.
    let expected: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
    assert_eq!(followed, expected, "{:?}", one.facts);
    let boxes: Vec<preflight::content::BoxN> = one
        .samples
        .iter()
        .map(|s| preflight::content::person_box(&s.pose.people[0], s.pose.aspect()))
        .collect();
    for (s, b) in one.samples.iter().zip(&boxes) {
        assert!(b.iou(&boxes[0]) > 0.8, "{} {b:?} {:?}", s.t_us, boxes[0]);
        assert_eq!(s.pose.people.len(), 1);
    }
    assert_eq!(content_rules(&one.warnings), Vec::<&str>::new());
    assert!(one.facts.motion_bh_per_s.unwrap() < 0.1, "{:?}", one.facts);

    let two = still_of(&convert(d, &[a, a, "+append"], "two.png"), "two.mp4");
    assert!(two.samples.iter().all(|s| !s.followed));
    assert_eq!(two.facts.people, 2, "{:?}", two.facts);
    assert!(content_rules(&two.warnings).contains(&"content.person.many"));
}

/// The footballer facing the camera for 2 s, then 3 s with the back of a
/// head where his face was (a dark oval of hair over it, what a player who
/// turns away shows), then facing again for 1 s. The detector keys on the
/// face: it loses him in the turned frames (the picture alone has nobody),
/// and samples a group starts with went missing (`content.person.lost`,
/// someone in 8 of 12 samples). The landmark model follows him through
/// the turn, as MediaPipe's video mode does: someone in every sample.
#[test]
fn a_person_who_turns_away_is_followed_through_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let messi = photo("messi5.jpg");
    let m = messi.to_str().unwrap();
    let facing = convert(d, &[m], "facing.png");
    let turned = convert(
        d,
        &[
            m,
            "-fill",
            "#2a2018",
            "-draw",
            "ellipse 245,126 48,52 0,360",
        ],
        "turned.png",
    );
    assert_eq!(
        content_rules(&image(&turned).warnings),
        ["content.person.missing"],
        "the turned player, as a picture alone, should have nobody in it"
    );
    let (f, t) = (facing.to_str().unwrap(), turned.to_str().unwrap());
    let turn = video(&slideshow(
        d,
        &[(f, 2), (t, 3), (f, 1)],
        "setsar=1",
        "turn.mp4",
    ));
    assert_eq!(turn.facts.frames_sampled, Some(12), "{:?}", turn.facts);
    assert_eq!(turn.facts.frames_with_person, Some(12), "{:?}", turn.facts);
    assert_eq!(content_rules(&turn.warnings), Vec::<&str>::new());
    let during: Vec<&FrameSample> = turn
        .samples
        .iter()
        .filter(|s| (2_000_000..5_000_000).contains(&s.t_us))
        .collect();
    assert_eq!(during.len(), 6);
    for s in during {
        assert!(s.followed, "{} s was not followed", s.t_us as f64 / 1e6);
        assert_eq!(s.pose.people.len(), 1);
    }
}
