//! Batch files: a CSV with a header row, or JSON Lines, one pair per row.
//! Columns (keys): `image`, `video`, and optionally `prompt`,
//! `negative_prompt`, `orientation`, `mode`, `model`, `keep_sound`,
//! `provider`; what a row leaves out (or leaves empty) comes from the
//! defaults. Paths are relative to the batch file's folder.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::SubmitError;
use crate::pipeline::{Pair, Source};

/// One row of a batch file.
#[derive(Debug, Clone)]
pub struct Item {
    /// 1-based line (CSV: record) number, for messages.
    pub line: usize,
    /// `image|video` as written in the file: stable across machines, for sharding.
    pub identity: String,
    /// The pair, or why the row cannot be sent.
    pub pair: Result<Pair, String>,
}

const KNOWN: [&str; 9] = [
    "image",
    "video",
    "prompt",
    "negative_prompt",
    "orientation",
    "mode",
    "model",
    "keep_sound",
    "provider",
];

/// Read a batch file: JSON Lines by extension (`.jsonl`, `.ndjson`) or when
/// its first non-blank character is `{`, CSV otherwise.
pub fn read(path: &Path, defaults: &Pair) -> Result<Vec<Item>, SubmitError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SubmitError::io(format!("reading the batch file {}", path.display()), e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = matches!(ext.as_str(), "jsonl" | "ndjson") || text.trim_start().starts_with('{');
    let rows = if json {
        json_rows(&text)?
    } else {
        csv_rows(&text)?
    };
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(rows
        .into_iter()
        .map(|(line, fields)| {
            let fields = fields.map_err(|e| e.to_string());
            let identity = match &fields {
                Ok(f) => format!(
                    "{}|{}",
                    f.get("image").map_or("", String::as_str),
                    f.get("video").map_or("", String::as_str)
                ),
                Err(_) => format!("line {line}"),
            };
            Item {
                line,
                identity,
                pair: fields.and_then(|f| pair_of(&f, defaults, base)),
            }
        })
        .collect())
}

type Fields = HashMap<String, String>;
type Rows = Vec<(usize, Result<Fields, String>)>;

fn json_rows(text: &str) -> Result<Rows, SubmitError> {
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let fields = match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => Ok(m
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let v = match v {
                            Value::Null => return None,
                            Value::String(s) => s,
                            Value::Bool(b) => (if b { "yes" } else { "no" }).to_string(),
                            other => other.to_string(),
                        };
                        Some((k, v))
                    })
                    .collect()),
                Ok(_) => Err("not a JSON object".to_string()),
                Err(e) => Err(format!("not JSON: {e}")),
            };
            (i + 1, fields)
        })
        .collect())
}

fn csv_rows(text: &str) -> Result<Rows, SubmitError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| SubmitError::Refused(format!("the batch file's header row: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for need in ["image", "video"] {
        if !header.iter().any(|h| h == need) {
            return Err(SubmitError::Refused(format!(
                "the batch file's header has no `{need}` column (columns: {})",
                KNOWN.join(", ")
            )));
        }
    }
    Ok(reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let line = r
                .as_ref()
                .ok()
                .and_then(|r| r.position())
                .map_or(i + 2, |p| p.line() as usize);
            let fields = r.map_err(|e| e.to_string()).map(|r| {
                header
                    .iter()
                    .zip(r.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect()
            });
            (line, fields)
        })
        .collect())
}

