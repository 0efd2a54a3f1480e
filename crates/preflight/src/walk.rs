//! Expanding the paths a user names into the files to work on: folders are
//! walked recursively in a stable order, symlinks are followed with loop
//! detection, hidden entries are skipped unless asked for.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// A path that could not be walked, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    /// What could not be read.
    pub path: PathBuf,
    /// Why, for the user.
    pub message: String,
}

/// How to walk.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Also walk hidden files and folders (names starting with `.`).
    pub include_hidden: bool,
}

/// One file to process, or a path that could not be read. `root` is the named
/// path the file was found under, for writing outputs at the same relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The path given on the command line that led here.
    pub root: PathBuf,
    /// The file.
    pub path: PathBuf,
}

impl Found {
    /// The file's path relative to the folder it was found in (its name when the
    /// user named the file itself).
    pub fn relative(&self) -> PathBuf {
        if self.root == self.path {
            return self
                .path
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| self.path.clone());
        }
        self.path
            .strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| self.path.clone())
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
}

/// Every file under `paths` (files given directly included), sorted within
/// each folder; unreadable entries are returned as errors, not skipped.
pub fn walk(paths: &[PathBuf], options: WalkOptions) -> Vec<Result<Found, WalkError>> {
    let mut out = Vec::new();
    for root in paths {
        let walker = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || options.include_hidden || !is_hidden(e.file_name())
            });
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_dir() => {}
                Ok(e) => out.push(Ok(Found {
                    root: root.clone(),
                    path: e.into_path(),
                })),
                Err(err) => {
                    let path = err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    let message = if let Some(ancestor) = err.loop_ancestor() {
                        format!(
                            "symlink loop: it leads back to {}; not followed",
                            ancestor.display()
                        )
                    } else if let Some(io) = err.io_error() {
                        format!("cannot read: {io}")
                    } else {
                        err.to_string()
                    };
                    out.push(Err(WalkError { path, message }));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_skips_hidden_and_reports_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("b.jpg"), b"x").unwrap();
        std::fs::write(root.join("sub/a.mp4"), b"x").unwrap();
        std::fs::write(root.join(".hidden.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();

        let found = walk(std::slice::from_ref(&root), WalkOptions::default());
        let files: Vec<_> = found.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].relative(), PathBuf::from("b.jpg"));
        assert_eq!(files[1].relative(), PathBuf::from("sub/a.mp4"));
        let errors: Vec<_> = found.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("symlink loop"),
            "{:?}",
            errors[0]
        );

        let with_hidden = walk(
            &[root],
            WalkOptions {
                include_hidden: true,
            },
        );
        assert_eq!(with_hidden.iter().filter(|r| r.is_ok()).count(), 3);
    }
}
