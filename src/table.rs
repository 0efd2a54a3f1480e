//! Plain-text formatting shared by the table outputs.

/// Bytes in decimal units, as the providers state their limits.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Pads or cuts `text` to `width` characters, keeping its end (file names are
/// told apart by their ends).
pub fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else {
        let tail: String = text.chars().skip(count - (width - 1)).collect();
        format!("…{tail}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn units() {
        assert_eq!(super::bytes(999), "999 B");
        assert_eq!(super::bytes(10_000_000), "10.0 MB");
        assert_eq!(super::fit("abcdef", 4), "…def");
        assert_eq!(super::fit("ab", 4), "ab  ");
    }
}
