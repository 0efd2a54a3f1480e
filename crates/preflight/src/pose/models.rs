//! The two BlazePose models, loaded once and run by ONNX Runtime (the
//! library `scripts/setup.sh` installs beside them, loaded at run time).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::pixels::{Border, Rgb, Square};
use crate::content::geometry::{
    self, Detection, Point, Roi, ANCHORS, BODY_LANDMARKS, DETECTOR_SIDE, DETECTOR_VALUES,
    LANDMARK_SIDE, MODEL_LANDMARKS,
};
use crate::content::Landmark;
use crate::error::ContentError;

/// The person detector's file name in the models folder.
pub const DETECTOR_FILE: &str = "pose_detection.onnx";
/// The landmark model's file name in the models folder.
pub const LANDMARK_FILE: &str = "pose_landmark_full.onnx";
/// ONNX Runtime's library's file name in the models folder.
pub const RUNTIME_FILE: &str = "libonnxruntime.so";
/// Every file the models folder must hold.
const FILES: [&str; 3] = [DETECTOR_FILE, LANDMARK_FILE, RUNTIME_FILE];

type Plan = Arc<Sessions>;

/// MediaPipe's BlazePose detector and 33-keypoint landmark model (full), as
/// `scripts/setup.sh` installs them (rewritten by `scripts/pose_models.py`,
/// converted to ONNX). Load once and share: running takes `&self`, from any
/// number of threads.
#[derive(Clone)]
pub struct PoseModels {
    detector: Arc<Loading>,
    landmarks: Arc<Loading>,
    anchors: Arc<Vec<Point>>,
    /// ONNX Runtime threads of each run (see [`PoseModels::on_threads`]).
    run_threads: usize,
}

/// A model being loaded on its own thread (0.1–0.2 s each): the first run
/// waits for it, so a process decodes its first file meanwhile.
struct Loading {
    path: PathBuf,
    job: Mutex<Option<JoinHandle<Result<Plan, String>>>>,
    plan: OnceLock<Result<Plan, String>>,
}

impl Loading {
    fn start(path: PathBuf, side: usize, threads: usize) -> Loading {
        let from = path.clone();
        let job = std::thread::Builder::new()
            .name("pose-model-load".into())
            .spawn(move || load_plan(&from, side, threads));
        let (job, plan) = match job {
            Ok(job) => (Some(job), OnceLock::new()),
            // No thread to spare: load here and now.
            Err(_) => (None, OnceLock::from(load_plan(&path, side, threads))),
        };
        Loading {
            path,
            job: Mutex::new(job),
            plan,
        }
    }

    /// The loaded model, waiting for the load to finish.
    fn plan(&self) -> Result<&Plan, ContentError> {
        let loaded = self.plan.get_or_init(|| {
            let job = self.job.lock().unwrap_or_else(|e| e.into_inner()).take();
            match job.map(JoinHandle::join) {
                Some(Ok(result)) => result,
                Some(Err(panic)) => Err(crate::error::panic_message(panic.as_ref())),
                None => Err("the load did not run".to_string()),
            }
        });
        loaded.as_ref().map_err(|reason| ContentError::ModelLoad {
            path: self.path.display().to_string(),
            reason: reason.clone(),
        })
    }
}

impl std::fmt::Debug for PoseModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoseModels")
    }
}

/// What the landmark model says about one square.
pub struct LandmarkRun {
    /// The 33 body landmarks, normalised to the frame.
    pub landmarks: Vec<Landmark>,
    /// The model's own "a body is here" score, 0–1.
    pub presence: f32,
    /// Its own hip centre and body-circle point (auxiliary landmarks 33 and
    /// 34), normalised to the frame: where MediaPipe looks in the next frame
    /// of a video.
    pub alignment: [Point; 2],
}

/// Runs of each model (see [`PoseModels::runs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRuns {
    /// Runs of the person detector.
    pub detector: u64,
    /// Runs of the landmark model.
    pub landmarks: u64,
}

/// preflight's data folder, where `scripts/setup.sh` installs the models
/// (`models/`) and the content tests' photos (`photos/`):
/// `$XDG_DATA_HOME/preflight`, else `~/.local/share/preflight`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("preflight")
}

