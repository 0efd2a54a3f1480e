//! The folder scheduler of `fix`: a fixed pool of workers takes jobs from two
//! queues. Videos (the long jobs) go first, longest first, but never more at
//! once than their share of the workers, so images keep flowing beside them;
//! once no image is left, the remaining videos may use every worker.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Which queue a job waits in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Video,
    Image,
}

/// One unit of work and what the scheduler needs to know about it.
pub struct Job<T> {
    pub lane: Lane,
    /// Its size, for progress.
    pub bytes: u64,
    /// Its name as shown while it runs.
    pub name: String,
    pub item: T,
}

/// Where the run stands, after each job starts or finishes.
pub struct Status<'a> {
    pub done: usize,
    pub total: usize,
    pub bytes_done: u64,
    /// Names of the jobs running now.
    pub in_work: &'a [String],
}

/// The queues, before the run.
pub struct Scheduler<T> {
    videos: VecDeque<Job<T>>,
    images: VecDeque<Job<T>>,
    workers: usize,
    video_slots: usize,
}

struct State<T> {
    videos: VecDeque<Job<T>>,
    images: VecDeque<Job<T>>,
    running_videos: usize,
    done: usize,
    bytes_done: u64,
    in_work: Vec<String>,
}

impl<T: Send> Scheduler<T> {
    /// Queues `jobs` for `workers` threads (at least one).
    pub fn new(jobs: impl IntoIterator<Item = Job<T>>, workers: usize) -> Self {
        let workers = workers.max(1);
        let (mut videos, mut images) = (VecDeque::new(), VecDeque::new());
        for job in jobs {
            match job.lane {
                Lane::Video => videos.push_back(job),
                Lane::Image => images.push_back(job),
            }
        }
        // Longest first: a big video started last would keep the run going alone.
        videos
            .make_contiguous()
            .sort_by_key(|j: &Job<T>| std::cmp::Reverse(j.bytes));
        let video_slots = (workers / 2).max(1).min(videos.len().max(1));
        Scheduler {
            videos,
            images,
            workers,
            video_slots,
        }
    }

    /// How many videos run at most at once.
    pub fn video_slots(&self) -> usize {
        self.video_slots
    }

    /// Runs every job: `work` on a worker thread, `status` after each start
    /// and finish (under the scheduler's lock, so keep it short), `finish`
    /// with the job's result once it is done.
    pub fn run<R>(
        self,
        work: impl Fn(&Job<T>) -> R + Sync,
        status: impl Fn(&Status) + Sync,
        finish: impl Fn(Job<T>, R) + Sync,
    ) -> Result<(), rayon::ThreadPoolBuildError> {
        let total = self.videos.len() + self.images.len();
        let video_slots = self.video_slots;
        let state = Mutex::new(State {
            videos: self.videos,
            images: self.images,
            running_videos: 0,
            done: 0,
            bytes_done: 0,
            in_work: Vec::new(),
        });
        let report = |s: &State<T>| {
            status(&Status {
                done: s.done,
                total,
                bytes_done: s.bytes_done,
                in_work: &s.in_work,
            })
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.workers)
            .build()?;
        pool.scope(|scope| {
            for _ in 0..self.workers {
                scope.spawn(|_| {
                    while let Some(job) = next_job(&state, video_slots, report) {
                        let result = work(&job);
                        job_done(&state, &job, report);
                        finish(job, result);
                    }
                });
            }
        });
        Ok(())
    }
}

/// Takes the next job: a video while a video slot is free, else an image, else
/// (no image left) any video.
fn next_job<T>(
    state: &Mutex<State<T>>,
    video_slots: usize,
    report: impl Fn(&State<T>),
) -> Option<Job<T>> {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let job = if s.running_videos < video_slots && !s.videos.is_empty() {
        s.videos.pop_front()
    } else if let Some(job) = s.images.pop_front() {
        Some(job)
    } else {
        s.videos.pop_front()
    }?;
    if job.lane == Lane::Video {
        s.running_videos += 1;
    }
    s.in_work.push(job.name.clone());
    report(&s);
    Some(job)
}

fn job_done<T>(state: &Mutex<State<T>>, job: &Job<T>, report: impl Fn(&State<T>)) {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if job.lane == Lane::Video {
        s.running_videos -= 1;
    }
    s.done += 1;
    s.bytes_done += job.bytes;
    if let Some(pos) = s.in_work.iter().position(|n| *n == job.name) {
        s.in_work.remove(pos);
    }
    report(&s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(lane: Lane, bytes: u64, name: &str) -> Job<()> {
        Job {
            lane,
            bytes,
            name: name.into(),
            item: (),
        }
    }

    #[test]
    fn every_job_runs_once_and_videos_keep_within_their_slots() {
        let jobs = (0..6)
            .map(|i| job(Lane::Video, i, &format!("v{i}")))
            .chain((0..20).map(|i| job(Lane::Image, 1, &format!("i{i}"))));
        let scheduler = Scheduler::new(jobs, 4);
        assert_eq!(scheduler.video_slots(), 2);
        // Seen under the scheduler's lock: the first job started, every image
        // started so far, and the most videos running while an image still waited.
        let first = Mutex::new(None::<String>);
        let images_started = Mutex::new(std::collections::BTreeSet::new());
        let most_videos_while_images_wait = Mutex::new(0);
        let last = Mutex::new((0, 0));
        let finished = Mutex::new(Vec::new());
        scheduler
            .run(
                |j| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    j.name.clone()
                },
                |s| {
                    first
                        .lock()
                        .unwrap()
                        .get_or_insert_with(|| s.in_work[0].clone());
                    let mut images = images_started.lock().unwrap();
                    images.extend(s.in_work.iter().filter(|n| n.starts_with('i')).cloned());
                    let videos = s.in_work.iter().filter(|n| n.starts_with('v')).count();
                    if images.len() < 20 {
                        let mut most = most_videos_while_images_wait.lock().unwrap();
                        *most = (*most).max(videos);
                    }
                    *last.lock().unwrap() = (s.done, s.bytes_done);
                },
                |j, name| {
                    assert_eq!(j.name, name);
                    finished.lock().unwrap().push(name);
                },
            )
            .unwrap();
        let mut names = finished.into_inner().unwrap();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 26);
        assert_eq!(*last.lock().unwrap(), (26, 15 + 20));
        // Longest video first; never more than 2 videos while images wait.
        assert_eq!(first.into_inner().unwrap().as_deref(), Some("v5"));
        let most = most_videos_while_images_wait.into_inner().unwrap();
        assert!(
            (1..=2).contains(&most),
            "{most} videos ran while images waited"
        );
    }
}
