//! Helpers shared by the library's tests.

use std::path::PathBuf;

/// A file of the workspace's `fixtures/` folder.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}
