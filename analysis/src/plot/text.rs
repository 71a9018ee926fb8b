//! Text drawn glyph by glyph with ab_glyph, each glyph at its pen position
//! plus its own side bearing: plotters' text drawing leaves the bearing out,
//! which opens gaps after glyphs such as "(" ("ν ( THz)"). An SVG gets real
//! `<text>` elements instead, at the same places and sizes.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

pub(crate) const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The font family of all text. The compiled-in DejaVu Sans is registered
/// under this name for plotters' layout and bitmap text; an SVG names it, so
/// a viewer with DejaVu Sans shows the PNG's letters, others a sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// A backend the figures are drawn on, and how it gets text: a bitmap gets
/// each glyph's pixels, a vector image real text elements.
pub trait Canvas: DrawingBackend {
    /// Text is written as text, not drawn as pixels.
    const VECTOR_TEXT: bool;
}

impl Canvas for BitMapBackend<'_> {
    const VECTOR_TEXT: bool = false;
}

impl Canvas for SVGBackend<'_> {
    const VECTOR_TEXT: bool = true;
}

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
pub fn draw<DB: Canvas>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f32,
    x: i32,
    y: i32,
    anchor: Anchor,
    rotated: bool,
    color: RGBColor,
) -> Result<(), String> {
    if DB::VECTOR_TEXT {
        return draw_text(area, text, px, x, y, anchor, rotated, color);
    }
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

/// [`draw`] as one text element with the same line: ab_glyph's `px` is the
/// height from descender to ascender, a font size is the em, and plotters
/// puts the baseline 0.76 em below a top-anchored position (the y-axis
/// label: right of it, the text turned about it).
#[allow(clippy::too_many_arguments)]
fn draw_text<DB: Canvas>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f32,
    x: i32,
    y: i32,
    anchor: Anchor,
    rotated: bool,
    color: RGBColor,
) -> Result<(), String> {
    let f = font();
    let em = px * f.units_per_em().unwrap_or(2048.0) / f.height_unscaled();
    let ascent = f.as_scaled(PxScale::from(px)).ascent();
    let down = (ascent - 0.76 * em).round() as i32;
    let h = match anchor {
        Anchor::Left => HPos::Left,
        Anchor::Center => HPos::Center,
    };
    // plotters writes a font size of size / 1.24.
    let style = TextStyle::from((FAMILY, f64::from(em) * 1.24))
        .color(&color)
        .pos(Pos::new(h, VPos::Top));
    let (style, at) = if rotated {
        (style.transform(FontTransform::Rotate270), (x + down, y))
    } else {
        (style, (x, y + down))
    };
    area.draw_text(text, &style, at).map_err(|e| e.to_string())
}

/// Title above and axis descriptions below and left of a chart whose plot
/// area spans pixels `px` × `py`.
pub fn frame<DB: Canvas>(
    root: &DrawingArea<DB, Shift>,
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
