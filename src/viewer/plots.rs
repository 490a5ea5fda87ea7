//! The plots panel (egui_plot): per-class accuracy of the anticipation on this video at the
//! current observation point (when ground truth is loaded), and the anticipated segments'
//! durations in order.

use egui_plot::{Bar, BarChart, Plot};

use super::state::ViewerState;
use super::timeline::class_color;
use crate::data::segments;

#[derive(Default)]
pub struct Plots;

/// (class, frames of the class in the unobserved ground truth, of which anticipated right).
pub fn per_class_accuracy(gt: &[u32], observed: usize, future: &[u32]) -> Vec<(u32, usize, usize)> {
    let mut rows: Vec<(u32, usize, usize)> = Vec::new();
    for (t, &g) in gt.iter().enumerate().skip(observed) {
        let hit = future.get(t - observed) == Some(&g);
        match rows.iter_mut().find(|r| r.0 == g) {
            Some(r) => {
                r.1 += 1;
                r.2 += hit as usize;
            }
            None => rows.push((g, 1, hit as usize)),
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

impl Plots {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &ViewerState) {
        let Some(a) = &state.anticipation else {
            ui.weak("plots appear with the first anticipation");
            return;
        };
        let classes = state.vocab.len();
        let name = |id: u32| state.vocab.name(id).unwrap_or("NONE").to_owned();
        let half = (ui.available_height() / 2.0 - 30.0).max(80.0);
        if let Some(gt) = &state.ground_truth {
            let rows = per_class_accuracy(gt, a.observed, &a.future);
            let total: usize = rows.iter().map(|r| r.1).sum();
            let hits: usize = rows.iter().map(|r| r.2).sum();
            ui.strong(format!(
                "anticipation accuracy per class (all: {:.1} %)",
                100.0 * hits as f64 / total.max(1) as f64
            ));
            let bars: Vec<Bar> = rows
                .iter()
                .enumerate()
                .map(|(i, &(c, n, h))| {
                    Bar::new(i as f64, 100.0 * h as f64 / n as f64)
                        .name(format!("{} ({n} frames)", name(c)))
                        .fill(class_color(c, classes))
                })
                .collect();
            // horizontal bars, one row per class, named on the y axis (rows from the top)
            let n = rows.len();
            let labels: Vec<String> = rows.iter().map(|r| name(r.0)).collect();
            let bars: Vec<Bar> = bars
                .into_iter()
                .enumerate()
                .map(|(i, b)| Bar { argument: (n - 1 - i) as f64, ..b })
                .collect();
            Plot::new("per-class-accuracy")
                .height(half)
                .include_x(0.0)
                .include_x(100.0)
                .x_axis_label("% anticipated right")
                .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
                .y_axis_formatter(move |m, _| {
                    let i = m.value.round();
                    if (m.value - i).abs() > 1e-6 || i < 0.0 || i as usize >= n {
                        String::new()
                    } else {
                        labels[n - 1 - i as usize].clone()
                    }
                })
                .y_axis_min_width(90.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .show(ui, |p| p.bar_chart(BarChart::new("accuracy", bars).width(0.7).horizontal()));
        } else {
            ui.weak("load ground truth to see the anticipation's accuracy");
        }
        ui.strong("anticipated segments (duration, s)");
        let segs = segments(&a.future);
        let bars: Vec<Bar> = segs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Bar::new(i as f64, (s.end - s.start) as f64 / state.fps)
                    .name(name(s.label))
                    .fill(class_color(s.label, classes))
            })
            .collect();
        Plot::new("anticipated-durations")
            .height(half)
            .include_y(0.0)
            .x_axis_label("segment after the observation point")
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .show(ui, |p| p.bar_chart(BarChart::new("duration", bars).width(0.7)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accuracy_counts_only_the_unobserved_frames() {
        // observed 2 frames; future predicted [1, 1, 2] vs truth [1, 2, 2]
        let rows = super::per_class_accuracy(&[0, 0, 1, 2, 2], 2, &[1, 1, 2]);
        assert_eq!(rows, vec![(1, 1, 1), (2, 2, 1)]);
    }
}
