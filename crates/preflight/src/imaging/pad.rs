//! Bars that bring a picture into the aspect window, centred on a larger canvas.
//!
//! `Border` (the default) paints each bar one solid colour: the per-channel
//! median of the two outermost rows (or columns) on that side of the picture,
//! so the bars continue the picture's own edge and add no shapes. `Blur` and
//! `Mirror` copy the picture into the bars; they put a second, larger ghost of
//! the character in the frame and are offered only as options.

use fast_image_resize::FilterType;

use super::resize::resize_with;
use super::Raster;
use crate::error::FixError;
use crate::plan::image::Layout;
use crate::plan::PadFill;

/// Which edge a bar continues.
#[derive(Clone, Copy)]
enum Edge {
    Top,
    Bottom,
    Left,
    Right,
}

/// The colour of the `depth` outermost rows or columns at `edge`: the edge's
/// pixels sorted by brightness, and the middle fifth of them averaged. This is
/// a colour the edge really has (a per-channel median can mix channels of
/// different pixels into a tint none of them has), robust to a minority of
/// other colours (a red block in a corner) and to JPEG noise.
fn edge_colour(img: &Raster, edge: Edge, depth: u32) -> [u8; 4] {
    let c = img.channels as usize;
    let (w, h) = (img.width as usize, img.height as usize);
    let rows = (depth as usize).min(h);
    let cols = (depth as usize).min(w);
    let mut coords = Vec::new();
    match edge {
        Edge::Top | Edge::Bottom => {
            for i in 0..rows {
                let y = if matches!(edge, Edge::Top) {
                    i
                } else {
                    h - 1 - i
                };
                coords.extend((0..w).map(|x| (x, y)));
            }
        }
        Edge::Left | Edge::Right => {
            for i in 0..cols {
                let x = if matches!(edge, Edge::Left) {
                    i
                } else {
                    w - 1 - i
                };
                coords.extend((0..h).map(|y| (x, y)));
            }
        }
    }
    let mut pixels: Vec<(u32, [u8; 4])> = coords
        .into_iter()
        .map(|(x, y)| {
            let p = (y * w + x) * c;
            let mut px = [255u8; 4];
            px[..c].copy_from_slice(&img.data[p..p + c]);
            let luma = 299 * px[0] as u32 + 587 * px[1] as u32 + 114 * px[2] as u32;
            (luma, px)
        })
        .collect();
    pixels.sort_unstable_by_key(|(luma, _)| *luma);
    let n = pixels.len();
    let middle = &pixels[n * 2 / 5..(n * 3 / 5).max(n * 2 / 5 + 1).min(n)];
    let mut sum = [0u64; 4];
    for (_, px) in middle {
        for ch in 0..4 {
            sum[ch] += px[ch] as u64;
        }
    }
    let k = middle.len() as u64;
    sum.map(|s| ((s + k / 2) / k) as u8)
}

/// Index into `0..n` of the pixel `d` steps beyond an edge, reflected back
/// and forth (for bars wider than the picture).
fn reflect(d: usize, n: usize) -> usize {
    let m = d % (2 * n);
    if m < n {
        m
    } else {
        2 * n - 1 - m
    }
}

/// `content` (already scaled to the layout's content size) centred on the
/// layout's canvas, the bars filled as `fill` says.
pub(crate) fn pad(content: &Raster, layout: &Layout, fill: PadFill) -> Result<Raster, FixError> {
    let c = content.channels as usize;
    let (cw, ch) = (content.width as usize, content.height as usize);
    let (w, h) = (layout.width as usize, layout.height as usize);
    let (left, top) = (layout.left as usize, layout.top as usize);
    if (cw, ch)
        != (
            layout.content_width as usize,
            layout.content_height as usize,
        )
        || left + cw > w
        || top + ch > h
    {
        return Err(FixError::Image(format!(
            "pad: {cw}x{ch} does not fit the planned {w}x{h} canvas"
        )));
    }
    let row = w * c;
    let mut data = match fill {
        PadFill::Blur => blurred_cover(content, layout)?.data,
        _ => vec![0u8; row * h],
    };
    let solid = |data: &mut [u8], x0: usize, y0: usize, x1: usize, y1: usize, colour: [u8; 4]| {
        for y in y0..y1 {
            for px in data[y * row + x0 * c..y * row + x1 * c].chunks_exact_mut(c) {
                px.copy_from_slice(&colour[..c]);
            }
        }
    };
    let vertical_bars = h > ch; // bars above and below
    let horizontal_bars = w > cw; // bars left and right
    match fill {
        PadFill::Border => {
            if vertical_bars {
                solid(&mut data, 0, 0, w, top, edge_colour(content, Edge::Top, 2));
                solid(
                    &mut data,
                    0,
                    top + ch,
                    w,
                    h,
                    edge_colour(content, Edge::Bottom, 2),
                );
            }
            if horizontal_bars {
                solid(
                    &mut data,
                    0,
                    0,
                    left,
                    h,
                    edge_colour(content, Edge::Left, 2),
                );
                solid(
                    &mut data,
                    left + cw,
                    0,
                    w,
                    h,
                    edge_colour(content, Edge::Right, 2),
                );
            }
        }
        PadFill::Color([r, g, b]) => solid(&mut data, 0, 0, w, h, [r, g, b, 255]),
        PadFill::Blur => {}
        PadFill::Mirror => {
            for y in 0..h {
                // The source row: inside the picture, or reflected from its edge.
                let sy = if y < top {
                    reflect(top - 1 - y, ch)
                } else if y >= top + ch {
                    ch - 1 - reflect(y - top - ch, ch)
                } else {
                    y - top
                };
                let src = &content.data[sy * cw * c..(sy + 1) * cw * c];
                let dst = &mut data[y * row..(y + 1) * row];
                for x in 0..w {
                    let sx = if x < left {
                        reflect(left - 1 - x, cw)
                    } else if x >= left + cw {
                        cw - 1 - reflect(x - left - cw, cw)
                    } else {
                        x - left
                    };
                    dst[x * c..(x + 1) * c].copy_from_slice(&src[sx * c..(sx + 1) * c]);
                }
            }
        }
    }
    for y in 0..ch {
        let dst = (top + y) * row + left * c;
        data[dst..dst + cw * c].copy_from_slice(&content.data[y * cw * c..(y + 1) * cw * c]);
    }
    Ok(Raster {
        width: layout.width,
        height: layout.height,
        channels: content.channels,
        data,
        icc: content.icc.clone(),
    })
}