impl PoseModels {
    /// Where the models live: `$PREFLIGHT_MODELS`, else
    /// `$XDG_DATA_HOME/preflight/models`, else `~/.local/share/preflight/models`.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("PREFLIGHT_MODELS").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        data_dir().join("models")
    }

    /// Whether both model files are in `dir`.
    pub fn installed_in(dir: &Path) -> bool {
        FILES.iter().all(|file| dir.join(file).is_file())
    }

    /// Loads both models from `dir` (side by side, on two threads), ready
    /// for runs on one thread each.
    pub fn load(dir: &Path) -> Result<PoseModels, ContentError> {
        let models = Self::start_loading(dir, 1)?;
        models.detector.plan()?;
        models.landmarks.plan()?;
        Ok(models)
    }

    /// Starts loading both models from `dir` on their own threads and returns
    /// at once, so that the caller can probe and decode meanwhile: the first
    /// run waits for its model. `first_threads`: the ONNX Runtime threads of
    /// the runs expected first (a lone picture: every core; a video or a
    /// folder: 1), whose sessions are made during the load; sessions for
    /// other counts are made when first needed. A missing file is an error
    /// here; a file that does not load is the first run's error
    /// ([`ContentError::ModelLoad`]).
    pub fn start_loading(dir: &Path, first_threads: usize) -> Result<PoseModels, ContentError> {
        for file in FILES {
            if !dir.join(file).is_file() {
                return Err(ContentError::ModelsMissing {
                    dir: dir.display().to_string(),
                    missing: file.to_string(),
                });
            }
        }
        let threads = first_threads.max(1);
        Ok(PoseModels {
            detector: Arc::new(Loading::start(
                dir.join(DETECTOR_FILE),
                DETECTOR_SIDE,
                threads,
            )),
            landmarks: Arc::new(Loading::start(
                dir.join(LANDMARK_FILE),
                LANDMARK_SIDE,
                threads,
            )),
            anchors: Arc::new(geometry::anchors()),
            run_threads: 1,
        })
    }

    /// Loads both models from [`PoseModels::default_dir`].
    pub fn load_default() -> Result<PoseModels, ContentError> {
        Self::load(&Self::default_dir())
    }

    /// [`PoseModels::start_loading`] from [`PoseModels::default_dir`].
    pub fn start_loading_default(first_threads: usize) -> Result<PoseModels, ContentError> {
        Self::start_loading(&Self::default_dir(), first_threads)
    }

    /// The same models (shared, not loaded again), each run of them on
    /// `threads` threads of ONNX Runtime's own. For runs that nothing else
    /// in the process runs beside: two threads took a run from 20 to 12–17
    /// ms (detector) and from 26 to 15–17 ms (landmarks) on 2 cores, and
    /// where every core is already busy they only add switching.
    pub fn on_threads(&self, threads: usize) -> PoseModels {
        PoseModels {
            run_threads: threads.max(1),
            ..self.clone()
        }
    }

    /// How many times each model has run since these models were loaded,
    /// counting every copy [`PoseModels::on_threads`] made: the work an
    /// analysis cost, in model runs (a run is 10–30 ms).
    pub fn runs(&self) -> Result<ModelRuns, ContentError> {
        let count = |loading: &Loading| -> Result<u64, ContentError> {
            Ok(loading.plan()?.runs.load(Ordering::Relaxed))
        };
        Ok(ModelRuns {
            detector: count(&self.detector)?,
            landmarks: count(&self.landmarks)?,
        })
    }

    /// The detector's raw outputs for `square` of `frame`: 2254 × 12 box
    /// values and 2254 score logits.
    pub fn detector_raw(
        &self,
        frame: &Rgb,
        square: &Square,
    ) -> Result<(Vec<f32>, Vec<f32>), ContentError> {
        let input = frame.sample(square, DETECTOR_SIDE, (-1.0, 1.0), Border::Zero);
        let [boxes, scores] = run(
            self.detector.plan()?,
            (input, self.run_threads),
            [ANCHORS * DETECTOR_VALUES, ANCHORS],
        )?;
        Ok((boxes, scores))
    }

    /// People in `square` of `frame` scoring at least `min_score`, after
    /// suppression, in frame coordinates (normalised), best first.
    pub fn detect(
        &self,
        frame: &Rgb,
        square: &Square,
        min_score: f32,
    ) -> Result<Vec<Detection>, ContentError> {
        Ok(self
            .detect_with_near_misses(frame, square, min_score, min_score)?
            .0)
    }

    /// As [`PoseModels::detect`], from one run: the finds scoring at least
    /// `min_score` (suppressed among themselves, as MediaPipe does), and the
    /// near misses scoring from `near` up to it (suppressed among themselves).
    pub fn detect_with_near_misses(
        &self,
        frame: &Rgb,
        square: &Square,
        min_score: f32,
        near: f32,
    ) -> Result<(Vec<Detection>, Vec<Detection>), ContentError> {
        let (boxes, scores) = self.detector_raw(frame, square)?;
        let candidates =
            geometry::decode_detections(&boxes, &scores, &self.anchors, near.min(min_score));
        let (found, missed): (Vec<Detection>, Vec<Detection>) =
            candidates.into_iter().partition(|d| d.score >= min_score);
        let found = self.to_frame(geometry::weighted_nms(found, 0.3), frame, square);
        let missed = self.to_frame(geometry::weighted_nms(missed, 0.3), frame, square);
        Ok((found, missed))
    }

    fn to_frame(&self, kept: Vec<Detection>, frame: &Rgb, square: &Square) -> Vec<Detection> {
        let (w, h) = (frame.width, frame.height);
        kept.into_iter()
            .map(|d| {
                let map = |p: Point| {
                    let (x, y) = square.to_frame(p.x, p.y, w, h);
                    Point { x, y }
                };
                let (a, b) = (
                    map(Point {
                        x: d.face.x0,
                        y: d.face.y0,
                    }),
                    map(Point {
                        x: d.face.x1,
                        y: d.face.y1,
                    }),
                );
                Detection {
                    score: d.score,
                    face: geometry::BoxN {
                        x0: a.x,
                        y0: a.y,
                        x1: b.x,
                        y1: b.y,
                    },
                    keypoints: d.keypoints.map(map),
                }
            })
            .collect()
    }

    /// The landmark model's raw outputs for `roi` of `frame`: 39 × 5 values
    /// (x, y, z, visibility and presence logits, in input pixels) and the
    /// pose flag.
    pub fn landmarks_raw(&self, frame: &Rgb, roi: &Roi) -> Result<(Vec<f32>, f32), ContentError> {
        let square = Square {
            cx: roi.cx * frame.width as f32,
            cy: roi.cy * frame.height as f32,
            side: roi.width * frame.width as f32,
            rotation: roi.rotation,
        };
        let input = frame.sample(&square, LANDMARK_SIDE, (0.0, 1.0), Border::Replicate);
        let [values, flag] = run(
            self.landmarks.plan()?,
            (input, self.run_threads),
            [MODEL_LANDMARKS * 5, 1],
        )?;
        let flag = flag[0];
        Ok((values, flag))
    }

    /// The 33 body landmarks in `roi`, in frame coordinates.
    pub fn landmarks(&self, frame: &Rgb, roi: &Roi) -> Result<LandmarkRun, ContentError> {
        let (values, flag) = self.landmarks_raw(frame, roi)?;
        let side = LANDMARK_SIDE as f32;
        let in_frame = |v: &[f32]| {
            geometry::project_from_roi(
                Point {
                    x: v[0] / side,
                    y: v[1] / side,
                },
                roi,
            )
        };
        // `run` checked the length: 39 landmarks of 5 values.
        let aux = |i: usize| in_frame(&values[i * 5..i * 5 + 2]);
        let alignment = [aux(BODY_LANDMARKS), aux(BODY_LANDMARKS + 1)];
        let landmarks = values
            .chunks_exact(5)
            .take(BODY_LANDMARKS)
            .map(|v| {
                let p = in_frame(v);
                Landmark {
                    x: p.x,
                    y: p.y,
                    visibility: geometry::sigmoid(v[3]),
                }
            })
            .collect();
        Ok(LandmarkRun {
            landmarks,
            presence: flag,
            alignment,
        })
    }
}

