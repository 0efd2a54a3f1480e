//! The output folder's manifest: which input (by content hash) was repaired with
//! which settings into which output. A rerun skips what it records, so an
//! interrupted run is finished by running the same command again.
//!
//! Lines are appended only after an output has been renamed into place, so a
//! line always stands for a complete file. Each shard appends to its own file.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub const DIR: &str = ".preflight";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Input path relative to the folder it was found in.
    pub input: String,
    pub input_hash: String,
    /// Fingerprint of the provider, model, orientation, repair options and tool
    /// version.
    pub settings: String,
    /// Output path relative to the output folder.
    pub output: String,
    pub action: String,
    pub bytes_out: u64,
}

pub struct Manifest {
    out_dir: PathBuf,
    entries: HashMap<String, Entry>,
    writer: Mutex<File>,
}

impl Manifest {
    pub fn open(out_dir: &Path, shard: Option<(u64, u64)>) -> io::Result<Manifest> {
        let dir = out_dir.join(DIR);
        fs::create_dir_all(&dir)?;
        let mut entries = HashMap::new();
        for file in fs::read_dir(&dir)? {
            let path = file?.path();
            let is_manifest = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("manifest") && n.ends_with(".jsonl"));
            if !is_manifest {
                continue;
            }
            for line in BufReader::new(File::open(&path)?).lines() {
                // A line cut short by a kill is simply not a record.
                if let Ok(entry) = serde_json::from_str::<Entry>(&line?) {
                    entries.insert(entry.input.clone(), entry);
                }
            }
        }
        let name = match shard {
            Some((k, n)) => format!("manifest-{k}-of-{n}.jsonl"),
            None => "manifest.jsonl".to_string(),
        };
        let writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))?;
        Ok(Manifest {
            out_dir: out_dir.to_path_buf(),
            entries,
            writer: Mutex::new(writer),
        })
    }

    /// The record of an earlier run that did this input with these settings,
    /// if its output is still there, whole.
    pub fn done(&self, input: &str, input_hash: &str, settings: &str) -> Option<&Entry> {
        let entry = self.entries.get(input)?;
        let same = entry.input_hash == input_hash && entry.settings == settings;
        let output_len = fs::metadata(self.out_dir.join(&entry.output)).ok()?.len();
        (same && output_len == entry.bytes_out).then_some(entry)
    }

    pub fn record(&self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        let mut file = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)?;
        file.flush()
    }
}

/// BLAKE3 of a file's content, hex.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

pub fn hash_text(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..16].to_string()
}

/// Removes temporary files left by runs that were killed: hidden
/// `.NAME.partial-PID-N.EXT` files whose process is gone.
pub fn sweep_partials(out_dir: &Path) -> usize {
    let mut removed = 0;
    for entry in walkdir_files(out_dir) {
        let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(pid) = partial_pid(name) else {
            continue;
        };
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        if !alive && fs::remove_file(&entry).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn partial_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let rest = &name[name.find(".partial-")? + ".partial-".len()..];
    rest.split('-').next()?.parse().ok()
}

fn walkdir_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = fs::read_dir(&d) else { continue };
        for e in read.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => files.push(e.path()),
                _ => {}
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names() {
        assert_eq!(partial_pid(".clip.partial-1234-7.mp4"), Some(1234));
        assert_eq!(partial_pid("clip.mp4"), None);
        assert_eq!(partial_pid(".hidden.jpg"), None);
    }

    #[test]
    fn records_survive_reopening_and_need_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest::open(dir.path(), None).unwrap();
        fs::write(dir.path().join("a.jpg"), b"12345").unwrap();
        let entry = Entry {
            input: "a.jpg".into(),
            input_hash: "h".into(),
            settings: "s".into(),
            output: "a.jpg".into(),
            action: "copied".into(),
            bytes_out: 5,
        };
        m.record(&entry).unwrap();
        drop(m);
        let m = Manifest::open(dir.path(), Some((1, 2))).unwrap();
        assert!(m.done("a.jpg", "h", "s").is_some());
        assert!(m.done("a.jpg", "other", "s").is_none());
        assert!(m.done("a.jpg", "h", "other").is_none());
        fs::write(dir.path().join("a.jpg"), b"123").unwrap();
        assert!(
            m.done("a.jpg", "h", "s").is_none(),
            "a changed output is redone"
        );
    }
}
