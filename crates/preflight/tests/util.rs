//! Helpers shared by the library's tests.

use std::path::PathBuf;

/// A file of the workspace's `fixtures/` folder.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

/// Cases per property: the test's own count, or `PROPTEST_CASES` when set, or
/// the count times `PREFLIGHT_PROPTEST_FACTOR` (raised by
/// `scripts/proptest-hunt.sh`; CI runs the test's own count).
pub fn proptest_cases(default: u32) -> u32 {
    let var = |name: &str| std::env::var(name).ok()?.parse::<u32>().ok();
    var("PROPTEST_CASES").unwrap_or_else(|| default * var("PREFLIGHT_PROPTEST_FACTOR").unwrap_or(1))
}
