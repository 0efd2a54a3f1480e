//! `--content` (check), `--frame-person` (fix), `--strict-content` (submit):
//! what the pictures show, with the pose models loaded once per process and
//! shared by every worker.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use preflight::content::ContentFacts;
use preflight::{MediaFacts, PoseModels, Spec, Warning};

/// Starts loading the pose models (the first file is probed and decoded
/// meanwhile), or says how to install them (`flag` is the option that needs
/// them). The caller exits 2 on the error. `first_threads`: see
/// [`first_run_threads`].
pub fn load_models(flag: &str, first_threads: usize) -> Result<PoseModels> {
    PoseModels::start_loading_default(first_threads)
        .map_err(|e| anyhow!("{flag} needs the pose models: {e}"))
}

/// The cores one file's analysis has to itself: every core for a lone file,
/// one each when files are analysed side by side.
pub fn threads_per_file(files: usize) -> usize {
    if files == 1 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    }
}

/// The ONNX Runtime threads of the model runs that come first, whose
/// sessions are made while the models load: a lone picture's runs take
/// every core; a video's runs (its workers are the parallelism) and a
/// folder's take one each.
pub fn first_run_threads(files: &[&Path]) -> usize {
    match files {
        [one]
            if matches!(
                preflight::probe::sniff_file(one),
                Ok(preflight::sniff::Sniffed::Image(_))
            ) =>
        {
            threads_per_file(1)
        }
        _ => 1,
    }
}

/// What the content analysis of one file gave.
pub struct Analysed {
    pub facts: ContentFacts,
    pub warnings: Vec<Warning>,
    /// `--show`: the PNG to write.
    pub picture: Option<Vec<u8>>,
}

impl Analysed {
    /// A video's findings, with its contact sheet when `show` asks for it.
    fn of_video(c: preflight::VideoContent, show: bool) -> Result<Self, preflight::ContentError> {
        let picture = show.then(|| preflight::show_video(&c)).transpose()?;
        Ok(Self {
            facts: c.facts,
            warnings: c.warnings,
            picture,
        })
    }
}

/// Analyses one probed file: an image whole, a video over the window `fix`
/// would send. `threads`: the cores the file has to itself (a video: how
/// many of its frames to analyse at once).
/// With `deep`, a video's cut scan rides on the same decode when the window
/// is known from the plan, and what it found comes back too.
pub fn analyse(
    path: &Path,
    facts: &MediaFacts,
    spec: &Spec,
    models: &PoseModels,
    threads: usize,
    show: bool,
    deep: bool,
) -> Result<(Analysed, Option<preflight::Scenes>), preflight::ContentError> {
    let options = preflight::FixOptions::default();
    if let (true, MediaFacts::Video(v)) = (deep, facts) {
        if let Some(window) = preflight::pose::planned_window(v, spec, &options) {
            let (scenes, c) = preflight::pose::scenes_and_content(
                path,
                models,
                window,
                v.rotation,
                &options.limits,
                threads,
            )?;
            return Ok((Analysed::of_video(c, show)?, Some(scenes)));
        }
    }
    Ok((
        analyse_alone(path, facts, spec, models, threads, show)?,
        None,
    ))
}

fn analyse_alone(
    path: &Path,
    facts: &MediaFacts,
    spec: &Spec,
    models: &PoseModels,
    threads: usize,
    show: bool,
) -> Result<Analysed, preflight::ContentError> {
    match facts {
        MediaFacts::Image(_) => {
            let c = preflight::analyze_image(path, models, threads)?;
            let picture = show.then(|| preflight::show_image(&c)).transpose()?;
            Ok(Analysed {
                facts: c.facts,
                warnings: c.warnings,
                picture,
            })
        }
        MediaFacts::Video(v) => {
            let options = preflight::FixOptions::default();
            let window = preflight::pose::sent_window(path, v, spec, &options)?;
            let c = preflight::analyze_video(
                path,
                models,
                window,
                v.rotation,
                &options.limits,
                threads,
            )?;
            Analysed::of_video(c, show)
        }
    }
}

