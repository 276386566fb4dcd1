//! `History::plot_svg`: loss and accuracy curves as an SVG, drawn with plotters.
//!
//! SVG rather than a bitmap: a line chart stays sharp at any size, and the viewer (any
//! browser) renders the text, so no font, font rasteriser or TTF parser is built in.

use super::atomic::write_atomic;
use super::error::TrainError;
use super::history::History;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALIDATION: RGBColor = RGBColor(255, 127, 14);

/// One curve: a name for the legend, its points and its colour.
type Curve = (&'static str, Vec<(f64, f64)>, RGBColor);

impl History {
    /// Draws the loss (left) and accuracy (right) of every epoch, training and
    /// validation, into a 1000x400 SVG at `path` (open it in a browser).
    pub fn plot_svg(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let path = path.as_ref();
        let svg = self.render().map_err(|message| TrainError::Plot {
            path: path.into(),
            message,
        })?;
        write_atomic(path, |file| std::io::Write::write_all(file, svg.as_bytes()))
            .map_err(TrainError::io(path))
    }

    /// Draws the two panels as SVG text.
    fn render(&self) -> Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let (left, right) = root.split_horizontally(WIDTH / 2);
            let curves = |metric: fn(&super::history::Metrics) -> f64| -> Vec<Curve> {
                let train = self
                    .epochs
                    .iter()
                    .map(|e| (e.epoch as f64, metric(&e.train)))
                    .collect();
                let validation: Vec<(f64, f64)> = self
                    .epochs
                    .iter()
                    .filter_map(|e| e.validation.as_ref().map(|v| (e.epoch as f64, metric(v))))
                    .collect();
                let mut curves = vec![("train", train, TRAIN)];
                if !validation.is_empty() {
                    curves.push(("validation", validation, VALIDATION));
                }
                curves
            };
            let max_loss = self
                .epochs
                .iter()
                .flat_map(|e| [Some(e.train.loss), e.validation.map(|v| v.loss)])
                .flatten()
                .filter(|l| l.is_finite())
                .fold(0.0, f64::max);
            // Losses fall and accuracies rise: each legend goes where its curves are not.
            let y_loss = 0.0..(max_loss * 1.1).max(1e-3);
            let loss_curves = curves(|m| m.loss);
            self.panel(
                &left,
                "loss",
                y_loss,
                &loss_curves,
                SeriesLabelPosition::UpperRight,
            )?;
            let accuracy_curves = curves(|m| m.accuracy);
            let legend = SeriesLabelPosition::LowerRight;
            self.panel(&right, "accuracy", 0.0..1.0, &accuracy_curves, legend)?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }

    fn panel(
        &self,
        area: &DrawingArea<SVGBackend, Shift>,
        title: &str,
        y: std::ops::Range<f64>,
        curves: &[Curve],
        legend: SeriesLabelPosition,
    ) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        let last = self.epochs.last().map_or(1, |e| e.epoch).max(2) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(1.0..last, y)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .light_line_style(BLACK.mix(0.04))
            .x_labels(self.epochs.len().clamp(2, 10))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .draw()
            .map_err(err)?;
        for (name, points, color) in curves {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(legend)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::history::{EpochStats, Metrics};

    fn history(epochs: usize, validation: bool) -> History {
        History {
            epochs: (1..=epochs)
                .map(|epoch| EpochStats {
                    epoch,
                    train: Metrics {
                        loss: 1.0 / epoch as f64,
                        accuracy: 1.0 - 0.5 / epoch as f64,
                    },
                    validation: validation.then_some(Metrics {
                        loss: 1.2 / epoch as f64,
                        accuracy: 0.9 - 0.5 / epoch as f64,
                    }),
                    learning_rate: 1e-3,
                    seconds: 1.0,
                    samples_per_sec: 1000.0,
                })
                .collect(),
            stopped_early: false,
        }
    }

    /// The `points` of the polyline drawn in `color`, as (x, y) pairs.
    fn polyline(svg: &str, color: RGBColor) -> Vec<(f64, f64)> {
        let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", color.0, color.1, color.2);
        let line = svg
            .lines()
            .find(|l| l.starts_with("<polyline") && l.contains(&stroke))
            .unwrap_or_else(|| panic!("no polyline with {stroke} in\n{svg}"));
        let points = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        points
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    /// The contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .map(|t| {
                t.split_once('>')
                    .unwrap()
                    .1
                    .split("</text>")
                    .next()
                    .unwrap()
                    .trim()
            })
            .collect()
    }

    #[test]
    fn draws_both_curves_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.svg");
        history(5, true).plot_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let header = svg.lines().next().unwrap();
        assert!(header.starts_with("<svg"), "{header}");
        assert!(header.contains(&format!("width=\"{WIDTH}\" height=\"{HEIGHT}\"")));
        assert!(svg.trim_end().ends_with("</svg>"));
        for color in [TRAIN, VALIDATION] {
            // One point per epoch, left to right, on the left (loss) panel first.
            let points = polyline(&svg, color);
            assert_eq!(points.len(), 5, "{points:?}");
            assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{points:?}");
            assert!(points[4].0 < (WIDTH / 2) as f64, "{points:?}");
            // The loss falls: SVG's y grows downwards.
            assert!(points.windows(2).all(|w| w[0].1 < w[1].1), "{points:?}");
        }
        let texts = texts(&svg);
        for text in [
            "loss",
            "accuracy",
            "epoch",
            "train",
            "validation",
            "1",
            "5",
            "0.50",
        ] {
            assert!(texts.contains(&text), "{text} missing from {texts:?}");
        }
    }

    #[test]
    fn one_epoch_or_none_still_plots() {
        let dir = tempfile::tempdir().unwrap();
        for (n, validation) in [(1, false), (0, false)] {
            let path = dir.path().join(format!("h{n}.svg"));
            history(n, validation).plot_svg(&path).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            let texts = texts(&svg);
            assert!(
                texts.contains(&"loss") && !texts.contains(&"validation"),
                "{texts:?}"
            );
        }
    }
}