/// The ONNX Runtime environment, one per process, from the library in the
/// first models folder loaded (the library cannot be swapped once loaded).
static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

type Runtime = ort::environment::Environment;

fn runtime(dir: &Path) -> Result<&'static Runtime, String> {
    let env = RUNTIME.get_or_init(|| {
        let library = dir.join(RUNTIME_FILE);
        ort::init_from(&library)
            .map_err(|e| format!("{}: {e}", library.display()))?
            .with_name("preflight")
            .build()
            .map_err(|e| e.to_string())
    });
    env.as_ref().map_err(Clone::clone)
}

/// One model's sessions. Running one takes it for the run (ONNX Runtime's
/// sessions run one input at a time here), so threads that run the model at
/// the same moment each get their own, built on first need from the same
/// bytes (about 0.05 s; at most one per thread that runs models and thread
/// count a run asks for).
struct Sessions {
    runtime: &'static Runtime,
    bytes: Vec<u8>,
    side: usize,
    /// Idle sessions, each with its thread count.
    idle: Mutex<Vec<(usize, Session)>>,
    /// Runs made so far (see [`PoseModels::runs`]).
    runs: AtomicU64,
}

impl Sessions {
    fn session(&self, threads: usize) -> Result<Session, String> {
        let taken = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let found = idle.iter().position(|(t, _)| *t == threads);
            found.map(|i| idle.swap_remove(i).1)
        };
        match taken {
            Some(session) => Ok(session),
            None => new_session(self.runtime, &self.bytes, threads),
        }
    }

    fn put_back(&self, threads: usize, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((threads, session));
    }
}