/// Where `--show DIR` puts the picture of `input`: its path with separators
/// turned into `_`, plus `.png` (so that files of one name in two folders do
/// not overwrite each other).
pub fn show_path(dir: &Path, input: &Path) -> PathBuf {
    let flat: String = input
        .to_string_lossy()
        .trim_start_matches(['/', '.'])
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    dir.join(format!("{flat}.png"))
}

/// Writes `bytes` to `path` through a temporary file beside it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("png.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// `fix --frame-person`: an image cut around its small person, written to a
/// temporary file that the repair then takes as its input.
pub struct Framed {
    /// The cut picture (deleted with `_dir`).
    pub path: PathBuf,
    /// Its facts.
    pub facts: MediaFacts,
    /// What the cut did, for the line and the report (the rule it answers
    /// is `content.person.small`).
    pub what: String,
    _dir: tempfile::TempDir,
}

/// The image at `path` cut around its person, when the person is small.
/// `threads`: the cores the picture has to itself.
pub fn frame(
    path: &Path,
    models: &PoseModels,
    spec: &Spec,
    threads: usize,
) -> Result<Option<Framed>> {
    let Some(cut) = preflight::frame_person(path, models, &spec.image, threads)? else {
        return Ok(None);
    };
    let dir = tempfile::tempdir()?;
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let to = dir.path().join(format!("{stem}.{}", cut.extension));
    std::fs::write(&to, &cut.bytes)?;
    let facts = preflight::probe(&to)?;
    let c = cut.crop;
    Ok(Some(Framed {
        path: to,
        facts,
        what: format!(
            "crop {}x{} at ({}, {}) around the person: {:.1} % of the frame before, {:.1} % after",
            c.width,
            c.height,
            c.x,
            c.y,
            cut.before * 100.0,
            cut.after * 100.0
        ),
        _dir: dir,
    }))
}

/// `submit`: the content of a pair's local files, before anything is
/// uploaded or created. Runs when the models are installed (always with
/// `strict`, which needs them); prints every finding on stderr. Returns
/// `true` when `strict` and there is a finding: the caller refuses.
pub fn submit_gate(image: &str, video: &str, spec: &Spec, strict: bool) -> Result<bool> {
    let models = if strict {
        load_models("--strict-content", 1)?
    } else if PoseModels::installed_in(&PoseModels::default_dir()) {
        match PoseModels::load_default() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("preflight: content not checked: {e}");
                return Ok(false);
            }
        }
    } else {
        return Ok(false);
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut findings: Vec<(String, Warning)> = Vec::new();
    let mut facts = [None, None];
    for (slot, input) in [image, video].into_iter().enumerate() {
        if input.starts_with("http://") || input.starts_with("https://") {
            continue;
        }
        let path = Path::new(input);
        let probed = preflight::probe(path).map_err(|e| anyhow!("{input}: {e}"))?;
        let (found, _) = analyse(path, &probed, spec, &models, threads, false, false)
            .map_err(|e| anyhow!("{input}: content: {e}"))?;
        findings.extend(found.warnings.into_iter().map(|w| (input.to_string(), w)));
        facts[slot] = Some(found.facts);
    }
    if let [Some(i), Some(v)] = &facts {
        let pair = format!("{image} + {video}");
        findings.extend(
            preflight::content::pair_warnings(i, v)
                .into_iter()
                .map(|w| (pair.clone(), w)),
        );
    }
    for (input, w) in &findings {
        eprintln!("preflight: {input}: ! {}: {}", w.rule, w.message);
    }
    if findings.is_empty() && facts.iter().any(Option::is_some) {
        eprintln!("preflight: content: one clearly visible person, nothing to advise");
    }
    if strict && !findings.is_empty() {
        eprintln!(
            "preflight: refusing to submit: {} content finding{} above (--strict-content); nothing was uploaded or created",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        );
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_paths_keep_folders_apart() {
        let a = show_path(Path::new("out"), Path::new("photos/a/me.jpg"));
        let b = show_path(Path::new("out"), Path::new("photos/b/me.jpg"));
        assert_ne!(a, b);
        assert_eq!(a, Path::new("out/photos_a_me.jpg.png"));
        assert_eq!(
            show_path(Path::new("o"), Path::new("/tmp/x.png")),
            Path::new("o/tmp_x.png.png")
        );
    }
}
