//! PNG line charts. The font is compiled in, so figures need no system fonts.

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType file shipped with the crate.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        );
    });
}

pub struct Series<'a> {
    pub label: String,
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub color: usize,
    pub dashed: bool,
}

/// Draws the series into a PNG; the axes span the finite data.
pub fn line_plot(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
) -> Result<()> {
    register_font();
    let err =
        |e: String| Error::Invalid(format!("{}: cannot draw the figure: {e}", path.display()));
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
    let pad = 0.05 * (y1 - y0).abs().max(1e-12);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(xlabel)
        .y_desc(ylabel)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    for s in series {
        let color = PALETTE[s.color % PALETTE.len()];
        let data: Vec<(f64, f64)> =
            s.x.iter()
                .zip(s.y)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(&x, &y)| (x, y))
                .collect();
        let style = ShapeStyle::from(&color).stroke_width(if s.dashed { 1 } else { 2 });
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(data, 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(data, style))
        }
        .map_err(|e| err(e.to_string()))?;
        drawn
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

pub mod heatmap;
pub use heatmap::{error_bar_plot, heat_map};
