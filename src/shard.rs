//! `--shard K/N`: the same split of a list on every machine, for `fix` (by a
//! file's relative path) and `submit --batch` (by a pair's `image|video`).

use std::path::Path;

use anyhow::{Context, Result};

/// `K/N` with 1 <= K <= N.
pub fn parse_shard(text: &str) -> Result<(u64, u64)> {
    let parse = || -> Option<(u64, u64)> {
        let (k, n) = text.split_once('/')?;
        let (k, n) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (1..=n).contains(&k).then_some((k, n))
    };
    parse().with_context(|| {
        format!("--shard takes K/N with 1 <= K <= N (for example 2/8), not `{text}`")
    })
}

/// Stable across machines and runs: a hash of the relative path.
pub fn in_shard(relative: &Path, k: u64, n: u64) -> bool {
    let hash = blake3::hash(relative.to_string_lossy().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first) % n == k - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn shards_split_every_file_exactly_once() {
        let paths: Vec<PathBuf> = (0..500)
            .map(|i| PathBuf::from(format!("d/{i}.jpg")))
            .collect();
        let n = 4;
        let mut per_shard = [0usize; 4];
        for p in &paths {
            let owners: Vec<u64> = (1..=n).filter(|k| in_shard(p, *k, n)).collect();
            assert_eq!(owners.len(), 1);
            per_shard[(owners[0] - 1) as usize] += 1;
        }
        assert!(per_shard.iter().all(|c| *c > 80), "{per_shard:?}");
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        assert!(parse_shard("0/8").is_err() && parse_shard("9/8").is_err());
    }
}
