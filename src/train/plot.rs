//! `History::plot_png`: loss and accuracy curves as a PNG, drawn with plotters.
//!
//! Text is rendered from a font compiled into the crate (DejaVu Sans Mono, under
//! `assets/` with its licence) by plotters' `ab_glyph` feature, so a plot needs no system
//! font library or font package.

use super::atomic::write_atomic;
use super::error::TrainError;
use super::history::History;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use std::path::Path;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VALIDATION: RGBColor = RGBColor(255, 127, 14);

/// One curve: a name for the legend, its points and its colour.
type Curve = (&'static str, Vec<(f64, f64)>, RGBColor);

impl History {
    /// Draws the loss (left) and accuracy (right) of every epoch, training and
    /// validation, into a 1000x400 PNG at `path`.
    pub fn plot_png(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let path = path.as_ref();
        let plot_err = |message: String| TrainError::Plot {
            path: path.into(),
            message,
        };
        let rgb = self.render().map_err(plot_err)?;
        let png = encode_png(&rgb, WIDTH, HEIGHT).map_err(|e| plot_err(e.to_string()))?;
        write_atomic(path, |file| std::io::Write::write_all(file, &png))
            .map_err(TrainError::io(path))
    }

    /// Draws the two panels into an RGB buffer.
    fn render(&self) -> Result<Vec<u8>, String> {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // The font is a valid TTF compiled in; a failure would leave text undrawn.
            let _ = register_font("sans-serif", FontStyle::Normal, FONT);
        });
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
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
        Ok(rgb)
    }

    fn panel(
        &self,
        area: &DrawingArea<BitMapBackend, Shift>,
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

/// Encodes an RGB buffer of `width x height` pixels (3 bytes each, row by row) as PNG.
pub(crate) fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
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

    /// Decodes a PNG into (width, height, RGB pixels).
    fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info.width, info.height, buf)
    }

    #[test]
    fn draws_both_curves_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.png");
        history(5, true).plot_png(&path).unwrap();
        let (w, h, rgb) = decode(&path);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        let count = |c: RGBColor| rgb.chunks(3).filter(|p| p == &[c.0, c.1, c.2]).count();
        assert!(count(TRAIN) > 100, "train curve drawn");
        assert!(count(VALIDATION) > 100, "validation curve drawn");
        // Text (captions, tick labels) is anti-aliased: grey pixels that no curve uses.
        let grey = rgb
            .chunks(3)
            .filter(|p| p[0] == p[1] && p[1] == p[2] && p[0] > 30 && p[0] < 200)
            .count();
        assert!(grey > 200, "text rendered ({grey} grey pixels)");
    }

    #[test]
    fn one_epoch_or_none_still_plots() {
        let dir = tempfile::tempdir().unwrap();
        for (n, validation) in [(1, false), (0, false)] {
            let path = dir.path().join(format!("h{n}.png"));
            history(n, validation).plot_png(&path).unwrap();
            assert_eq!(decode(&path).0, WIDTH);
        }
    }
}
