//! Diverging heat maps (flux maps, Fig. 4a,b of paper A) and points with
//! error bars (Arrhenius plot, Fig. 2d).

use super::{msg, text, tick_formatter, write, Figure, PALETTE};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use text::Canvas;

type Drawn = std::result::Result<(), String>;

/// Zero is this neutral grey; positive values shade to red, negative to blue.
const NEUTRAL: (f64, f64, f64) = (235.0, 235.0, 235.0);
const RED: (f64, f64, f64) = (200.0, 20.0, 30.0);
const BLUE: (f64, f64, f64) = (25.0, 60.0, 200.0);

fn colour(v: f64, vmax: f64) -> RGBColor {
    let t = if vmax > 0.0 {
        (v / vmax).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let to = if t >= 0.0 { RED } else { BLUE };
    let s = t.abs();
    let mix = |a: f64, b: f64| (a + (b - a) * s).round() as u8;
    RGBColor(
        mix(NEUTRAL.0, to.0),
        mix(NEUTRAL.1, to.1),
        mix(NEUTRAL.2, to.2),
    )
}

// Titles, axes and the grid are all needed and all different: a struct would only rename them.
#[allow(clippy::too_many_arguments)]
/// `values[j * x.len() + i]` at (x[i], y[j]) on a regular grid; a symmetric
/// colour scale ±max|value| with a colour bar.
pub fn heat_map(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    x: &[f64],
    y: &[f64],
    values: &[f64],
    bar_label: &str,
) -> Result<()> {
    let fig = HeatMap {
        title,
        xlabel,
        ylabel,
        x,
        y,
        values,
        bar_label,
    };
    write(path, (860, 720), &fig)
}

struct HeatMap<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    x: &'a [f64],
    y: &'a [f64],
    values: &'a [f64],
    bar_label: &'a str,
}

impl Figure for HeatMap<'_> {
    fn draw<DB: Canvas>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        draw_heat_map(root, self)
    }
}

fn draw_heat_map<DB: Canvas>(root: &DrawingArea<DB, Shift>, fig: &HeatMap) -> Drawn {
    let HeatMap {
        title,
        xlabel,
        ylabel,
        x,
        y,
        values,
        bar_label,
    } = *fig;
    let dx = if x.len() > 1 { x[1] - x[0] } else { 1.0 };
    let dy = if y.len() > 1 { y[1] - y[0] } else { 1.0 };
    let (x0, x1) = (x[0] - 0.5 * dx, x[x.len() - 1] + 0.5 * dx);
    let (y0, y1) = (y[0] - 0.5 * dy, y[y.len() - 1] + 0.5 * dy);
    let vmax = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    root.fill(&WHITE).map_err(msg)?;
    let (left, right) = root.split_horizontally(720);
    let mut chart = ChartBuilder::on(&left)
        .margin(12)
        .margin_top(42)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(msg)?;
    let (xf, yf) = (tick_formatter(x0, x1), tick_formatter(y0, y1));
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((text::FAMILY, 15))
        .axis_desc_style((text::FAMILY, 19))
        .draw()
        .map_err(msg)?;
    let nx = x.len();
    chart
        .draw_series(values.iter().enumerate().map(|(k, &v)| {
            let (i, j) = (k % nx, k / nx);
            Rectangle::new(
                [
                    (x[i] - 0.5 * dx, y[j] - 0.5 * dy),
                    (x[i] + 0.5 * dx, y[j] + 0.5 * dy),
                ],
                colour(v, vmax).filled(),
            )
        }))
        .map_err(msg)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    text::frame(&left, px, py, "", xlabel, ylabel)?;
    let (w, _) = root.dim_in_pixel();
    text::draw(
        root,
        title,
        22.0,
        w as i32 / 2,
        8,
        text::Anchor::Center,
        false,
        RGBColor(0, 0, 0),
    )?;
    let top = if vmax > 0.0 { vmax } else { 1.0 };
    let mut bar = ChartBuilder::on(&right)
        .margin_top(45)
        .margin_bottom(57)
        .margin_right(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, -top..top)
        .map_err(msg)?;
    let bf = tick_formatter(-top, top);
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&bf)
        .label_style((text::FAMILY, 13))
        .draw()
        .map_err(msg)?;
    let steps = 100;
    bar.draw_series((0..steps).map(|s| {
        let a = -top + 2.0 * top * s as f64 / steps as f64;
        let b = a + 2.0 * top / steps as f64;
        Rectangle::new([(0.0, a), (1.0, b)], colour(0.5 * (a + b), top).filled())
    }))
    .map_err(msg)?;
    let (bx, by) = bar.plotting_area().get_pixel_range();
    // Pixel ranges are absolute: draw on the whole image.
    text::draw(
        root,
        bar_label,
        15.0,
        (bx.start + bx.end) / 2,
        by.start - 24,
        text::Anchor::Center,
        false,
        RGBColor(0, 0, 0),
    )?;
    Ok(())
}

