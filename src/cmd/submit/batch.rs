//! `preflight submit --batch FILE`: many pairs, `--jobs` tasks in flight, each
//! followed to its end and downloaded as it finishes, then a summary. A run
//! that is killed and started again picks up from the journal: nothing is
//! repaired, uploaded or created twice.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use preflight::Provider;
use serde::Serialize;
use submit::batch::Item;
use submit::journal::state;
use submit::{flow, pipeline, Client, Credentials, Journal, Settings, SubmitError, Timing};

use super::{journal_path, pair_from, settings_from, SubmitArgs};
use crate::exit;
use crate::shard::{in_shard, parse_shard};

/// One pair's outcome: a line of the summary and an entry of `--report`.
#[derive(Serialize, Clone)]
struct Outcome {
    line: usize,
    image: String,
    video: String,
    provider: Option<&'static str>,
    task: Option<String>,
    /// `succeeded`, `failed` or `skipped`.
    status: &'static str,
    /// What was done to the video: `copied`, `remuxed`, `reencoded`…
    video_action: Option<String>,
    image_action: Option<String>,
    /// Objects sent to the store by this run.
    uploaded: usize,
    /// `created`, `existing` or `recovered`.
    submission: Option<&'static str>,
    result: Option<String>,
    error: Option<String>,
    seconds: f64,
}

#[derive(Serialize)]
struct Report<'a> {
    batch: String,
    jobs: usize,
    seconds: f64,
    succeeded: usize,
    failed: usize,
    pairs: &'a [Outcome],
}

/// Where progress goes: a live line per task on a terminal, plain lines otherwise.
struct Display {
    multi: Option<MultiProgress>,
}

impl Display {
    fn new() -> Display {
        Display {
            multi: io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    fn task_line(&self, name: &str) -> Option<ProgressBar> {
        let multi = self.multi.as_ref()?;
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {prefix} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(150));
        Some(bar)
    }

    fn note(&self, bar: &Option<ProgressBar>, name: &str, line: &str) {
        match bar {
            Some(b) => b.set_message(line.to_string()),
            None => eprintln!("preflight: {name}: {line}"),
        }
    }

    fn result(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        }
    }
}

pub fn run(args: &SubmitArgs, file: &Path, timing: &Timing) -> Result<i32> {
    let started = Instant::now();
    let defaults = pair_from(args, "", "")?;
    let mut items = submit::batch::read(file, &defaults)?;
    if let Some(text) = &args.shard {
        let (k, n) = parse_shard(text)?;
        items.retain(|i| in_shard(Path::new(&i.identity), k, n));
    }
    let mut timing = *timing;
    // Concurrency and rate limits slow a batch down rather than fail its tasks.
    timing.create_attempts = timing.create_attempts.max(40);
    let settings = settings_from(args, &timing)?;
    let journal_file = journal_path(&args.conn.journal)?;
    // Fail early on an unusable journal, before any work.
    Journal::open(&journal_file)?;
    let clients = clients_for(&items, args, &timing);
    let jobs = args.jobs.max(1);
    let display = Display::new();
    let queue = Mutex::new((0..items.len()).collect::<VecDeque<_>>());
    let outcomes = Mutex::new(vec![None::<Outcome>; items.len()]);
    let store_failed = AtomicBool::new(false);
    let ctx = Worker {
        settings: &settings,
        clients: &clients,
        journal_file: &journal_file,
        out: args.wait.out.as_deref(),
        display: &display,
        store_failed: &store_failed,
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(items.len().max(1)) {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(index) = next else { break };
                let outcome = ctx.run(&items[index]);
                display.result(&outcome_line(&outcome));
                outcomes.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(outcome);
            });
        }
    });
    let outcomes: Vec<Outcome> = outcomes
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    finish(args, file, jobs, started.elapsed(), &outcomes)
}

fn finish(
    args: &SubmitArgs,
    file: &Path,
    jobs: usize,
    elapsed: Duration,
    outcomes: &[Outcome],
) -> Result<i32> {
    let succeeded = outcomes.iter().filter(|o| o.status == "succeeded").count();
    let failed = outcomes.len() - succeeded;
    let created = outcomes
        .iter()
        .filter(|o| o.submission == Some("created"))
        .count();
    let uploaded: usize = outcomes.iter().map(|o| o.uploaded).sum();
    if let Some(path) = &args.report {
        let report = Report {
            batch: file.display().to_string(),
            jobs,
            seconds: elapsed.as_secs_f64(),
            succeeded,
            failed,
            pairs: outcomes,
        };
        let text = serde_json::to_vec_pretty(&report)?;
        let temp = preflight::fix::temp_path_for(path);
        std::fs::write(&temp, text)
            .and_then(|_| std::fs::rename(&temp, path))
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "\n{} pair{}: {succeeded} succeeded, {failed} failed in {:.1} s with --jobs {jobs} \
         ({created} task{} created, {uploaded} upload{} this run).",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        elapsed.as_secs_f64(),
        if created == 1 { "" } else { "s" },
        if uploaded == 1 { "" } else { "s" },
    )?;
    let failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status != "succeeded")
        .collect();
    if !failures.is_empty() {
        writeln!(out, "Failed:")?;
        for f in failures {
            writeln!(
                out,
                "  line {} ({}): {}",
                f.line,
                f.video,
                f.error.as_deref().unwrap_or("unknown error")
            )?;
        }
    }
    Ok(if failed == 0 {
        exit::OK
    } else {
        exit::NOT_COMPLIANT
    })
}