/// A session whose runs use `threads` threads: one for the workers of a
/// folder or a video, which are the parallelism themselves (a thread pool
/// per session would compete with them); more for a lone picture's runs.
fn new_session(runtime: &Runtime, bytes: &[u8], threads: usize) -> Result<Session, String> {
    let fail = |e: ort::Error<ort::session::builder::SessionBuilder>| e.to_string();
    Session::builder(runtime)
        .map_err(|e| e.to_string())?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(fail)?
        .with_intra_threads(threads)
        .map_err(fail)?
        .with_inter_threads(1)
        .map_err(fail)?
        // A spinning pool thread kept a core busy after its run while the
        // other model ran: two threads were slower than one (messi5 56 ->
        // 70-83 ms); without spinning, 54 -> 36 ms.
        .with_intra_op_spinning(false)
        .map_err(fail)?
        .commit_from_memory(bytes)
        .map_err(|e| e.to_string())
}

/// The model at `path`, ready for one `side`² RGB picture, with a session
/// for runs on `threads` threads; the reason when it does not load.
fn load_plan(path: &Path, side: usize, threads: usize) -> Result<Plan, String> {
    let runtime = runtime(path.parent().unwrap_or(Path::new(".")))?;
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let first = new_session(runtime, &bytes, threads)?;
    Ok(Arc::new(Sessions {
        runtime,
        bytes,
        side,
        idle: Mutex::new(vec![(threads, first)]),
        runs: AtomicU64::new(0),
    }))
}

/// Runs the model on one picture (its side² RGB, rows of pixels, as
/// [`Rgb::sample`] makes it); its first `N` outputs, each checked to hold
/// `lens` numbers. The others (the landmark model's segmentation and heat
/// maps, about 0.9 MB a run) are not copied.
fn run<const N: usize>(
    plan: &Plan,
    (input, threads): (Vec<f32>, usize),
    lens: [usize; N],
) -> Result<[Vec<f32>; N], ContentError> {
    let fail = |e: String| ContentError::Inference(e);
    let side = plan.side;
    if input.len() != side * side * 3 {
        return Err(fail(format!("the input is not {side}x{side} RGB")));
    }
    let tensor = Tensor::from_array(([1usize, 3, side, side], planar(&input, side)))
        .map_err(|e| fail(e.to_string()))?;
    let mut session = plan.session(threads).map_err(fail)?;
    plan.runs.fetch_add(1, Ordering::Relaxed);
    let outputs = session
        .run(ort::inputs![tensor])
        .map_err(|e| fail(e.to_string()))
        .and_then(|out| {
            let mut values = out.values();
            let mut taken: [Vec<f32>; N] = std::array::from_fn(|_| Vec::new());
            for (index, (slot, len)) in taken.iter_mut().zip(lens).enumerate() {
                let bad = || fail(format!("the model's output {index} is not {len} numbers"));
                let value = values.next().ok_or_else(bad)?;
                let (_, numbers) = value.try_extract_tensor::<f32>().map_err(|_| bad())?;
                if numbers.len() != len {
                    return Err(bad());
                }
                *slot = numbers.to_vec();
            }
            Ok(taken)
        });
    plan.put_back(threads, session);
    outputs
}

/// Interleaved RGB rows as three planes, the converted models' layout.
fn planar(rgb: &[f32], side: usize) -> Vec<f32> {
    let plane = side * side;
    let mut out = vec![0.0; plane * 3];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        out[i] = px[0];
        out[plane + i] = px[1];
        out[2 * plane + i] = px[2];
    }
    out
}