/// The picture enlarged to cover the whole canvas (centre crop), then blurred
/// strongly: shrunk to about 1/32 and enlarged again in two smooth steps.
fn blurred_cover(content: &Raster, layout: &Layout) -> Result<Raster, FixError> {
    let (w, h) = (layout.width, layout.height);
    let scale = (w as f64 / content.width as f64).max(h as f64 / content.height as f64);
    // The part of the picture that, enlarged by `scale`, covers the canvas.
    let crop_w = ((w as f64 / scale).round() as u32).clamp(1, content.width);
    let crop_h = ((h as f64 / scale).round() as u32).clamp(1, content.height);
    let (x0, y0) = (
        (content.width - crop_w) as usize / 2,
        (content.height - crop_h) as usize / 2,
    );
    let c = content.channels as usize;
    let mut cropped = Vec::with_capacity(crop_w as usize * crop_h as usize * c);
    for y in y0..y0 + crop_h as usize {
        let start = (y * content.width as usize + x0) * c;
        cropped.extend_from_slice(&content.data[start..start + crop_w as usize * c]);
    }
    let cropped = Raster {
        width: crop_w,
        height: crop_h,
        channels: content.channels,
        data: cropped,
        icc: None,
    };
    let tiny = resize_with(
        &cropped,
        (w / 32).max(1),
        (h / 32).max(1),
        Some(FilterType::Box),
    )?;
    let mid = resize_with(
        &tiny,
        (w / 4).max(1),
        (h / 4).max(1),
        Some(FilterType::CatmullRom),
    )?;
    resize_with(&mid, w, h, Some(FilterType::Bilinear))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raster(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&f(x, y));
            }
        }
        Raster {
            width: w,
            height: h,
            channels: 3,
            data,
            icc: None,
        }
    }

    fn pixel(r: &Raster, x: u32, y: u32) -> [u8; 3] {
        let p = ((y * r.width + x) * 3) as usize;
        [r.data[p], r.data[p + 1], r.data[p + 2]]
    }

    fn layout(cw: u32, ch: u32, w: u32, h: u32) -> Layout {
        Layout {
            content_width: cw,
            content_height: ch,
            width: w,
            height: h,
            left: (w - cw) / 2,
            top: (h - ch) / 2,
        }
    }

    #[test]
    fn border_bars_take_each_edge_median() {
        // Top rows mostly grey with a red block; bottom rows blue.
        let img = raster(10, 4, |x, y| match y {
            0 | 1 if x < 3 => [255, 0, 0],
            0 | 1 => [100, 100, 100],
            _ => [0, 0, 200],
        });
        let out = pad(&img, &layout(10, 4, 10, 8), PadFill::Border).unwrap();
        assert_eq!(pixel(&out, 5, 0), [100, 100, 100]);
        assert_eq!(pixel(&out, 0, 1), [100, 100, 100]);
        assert_eq!(pixel(&out, 5, 7), [0, 0, 200]);
        // The picture itself is untouched, centred.
        assert_eq!(pixel(&out, 0, 2), [255, 0, 0]);
        assert_eq!(pixel(&out, 9, 5), [0, 0, 200]);
    }

    #[test]
    fn mirror_reflects_the_edges() {
        let img = raster(3, 2, |x, _| [x as u8 * 10, 0, 0]);
        let out = pad(&img, &layout(3, 2, 7, 2), PadFill::Mirror).unwrap();
        let row: Vec<u8> = (0..7).map(|x| pixel(&out, x, 0)[0]).collect();
        assert_eq!(row, vec![10, 0, 0, 10, 20, 20, 10]);
    }

    #[test]
    fn colour_fill_and_blur_keep_the_picture() {
        let img = raster(20, 8, |x, y| [x as u8 * 10, y as u8 * 20, 50]);
        let out = pad(&img, &layout(20, 8, 20, 16), PadFill::Color([1, 2, 3])).unwrap();
        assert_eq!(pixel(&out, 0, 0), [1, 2, 3]);
        assert_eq!(pixel(&out, 19, 15), [1, 2, 3]);
        assert_eq!(pixel(&out, 7, 4), [70, 0, 50]);
        let out = pad(&img, &layout(20, 8, 20, 16), PadFill::Blur).unwrap();
        assert_eq!(pixel(&out, 7, 4), [70, 0, 50]);
        assert_eq!((out.width, out.height), (20, 16));
    }
}
