//! Links and hashes: what a URL may show in messages and the journal, and the
//! content hashes that name uploads and identify tasks. Pure, except for
//! reading a file to hash it.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::SubmitError;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` is an http(s) link rather than a local path.
pub fn is_url(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// A URL fit for messages and the journal: signature and token values hidden.
pub fn redact_link(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if is_secret_param(k) => format!("{k}=REDACTED"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// Whether a link carries anything [`redact_link`] hides: such a link is a
/// credential, never kept.
pub fn carries_secret(url: &str) -> bool {
    redact_link(url) != url
}

fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "signature",
        "security-token",
        "token",
        "sig",
        "credential",
        "key",
    ]
    .iter()
    .any(|s| n.ends_with(s))
}

/// `s` percent-encoded for a path segment or a query value.
pub fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `url` lives on the same scheme, host and port as `base`: only such
/// links get the API key.
pub fn same_origin(url: &str, base: &str) -> bool {
    fn origin(u: &str) -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some(format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        ))
    }
    origin(url).is_some() && origin(url) == origin(base)
}

/// The MIME type providers expect for our outputs.
pub fn content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Length and SHA-256 (hex) of everything `r` yields.
pub fn hash_reader(mut r: impl Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

/// SHA-256 (hex) of a file, streamed.
pub fn hash_file(path: &Path) -> Result<String, SubmitError> {
    File::open(path)
        .and_then(hash_reader)
        .map(|(_, h)| h)
        .map_err(|e| SubmitError::io(format!("reading {}", path.display()), e))
}

/// SHA-256 (hex) of bytes in memory.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lose_their_signatures_in_messages() {
        let u = "http://h/b/k.mp4?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F1&X-Amz-Signature=abc123&X-Amz-Security-Token=tok";
        let r = redact_link(u);
        assert!(
            !r.contains("abc123") && !r.contains("tok") && !r.contains("AK%2F1"),
            "{r}"
        );
        assert!(r.contains("X-Amz-Algorithm=AWS4"));
        assert_eq!(redact_link("https://e.com/a.mp4"), "https://e.com/a.mp4");
        assert!(carries_secret(u) && !carries_secret("https://e.com/a.mp4?x=1"));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("https://q.fal.run/a/b?x", "https://Q.fal.run"));
        assert!(!same_origin(
            "https://q.fal.run.evil.com/a",
            "https://q.fal.run"
        ));
        assert!(!same_origin("http://q.fal.run/a", "https://q.fal.run"));
        assert!(!same_origin("http://127.0.0.1:81/a", "http://127.0.0.1:80"));
        assert!(!same_origin("not a url", "https://q.fal.run"));
        assert_eq!(encode_component("a b/c"), "a%20b%2Fc");
    }
}
