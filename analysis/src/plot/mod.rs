//! Line charts. Every figure is written twice by one drawing function: a
//! PNG and, beside it with the same stem, an SVG for papers. The font is
//! compiled in, so figures need no system fonts.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;
use text::Canvas;

static FONT: Once = Once::new();
const PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
];
/// The colour index of black, for fits drawn over coloured data.
pub const FIT_COLOR: usize = 6;

/// Tick labels for an axis spanning `lo..hi`: plain numbers with no more
/// decimals than the tick spacing needs, integers without `.0`, no `-0`;
/// powers of ten for very small or large values.
pub fn tick_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let big = lo.abs().max(hi.abs());
    let sci = !(1e-3..1e6).contains(&big);
    // Ticks are about span/10 apart: one more decimal than their first digit.
    let decimals = (1 - (span / 10.0).log10().floor() as i32).clamp(0, 12) as usize;
    move |v: &f64| {
        let v = *v;
        let text = if sci && v != 0.0 {
            format!("{v:.2e}")
        } else {
            let t = format!("{v:.decimals$}");
            if t.contains('.') {
                t.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                t
            }
        };
        if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
            "0".into()
        } else {
            text
        }
    }
}

/// What a line plot may carry besides its series.
#[derive(Default)]
pub struct Extras {
    /// A shaded x interval (the fit window), drawn under the data.
    pub shade: Option<(f64, f64)>,
    /// Lines of text in the upper-left corner (e.g. the fitted D).
    pub notes: Vec<String>,
}

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType file shipped with the crate.
        let _ = plotters::style::register_font(text::FAMILY, FontStyle::Normal, text::FONT_BYTES);
    });
}

/// The SVG written beside the PNG `png`: the same stem, `.svg`.
pub fn svg_beside(png: &Path) -> PathBuf {
    png.with_extension("svg")
}

/// A figure drawn by one function on either backend.
trait Figure {
    fn draw<DB: Canvas>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String>;
}

/// Draws `fig` into the PNG `path` and into the SVG beside it.
fn write(path: &Path, size: (u32, u32), fig: &impl Figure) -> Result<()> {
    register_font();
    let err = |p: &Path, e: String| {
        Error::Invalid(format!("{}: cannot draw the figure: {e}", p.display()))
    };
    let png = BitMapBackend::new(path, size).into_drawing_area();
    fig.draw(&png)
        .and_then(|()| png.present().map_err(|e| e.to_string()))
        .map_err(|e| err(path, e))?;
    let svg_path = svg_beside(path);
    let svg = SVGBackend::new(&svg_path, size).into_drawing_area();
    fig.draw(&svg)
        .and_then(|()| svg.present().map_err(|e| e.to_string()))
        .map_err(|e| err(&svg_path, e))
}

/// A drawing error as text.
fn msg(e: impl ToString) -> String {
    e.to_string()
}

pub struct Series<'a> {
    pub label: String,
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub color: usize,
    pub dashed: bool,
}

/// Draws the series into a PNG and an SVG; the axes span the finite data.
pub fn line_plot(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
) -> Result<()> {
    line_plot_ext(path, title, xlabel, ylabel, series, &Extras::default())
}

/// [`line_plot`] with a shaded interval and notes. Series without a finite
/// point are left out (also from the legend); an empty label has no legend
/// entry. Series are drawn in order, so fits listed last lie on top.
pub fn line_plot_ext(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    extras: &Extras,
) -> Result<()> {
    let fig = Lines {
        title,
        xlabel,
        ylabel,
        series,
        extras,
    };
    write(path, (900, 600), &fig)
}

struct Lines<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    series: &'a [Series<'a>],
    extras: &'a Extras,
}

impl Figure for Lines<'_> {
    fn draw<DB: Canvas>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
        draw_lines(root, self)
    }
}

