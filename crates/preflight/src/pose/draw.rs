//! `check --show`: the picture with what the analysis saw drawn on it (boxes,
//! skeleton, the verdict), because people judge this by looking; for a video,
//! a contact sheet of the sampled frames.

use super::pixels::Rgb;
use crate::check::Warning;
use crate::content::{self, Pose};

/// MediaPipe's pose skeleton: pairs of landmark indices.
const BONES: [(usize, usize); 24] = [
    (0, 2),
    (0, 5),
    (2, 7),
    (5, 8),
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 29),
    (29, 31),
    (27, 31),
    (28, 30),
    (30, 32),
    (28, 32),
    (15, 17),
    (16, 18),
];
const GREEN: [u8; 3] = [40, 220, 60];
const YELLOW: [u8; 3] = [250, 210, 40];
const RED: [u8; 3] = [240, 50, 40];
const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];

impl Rgb {
    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            let i = ((y as usize) * self.width as usize + x as usize) * 3;
            self.data[i..i + 3].copy_from_slice(&c);
        }
    }

    fn dot(&mut self, x: f32, y: f32, r: i64, c: [u8; 3]) {
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        for dy in -r..=r {
            for dx in -r..=r {
                if dx * dx + dy * dy <= r * r {
                    self.put(cx + dx, cy + dy, c);
                }
            }
        }
    }

    fn line(&mut self, (x0, y0): (f32, f32), (x1, y1): (f32, f32), r: i64, c: [u8; 3]) {
        let steps = (x1 - x0)
            .abs()
            .max((y1 - y0).abs())
            .ceil()
            .clamp(1.0, 20_000.0) as usize;
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            self.dot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r, c);
        }
    }

    fn rect(&mut self, b: &content::BoxN, r: i64, c: [u8; 3]) {
        let (w, h) = (self.width as f32, self.height as f32);
        let (x0, y0, x1, y1) = (b.x0 * w, b.y0 * h, b.x1 * w, b.y1 * h);
        self.line((x0, y0), (x1, y0), r, c);
        self.line((x1, y0), (x1, y1), r, c);
        self.line((x1, y1), (x0, y1), r, c);
        self.line((x0, y1), (x0, y0), r, c);
    }

    fn fill(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: [u8; 3]) {
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                self.put(i64::from(x), i64::from(y), c);
            }
        }
    }

    /// `text` in the 5×7 font below, `scale` pixels per dot, from (x, y).
    fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, c: [u8; 3]) {
        for (k, ch) in text.chars().enumerate() {
            let rows = glyph(ch);
            let gx = x + k as u32 * 6 * scale;
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        let (px, py) = (gx + col * scale, y + row as u32 * scale);
                        self.fill(px, py, px + scale, py + scale, c);
                    }
                }
            }
        }
    }
}

/// `frame` with the people found (the largest in green with its skeleton,
/// others in yellow) and, in a band at the top, the verdict: `OK` or the
/// advisories' rule ids.
pub fn annotate(frame: &Rgb, pose: &Pose, warnings: &[Warning]) -> Rgb {
    let mut out = frame.clone();
    let thick = i64::from((out.width.max(out.height) / 400).max(1));
    let aspect = pose.aspect();
    for (i, person) in pose.people.iter().enumerate() {
        let colour = if i == 0 { GREEN } else { YELLOW };
        let b = if i == 0 {
            content::person_box(person, aspect)
        } else {
            person.detection.body_box(aspect)
        };
        out.rect(&b, thick, colour);
        let (w, h) = (out.width as f32, out.height as f32);
        let visible = |k: usize| person.landmarks.get(k).filter(|l| l.visible());
        for &(a, z) in &BONES {
            if let (Some(p), Some(q)) = (visible(a), visible(z)) {
                out.line((p.x * w, p.y * h), (q.x * w, q.y * h), thick, WHITE);
            }
        }
        for l in person.landmarks.iter().filter(|l| l.visible()) {
            out.dot(l.x * w, l.y * h, thick + 1, colour);
        }
    }
    let lines: Vec<String> = if warnings.is_empty() {
        vec!["OK: ONE CLEARLY VISIBLE PERSON".into()]
    } else {
        warnings
            .iter()
            .map(|w| w.rule.id().to_uppercase())
            .collect()
    };
    let scale = text_scale(out.width);
    let band = band_height(out.width, lines.len());
    out.fill(0, 0, out.width, band, BLACK);
    let colour = if warnings.is_empty() {
        GREEN
    } else if warnings
        .iter()
        .any(|w| w.rule == crate::rule::Rule::ContentPersonMissing)
    {
        RED
    } else {
        YELLOW
    };
    for (i, line) in lines.iter().enumerate() {
        out.text(2 * scale, (2 + i as u32 * 9) * scale, line, scale, colour);
    }
    out
}