/// Points with vertical error bars and an optional fitted line.
pub fn error_bar_plot(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    pts: &[(f64, f64, f64)],
    line: Option<(&[f64], &[f64])>,
) -> Result<()> {
    let fig = ErrorBars {
        title,
        xlabel,
        ylabel,
        pts,
        line,
    };
    write(path, (900, 600), &fig)
}

struct ErrorBars<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    pts: &'a [(f64, f64, f64)],
    line: Option<(&'a [f64], &'a [f64])>,
}

impl Figure for ErrorBars<'_> {
    fn draw<DB: Canvas>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        draw_error_bars(root, self)
    }
}

fn draw_error_bars<DB: Canvas>(root: &DrawingArea<DB, Shift>, fig: &ErrorBars) -> Drawn {
    let ErrorBars {
        title,
        xlabel,
        ylabel,
        pts,
        line,
    } = *fig;
    let fin: Vec<&(f64, f64, f64)> = pts
        .iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &fin {
        let s = if p.2.is_finite() { p.2 } else { 0.0 };
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1 - s);
        y1 = y1.max(p.1 + s);
    }
    if let Some((lx, ly)) = line {
        for (&a, &b) in lx.iter().zip(ly) {
            if a.is_finite() && b.is_finite() {
                y0 = y0.min(b);
                y1 = y1.max(b);
            }
        }
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let px = 0.05 * (x1 - x0).abs().max(1e-12);
    let py = 0.08 * (y1 - y0).abs().max(1e-12);
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .margin_top(42)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
        .map_err(msg)?;
    let (xf, yf) = (
        tick_formatter(x0 - px, x1 + px),
        tick_formatter(y0 - py, y1 + py),
    );
    chart
        .configure_mesh()
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((text::FAMILY, 15))
        .axis_desc_style((text::FAMILY, 19))
        .draw()
        .map_err(msg)?;
    let c = PALETTE[0];
    let cap = 0.012 * (x1 - x0 + 2.0 * px);
    let bar = |p: &&(f64, f64, f64)| {
        let s = if p.2.is_finite() { p.2 } else { 0.0 };
        let (lo, hi) = (p.1 - s, p.1 + s);
        vec![
            PathElement::new(vec![(p.0, lo), (p.0, hi)], c.stroke_width(2)),
            PathElement::new(vec![(p.0 - cap, lo), (p.0 + cap, lo)], c.stroke_width(2)),
            PathElement::new(vec![(p.0 - cap, hi), (p.0 + cap, hi)], c.stroke_width(2)),
        ]
    };
    chart.draw_series(fin.iter().flat_map(bar)).map_err(msg)?;
    chart
        .draw_series(fin.iter().map(|p| Circle::new((p.0, p.1), 4, c.filled())))
        .map_err(msg)?;
    if let Some((lx, ly)) = line {
        let data: Vec<(f64, f64)> = lx.iter().copied().zip(ly.iter().copied()).collect();
        chart
            .draw_series(LineSeries::new(data, PALETTE[1].stroke_width(2)))
            .map_err(msg)?;
    }
    let (px, py) = chart.plotting_area().get_pixel_range();
    text::frame(root, px, py, title, xlabel, ylabel)
}

/// Bars of `counts` at integer positions (e.g. chains per length); only the
/// given positions get bars and integer tick labels.
pub fn bar_plot(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    bars: &[(i64, f64)],
) -> Result<()> {
    let fig = Bars {
        title,
        xlabel,
        ylabel,
        bars,
    };
    write(path, (900, 600), &fig)
}

struct Bars<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    bars: &'a [(i64, f64)],
}

impl Figure for Bars<'_> {
    fn draw<DB: Canvas>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        draw_bars(root, self)
    }
}

fn draw_bars<DB: Canvas>(root: &DrawingArea<DB, Shift>, fig: &Bars) -> Drawn {
    let Bars {
        title,
        xlabel,
        ylabel,
        bars,
    } = *fig;
    let lo = bars.iter().map(|b| b.0).min().unwrap_or(0);
    let hi = bars.iter().map(|b| b.0).max().unwrap_or(1);
    let top = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .margin_top(42)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(lo as f64 - 0.6..hi as f64 + 0.6, 0.0..top)
        .map_err(msg)?;
    let yf = tick_formatter(0.0, top);
    let n = (hi - lo + 1) as usize;
    let every = n.div_ceil(20).max(1) as i64;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(20) + 1)
        .x_label_formatter(&|v: &f64| {
            let r = v.round();
            if (v - r).abs() < 1e-6 && (r as i64 - lo) % every == 0 {
                format!("{r:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&yf)
        .label_style((text::FAMILY, 15))
        .axis_desc_style((text::FAMILY, 19))
        .draw()
        .map_err(msg)?;
    let c = PALETTE[0];
    chart
        .draw_series(bars.iter().filter(|b| b.1 > 0.0).map(|&(k, v)| {
            Rectangle::new([(k as f64 - 0.4, 0.0), (k as f64 + 0.4, v)], c.filled())
        }))
        .map_err(msg)?;
    let (px, py) = chart.plotting_area().get_pixel_range();
    text::frame(root, px, py, title, xlabel, ylabel)
}