fn outcome_line(o: &Outcome) -> String {
    let what = match (&o.result, &o.error) {
        (_, Some(e)) => format!("x {e}"),
        (Some(r), None) => format!("-> {r}"),
        (None, None) => String::new(),
    };
    format!(
        "{:<9} line {} {} {} {}",
        o.status,
        o.line,
        o.provider.unwrap_or("-"),
        o.task.as_deref().unwrap_or("-"),
        what
    )
}

/// One client per provider named in the batch; a missing key fails only that
/// provider's pairs.
fn clients_for(
    items: &[Item],
    args: &SubmitArgs,
    timing: &Timing,
) -> HashMap<Provider, Result<Client, String>> {
    let mut clients = HashMap::new();
    for item in items {
        let Ok(pair) = &item.pair else { continue };
        clients.entry(pair.provider).or_insert_with(|| {
            let creds = Credentials::from_env(pair.provider).map_err(|e| e.to_string())?;
            Ok(super::client_for(
                pair.provider,
                super::base_url_for(pair.provider, args.conn.base_url.clone()),
                creds,
                timing,
            ))
        });
    }
    clients
}

struct Worker<'a> {
    settings: &'a Settings,
    clients: &'a HashMap<Provider, Result<Client, String>>,
    journal_file: &'a Path,
    out: Option<&'a Path>,
    display: &'a Display,
    store_failed: &'a AtomicBool,
}

impl Worker<'_> {
    fn run(&self, item: &Item) -> Outcome {
        let started = Instant::now();
        let (image, video) = item
            .identity
            .split_once('|')
            .unwrap_or((&item.identity, ""));
        let mut o = Outcome {
            line: item.line,
            image: image.to_string(),
            video: video.to_string(),
            provider: None,
            task: None,
            status: "failed",
            video_action: None,
            image_action: None,
            uploaded: 0,
            submission: None,
            result: None,
            error: None,
            seconds: 0.0,
        };
        let name = format!("line {}", item.line);
        let bar = self.display.task_line(&name);
        if self.store_failed.load(Ordering::Relaxed) {
            o.status = "skipped";
            o.error = Some("not tried: the upload store failed for an earlier pair".into());
        } else if let Err(e) = self.attempt(item, &mut o, &bar, &name) {
            if e.is_store_failure() {
                self.store_failed.store(true, Ordering::Relaxed);
            }
            o.error = Some(e.to_string());
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        o.seconds = started.elapsed().as_secs_f64();
        o
    }

    /// Send, follow and download one pair, filling `o` as it goes.
    fn attempt(
        &self,
        item: &Item,
        o: &mut Outcome,
        bar: &Option<ProgressBar>,
        name: &str,
    ) -> Result<(), SubmitError> {
        let pair = item.pair.clone().map_err(SubmitError::Refused)?;
        o.provider = Some(pair.provider.name());
        let client = match self.clients.get(&pair.provider) {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Err(SubmitError::Refused(e.clone())),
            None => return Err(SubmitError::Refused("no client".into())),
        };
        let journal = Journal::open(self.journal_file)?;
        let mut notify = |l: &str| self.display.note(bar, name, l);
        let sent = pipeline::send(&pair, self.settings, client, &journal, &mut notify)?;
        o.video_action = sent.video.as_ref().map(|p| p.action.clone());
        o.image_action = sent.image.as_ref().map(|p| p.action.clone());
        o.uploaded = sent.uploaded;
        o.submission = Some(match sent.submitted {
            submit::Submitted::Created(_) => "created",
            submit::Submitted::Existing(_) => "existing",
            submit::Submitted::Recovered(_) => "recovered",
        });
        let row = journal.get(sent.submitted.record().id)?;
        o.task = Some(row.display_id());
        // Finished and downloaded by an earlier run: nothing to ask.
        if let Some(done) = row
            .result_path
            .as_ref()
            .filter(|p| row.status == "succeeded" && Path::new(p).is_file())
        {
            o.result = Some(done.clone());
            o.status = "succeeded";
            return Ok(());
        }
        if row.status == state::UNKNOWN {
            return Err(row.unknown(pair.provider));
        }
        let task = flow::wait(client, &journal, &row, &self.settings.timing, &mut notify)?;
        o.result = match self.out {
            Some(dir) => {
                notify("downloading the result");
                let (path, _) = flow::download(client, &journal, &row, &task, dir)?;
                Some(path.display().to_string())
            }
            None => task.videos.first().cloned(),
        };
        o.status = "succeeded";
        Ok(())
    }
}
