//! Making a local input fit for the provider before it is uploaded: checked
//! against the spec and, when anything (advisories included) would be
//! repaired by `preflight fix`, repaired with the same plan
//! (`preflight::repair`) into a cache folder keyed by the input's hash and
//! the settings.

use std::path::{Path, PathBuf};

use preflight::{FixOptions, Spec};
use sha2::{Digest, Sha256};

use crate::error::SubmitError;
use crate::journal::{Journal, PreparedRecord};
use crate::link::{hash_file, hex};

/// A local input, ready to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub input: PathBuf,
    pub input_sha256: String,
    /// What to send: the input itself when it needs nothing, else the repaired copy.
    pub path: PathBuf,
    pub sha256: String,
    /// `copied` (sent as is), or the repair's action (`remuxed`, `reencoded`…).
    pub action: String,
    /// Taken from the cache: nothing was repaired this time.
    pub cached: bool,
}

/// How inputs are prepared.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    pub spec: Spec,
    pub fix: FixOptions,
    /// Repaired copies go here (created if missing).
    pub cache_dir: PathBuf,
    pub policy: Policy,
}

/// What to do with an input that is not fit to send as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Repair it (the default).
    Repair,
    /// Refuse it: nothing is sent.
    Refuse,
    /// Send it unchecked.
    AsIs,
}

impl PrepareOptions {
    /// Everything the repaired bytes depend on, hashed.
    pub fn settings(&self) -> String {
        let text = format!(
            "{}|{}|{}|{:?}|{}",
            self.spec.provider,
            self.spec.model,
            self.spec.orientation,
            self.fix,
            env!("CARGO_PKG_VERSION")
        );
        hex(&Sha256::digest(text.as_bytes()))[..16].to_string()
    }
}

/// `$XDG_CACHE_HOME/preflight`, else `~/.cache/preflight`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .map(|b| b.join("preflight"))
}

/// Check `input` and repair it if needed; a second call with the same bytes
/// and settings takes the repaired copy from the journal and the cache.
pub fn prepare(
    input: &Path,
    options: &PrepareOptions,
    journal: &Journal,
) -> Result<Prepared, SubmitError> {
    let input_sha256 = hash_file(input)?;
    if options.policy == Policy::AsIs {
        return Ok(Prepared {
            input: input.to_path_buf(),
            path: input.to_path_buf(),
            sha256: input_sha256.clone(),
            input_sha256,
            action: "as is".into(),
            cached: false,
        });
    }
    let settings = options.settings();
    if let Some(rec) = journal.prepared(&input_sha256, &settings)? {
        let path = PathBuf::from(&rec.output_path);
        if path.is_file() {
            return Ok(Prepared {
                input: input.to_path_buf(),
                input_sha256,
                path,
                sha256: rec.output_sha256,
                action: rec.action,
                cached: true,
            });
        }
    }
    // The input's extension, which the plan replaces when the format changes.
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("bin");
    let stem = format!(
        "{}-{settings}.{}",
        &input_sha256[..24],
        ext.to_ascii_lowercase()
    );
    let outcome = repair(input, &options.cache_dir, &stem, options)?;
    let (path, sha256, action) = match outcome {
        Repair::Compliant => (input.to_path_buf(), input_sha256.clone(), "copied".into()),
        Repair::Repaired { output, action } => {
            let sha = hash_file(&output)?;
            (output, sha, action)
        }
    };
    journal.record_prepared(&PreparedRecord {
        input_sha256: input_sha256.clone(),
        settings,
        input_path: input.display().to_string(),
        output_path: path.display().to_string(),
        output_sha256: sha256.clone(),
        action: action.clone(),
    })?;
    Ok(Prepared {
        input: input.to_path_buf(),
        input_sha256,
        path,
        sha256,
        action,
        cached: false,
    })
}

enum Repair {
    Compliant,
    Repaired { output: PathBuf, action: String },
}

/// Whether `input` needs repair (probe, check and plan are header-only and
/// cheap), and the one call into the library's repair when it does.
fn repair(
    input: &Path,
    cache_dir: &Path,
    stem: &str,
    options: &PrepareOptions,
) -> Result<Repair, SubmitError> {
    let failed = |message: String| SubmitError::Repair {
        path: input.display().to_string(),
        message,
    };
    let facts = preflight::probe(input).map_err(|e| failed(e.to_string()))?;
    let report = preflight::check(&facts, &options.spec);
    let plan = preflight::plan(&facts, &options.spec, &options.fix);
    if plan.is_copy() {
        if report.ok() {
            return Ok(Repair::Compliant);
        }
        return Err(failed(format!(
            "it breaks {} and no repair is planned",
            rules(&report)
        )));
    }
    if options.policy == Policy::Refuse {
        return Err(SubmitError::NeedsRepair {
            path: input.display().to_string(),
            provider: options.spec.provider,
            problems: plan_rules(&plan),
        });
    }
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| SubmitError::io(format!("creating {}", cache_dir.display()), e))?;
    // The same plan again inside: the extension follows the output format.
    let fixed = preflight::repair(input, &cache_dir.join(stem), &options.spec, &options.fix)
        .map_err(|e| failed(e.to_string()))?;
    Ok(Repair::Repaired {
        output: fixed.output,
        action: fixed.action.name().to_string(),
    })
}

fn rules(report: &preflight::Report) -> String {
    let r: Vec<&str> = report.violations.iter().map(|v| v.rule.id()).collect();
    r.join(", ")
}

fn plan_rules(plan: &preflight::Plan) -> String {
    fn of<Op>(steps: &[preflight::plan::Step<Op>]) -> Vec<String> {
        steps
            .iter()
            .map(|s| format!("{}: {}", s.rule, s.reason))
            .collect()
    }
    match plan {
        preflight::Plan::Image(p) => of(p.steps()),
        preflight::Plan::Video(p) => of(p.steps()),
    }
    .join("; ")
}