fn pair_of(f: &Fields, defaults: &Pair, base: &Path) -> Result<Pair, String> {
    if let Some(unknown) = f.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "unknown column `{unknown}` (known: {})",
            KNOWN.join(", ")
        ));
    }
    let source = |key: &str| -> Result<Source, String> {
        let text = f.get(key).ok_or_else(|| format!("no {key}"))?;
        Ok(match Source::parse(text) {
            Source::File(p) if p.is_relative() => Source::File(base.join(p)),
            other => other,
        })
    };
    let parse = |key: &str| f.get(key).map(String::as_str);
    let err = |key: &str, e: &dyn std::fmt::Display| format!("{key}: {e}");
    Ok(Pair {
        image: source("image")?,
        video: source("video")?,
        provider: match parse("provider") {
            Some(p) => p.parse().map_err(|e| err("provider", &e))?,
            None => defaults.provider,
        },
        model: match parse("model") {
            Some(m) => m.parse().map_err(|e| err("model", &e))?,
            None => defaults.model,
        },
        mode: match parse("mode") {
            Some(m) => m.parse().map_err(|e| err("mode", &e))?,
            None => defaults.mode,
        },
        orientation: match parse("orientation") {
            Some(o) => o.parse().map_err(|e| err("orientation", &e))?,
            None => defaults.orientation,
        },
        prompt: f.get("prompt").cloned().or_else(|| defaults.prompt.clone()),
        negative_prompt: f
            .get("negative_prompt")
            .cloned()
            .or_else(|| defaults.negative_prompt.clone()),
        keep_sound: match parse("keep_sound").map(str::to_ascii_lowercase).as_deref() {
            None => defaults.keep_sound,
            Some("yes" | "true") => Some(true),
            Some("no" | "false") => Some(false),
            Some(other) => return Err(format!("keep_sound takes yes or no, not `{other}`")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Mode;
    use preflight::{Model, Orientation, Provider};

    fn defaults() -> Pair {
        Pair {
            image: Source::Url(String::new()),
            video: Source::Url(String::new()),
            provider: Provider::Kling,
            model: Model::KlingV3,
            mode: Mode::Std,
            orientation: Orientation::Video,
            prompt: Some("default prompt".into()),
            negative_prompt: None,
            keep_sound: None,
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_columns_override_defaults_and_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "pairs.csv",
            "image,video,prompt,mode,provider,keep_sound\n\
             a.jpg,clips/a.mov,\"dance, slowly\",pro,novita,no\n\
             /abs/b.jpg,https://e.com/b.mp4,,,,\n\
             c.jpg,c.mov,,fast,,\n",
        );
        let items = read(&p, &defaults()).unwrap();
        assert_eq!(items.len(), 3);
        let a = items[0].pair.as_ref().unwrap();
        assert_eq!(a.image, Source::File(dir.path().join("a.jpg")));
        assert_eq!(a.video, Source::File(dir.path().join("clips/a.mov")));
        assert_eq!(a.prompt.as_deref(), Some("dance, slowly"));
        assert_eq!(
            (a.mode, a.provider, a.keep_sound),
            (Mode::Pro, Provider::Novita, Some(false))
        );
        let b = items[1].pair.as_ref().unwrap();
        assert_eq!(b.image, Source::File("/abs/b.jpg".into()));
        assert_eq!(b.video, Source::Url("https://e.com/b.mp4".into()));
        assert_eq!(b.prompt.as_deref(), Some("default prompt"));
        assert_eq!(items[1].identity, "/abs/b.jpg|https://e.com/b.mp4");
        assert!(items[2].pair.as_ref().unwrap_err().contains("mode"));
    }

    #[test]
    fn json_lines_by_extension_or_content() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{\"image\": \"a.jpg\", \"video\": \"a.mov\", \"keep_sound\": true}\n\n[1]\n";
        for name in ["pairs.jsonl", "pairs.txt"] {
            let items = read(&write(dir.path(), name, text), &defaults()).unwrap();
            assert_eq!(items.len(), 2);
            assert_eq!(items[0].pair.as_ref().unwrap().keep_sound, Some(true));
            assert_eq!(items[1].line, 3);
            assert!(items[1].pair.is_err());
        }
        let bad = write(dir.path(), "bad.csv", "picture,clip\nx,y\n");
        assert!(read(&bad, &defaults()).is_err());
    }
}
