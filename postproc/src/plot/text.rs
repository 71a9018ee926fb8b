//! Text drawn glyph by glyph with ab_glyph, each glyph at its pen position
//! plus its own side bearing: plotters' text drawing leaves the bearing out,
//! which opens gaps after glyphs such as "(" ("ν ( THz)").

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;

const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("the compiled-in font is a valid TrueType file")
}

/// Width of `text` in pixels at size `px` (advances and kerning).
pub fn width(text: &str, px: f32) -> f32 {
    let f = font();
    let s = f.as_scaled(PxScale::from(px));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let g = s.glyph_id(c);
        if let Some(p) = prev {
            w += s.kern(p, g);
        }
        w += s.h_advance(g);
        prev = Some(g);
    }
    w
}

#[derive(Clone, Copy, PartialEq)]
pub enum Anchor {
    /// `x` is the left end of the text.
    Left,
    /// `x` is the middle of the text.
    Center,
}

/// Draws `text` with the top of its line at `y`; `rotated` turns it a
/// quarter left (reading upwards), then `(x, y)` is the left edge of the
/// line and the middle of the text.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    area: &DrawingArea<BitMapBackend, Shift>,
    text: &str,
    px: f32,
    x: i32,
    y: i32,
    anchor: Anchor,
    rotated: bool,
    color: RGBColor,
) -> Result<(), String> {
    let f = font();
    let scale = PxScale::from(px);
    let s = f.as_scaled(scale);
    let total = width(text, px);
    let start = match anchor {
        Anchor::Left => 0.0,
        Anchor::Center => -0.5 * total,
    };
    let mut pen = start;
    let mut prev = None;
    let mut err = None;
    for c in text.chars() {
        let id = s.glyph_id(c);
        if let Some(p) = prev {
            pen += s.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(scale, point(pen, s.ascent()));
        if let Some(og) = f.outline_glyph(glyph) {
            let b = og.px_bounds();
            og.draw(|gx, gy, cov| {
                if cov <= 0.01 || err.is_some() {
                    return;
                }
                let (dx, dy) = (b.min.x + gx as f32, b.min.y + gy as f32);
                let (px_, py_) = if rotated {
                    (x as f32 + dy, y as f32 - dx)
                } else {
                    (x as f32 + dx, y as f32 + dy)
                };
                if let Err(e) = area.draw_pixel(
                    (px_.round() as i32, py_.round() as i32),
                    &color.mix(cov.min(1.0) as f64),
                ) {
                    err = Some(e.to_string());
                }
            });
        }
        pen += s.h_advance(id);
    }
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Title above and axis descriptions below and left of a chart whose plot
/// area spans pixels `px` × `py`.
pub fn frame(
    root: &DrawingArea<BitMapBackend, Shift>,
    px: std::ops::Range<i32>,
    py: std::ops::Range<i32>,
    title: &str,
    xlabel: &str,
    ylabel: &str,
) -> Result<(), String> {
    let black = RGBColor(0, 0, 0);
    let (w, _) = root.dim_in_pixel();
    draw(
        root,
        title,
        22.0,
        w as i32 / 2,
        8,
        Anchor::Center,
        false,
        black,
    )?;
    draw(
        root,
        xlabel,
        18.0,
        (px.start + px.end) / 2,
        py.end + 24,
        Anchor::Center,
        false,
        black,
    )?;
    draw(
        root,
        ylabel,
        18.0,
        6,
        (py.start + py.end) / 2,
        Anchor::Center,
        true,
        black,
    )
}