fn draw_lines<DB: Canvas>(
    root: &DrawingArea<DB, Shift>,
    fig: &Lines,
) -> std::result::Result<(), String> {
    let Lines {
        title,
        xlabel,
        ylabel,
        series,
        extras,
    } = *fig;
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.x.iter().zip(s.y.iter()))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (&x, &y) in pts() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    // Marked points (few of them) must not sit on the frame.
    if series.iter().any(|s| !s.dashed && s.x.len() <= 20) {
        let px = 0.04 * (x1 - x0);
        (x0, x1) = (x0 - px, x1 + px);
    }
    let pad = 0.05 * (y1 - y0).abs().max(1e-12);
    let (y0, y1) = (y0 - pad, y1 + pad);
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .margin_top(42)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(msg)?;
    let xf = tick_formatter(x0, x1);
    let yf = tick_formatter(y0, y1);
    chart
        .configure_mesh()
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((text::FAMILY, 15))
        .axis_desc_style((text::FAMILY, 19))
        .draw()
        .map_err(msg)?;
    if let Some((a, b)) = extras.shade {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a.max(x0), y0), (b.min(x1), y1)],
                RGBColor(120, 120, 120).mix(0.15).filled(),
            )))
            .map_err(msg)?;
    }
    let mut legend: Vec<(&str, RGBColor, bool)> = Vec::new();
    for s in series {
        let color = PALETTE[s.color % PALETTE.len()];
        let data: Vec<(f64, f64)> =
            s.x.iter()
                .zip(s.y)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(&x, &y)| (x, y))
                .collect();
        if data.is_empty() {
            continue;
        }
        let style = ShapeStyle::from(&color).stroke_width(2);
        // A few points (one per run) are data, not a curve: mark them.
        if data.len() <= 20 && !s.dashed {
            chart
                .draw_series(data.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(msg)?;
        }
        if s.dashed {
            chart.draw_series(DashedLineSeries::new(data, 8, 5, style))
        } else {
            chart.draw_series(LineSeries::new(data, style))
        }
        .map_err(msg)?;
        if !s.label.is_empty() {
            legend.push((s.label.as_str(), color, s.dashed));
        }
    }
    let (px, py) = chart.plotting_area().get_pixel_range();
    text::frame(root, px.clone(), py.clone(), title, xlabel, ylabel)?;
    if !legend.is_empty() {
        let tw = legend
            .iter()
            .map(|(l, ..)| text::width(l, 16.0))
            .fold(0.0f32, f32::max) as i32;
        let (w, h) = (tw + 58, 24 * legend.len() as i32 + 10);
        let (left, top) = (px.end - w - 10, py.start + 10);
        root.draw(&Rectangle::new(
            [(left, top), (left + w, top + h)],
            WHITE.mix(0.9).filled(),
        ))
        .map_err(msg)?;
        root.draw(&Rectangle::new(
            [(left, top), (left + w, top + h)],
            plotters::style::colors::BLACK.stroke_width(1),
        ))
        .map_err(msg)?;
        for (k, (label, color, dashed)) in legend.iter().enumerate() {
            let y = top + 5 + 24 * k as i32 + 12;
            let segs: Vec<(i32, i32)> = if *dashed {
                vec![
                    (left + 8, left + 17),
                    (left + 23, left + 32),
                    (left + 38, left + 44),
                ]
            } else {
                vec![(left + 8, left + 44)]
            };
            for (a, b) in segs {
                root.draw(&PathElement::new(
                    vec![(a, y), (b, y)],
                    color.stroke_width(3),
                ))
                .map_err(msg)?;
            }
            text::draw(
                root,
                label,
                16.0,
                left + 50,
                y - 10,
                text::Anchor::Left,
                false,
                RGBColor(0, 0, 0),
            )?;
        }
    }
    if !extras.notes.is_empty() {
        let (left, top) = (px.start + 12, py.start + 10);
        let h = 22 * extras.notes.len() as i32 + 8;
        let w = extras
            .notes
            .iter()
            .map(|n| text::width(n, 16.0))
            .fold(0.0f32, f32::max) as i32
            + 14;
        root.draw(&Rectangle::new(
            [(left - 6, top - 4), (left + w, top + h - 4)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(msg)?;
        for (k, n) in extras.notes.iter().enumerate() {
            text::draw(
                root,
                n,
                16.0,
                left,
                top + 22 * k as i32,
                text::Anchor::Left,
                false,
                RGBColor(0, 0, 0),
            )?;
        }
    }
    Ok(())
}

pub mod heatmap;
pub mod text;
pub use heatmap::{bar_plot, error_bar_plot, heat_map};