/// Dots per font pixel for a picture `width` wide.
fn text_scale(width: u32) -> u32 {
    (width / 320).clamp(1, 4)
}

/// The verdict band's height over a picture `width` wide: `lines` lines of
/// text (at least one).
fn band_height(width: u32, lines: usize) -> u32 {
    (lines.max(1) as u32 * 9 + 3) * text_scale(width)
}

/// A band `width` wide holding just the verdict: one line per warning's rule
/// id, or the all-clear (a video's contact sheet goes under it).
pub fn verdict_band(width: u32, warnings: &[Warning]) -> Rgb {
    let height = band_height(width, warnings.len());
    let band = Rgb {
        width,
        height,
        data: vec![0; width as usize * height as usize * 3],
    };
    annotate(&band, &Pose::default(), warnings)
}

/// Pictures side by side, `columns` a row, each scaled to `cell` pixels wide
/// (nearest neighbour: these are thumbnails to look at).
pub fn contact_sheet(frames: &[Rgb], columns: usize, cell: u32) -> Rgb {
    let columns = columns.clamp(1, frames.len().max(1));
    let rows = frames.len().div_ceil(columns).max(1);
    let cell_h = frames
        .iter()
        .map(|f| (u64::from(f.height) * u64::from(cell) / u64::from(f.width.max(1))) as u32)
        .max()
        .unwrap_or(cell)
        .max(1);
    let (w, h) = (columns as u32 * cell, rows as u32 * cell_h);
    let mut sheet = Rgb {
        width: w,
        height: h,
        data: vec![0; (w * h * 3) as usize],
    };
    for (i, f) in frames.iter().enumerate() {
        let (ox, oy) = ((i % columns) as u32 * cell, (i / columns) as u32 * cell_h);
        let fh = (u64::from(f.height) * u64::from(cell) / u64::from(f.width.max(1))) as u32;
        for y in 0..fh {
            let sy = (u64::from(y) * u64::from(f.height) / u64::from(fh.max(1))) as u32;
            for x in 0..cell {
                let sx = (u64::from(x) * u64::from(f.width) / u64::from(cell)) as u32;
                let s = ((sy * f.width + sx) * 3) as usize;
                let d = (((oy + y) * w + ox + x) * 3) as usize;
                sheet.data[d..d + 3].copy_from_slice(&f.data[s..s + 3]);
            }
        }
    }
    sheet
}

/// 5×7 dots per character, one byte per row, the high five bits of the low
/// five. Upper-case letters, digits and the punctuation the verdicts use;
/// anything else is a blank.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        _ => [0; 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_sheet_holds_every_frame() {
        let f = Rgb {
            width: 4,
            height: 2,
            data: vec![200; 24],
        };
        let sheet = contact_sheet(&[f.clone(), f.clone(), f], 2, 8);
        assert_eq!((sheet.width, sheet.height), (16, 8));
        // The empty fourth cell stays black; the first is filled.
        assert_eq!(sheet.data[0], 200);
        let last = sheet.data.len() - 3;
        assert_eq!(sheet.data[last], 0);
    }

    #[test]
    fn a_wide_verdict_band_holds_every_rule_id() {
        use crate::rule::Rule;
        let warnings: Vec<Warning> = [
            Rule::ContentMotionFast,
            Rule::ContentPersonSmall,
            Rule::ContentBodyPartial,
        ]
        .into_iter()
        .map(|rule| Warning {
            rule,
            message: String::new(),
        })
        .collect();
        // A 6-column contact sheet of 320 px cells: 4 dots per font pixel.
        let band = verdict_band(1920, &warnings);
        let scale = 4;
        let third_line = (2 + 2 * 9) * scale..(2 + 2 * 9 + 7) * scale;
        assert!(band.height >= third_line.end, "{}", band.height);
        let row_bytes = band.width as usize * 3;
        let drawn = third_line
            .flat_map(|y| band.data[y as usize * row_bytes..(y as usize + 1) * row_bytes].iter())
            .any(|&v| v > 0);
        assert!(drawn, "the third rule id is not drawn");
    }

    #[test]
    fn text_marks_pixels() {
        let mut f = Rgb {
            width: 40,
            height: 10,
            data: vec![0; 1200],
        };
        f.text(0, 0, "OK", 1, WHITE);
        assert!(f.data.contains(&255));
    }
}
