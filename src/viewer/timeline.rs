//! The timeline panel: named tracks of coloured segments, the observation point, the anticipated
//! future (faded and hatched: unmistakably a prediction), the playhead, hover details, zoom.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::state::{UiCommand, ViewerState};
use crate::data::segments;
use crate::predict::TrackKind;

pub const TRACK_HEIGHT: f32 = 22.0;
/// The strip above the tracks where dragging scrubs the playhead.
const RULER_HEIGHT: f32 = 14.0;
/// The strip below the tracks that names the two sides of the observation point (apart from
/// the ruler, whose time labels it would cover).
const TAG_HEIGHT: f32 = 14.0;
/// The strip of keyframe thumbnails between the ruler and the tracks, when the video has them.
const STRIP_HEIGHT: f32 = 36.0;

/// A keyframe's thumbnail: its frame and its texture.
pub type Thumbnail = (usize, egui::TextureHandle);
const LABEL_WIDTH: f32 = 130.0;

/// One stable colour per class (golden-ratio hues); NONE is grey.
pub fn class_color(id: u32, classes: usize) -> Color32 {
    if id as usize >= classes {
        return Color32::from_gray(110);
    }
    let [r, g, b] = super::palette::class_rgb(id);
    Color32::from_rgb(r, g, b)
}

/// Black or white, whichever reads on `fill`.
fn text_on(fill: Color32) -> Color32 {
    let l = super::palette::lab([fill.r(), fill.g(), fill.b()])[0];
    if l > 60.0 { Color32::BLACK } else { Color32::WHITE }
}

pub struct Timeline;

/// One drawn row: segments in video frames, the vocabulary that names them, and the annotation
/// level it edits, if any.
struct Row<'a> {
    title: String,
    segments: Vec<crate::data::Segment>,
    names: &'a [String],
    classes: usize,
    predicted: bool,
    level: Option<usize>,
    editing: bool,
}

impl Row<'_> {
    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("NONE", String::as_str)
    }
}

fn rows(state: &ViewerState) -> Vec<Row<'_>> {
    let names = state.vocab.names();
    let mut rows = Vec::new();
    for t in state.tracks() {
        let is_gt = t.kind == TrackKind::GroundTruth;
        let segments = match (&state.gt_segments, is_gt) {
            (Some(segs), true) => segs.clone(),
            _ => segments(t.labels)
                .into_iter()
                .map(|s| crate::data::Segment {
                    start: s.start + t.offset,
                    end: s.end + t.offset,
                    ..s
                })
                .collect(),
        };
        let editable = is_gt && state.gt_segments.is_some();
        rows.push(Row {
            title: t.kind.title().to_owned(),
            segments,
            names,
            classes: names.len(),
            predicted: t.kind == TrackKind::Anticipated,
            level: editable.then_some(0),
            editing: editable && state.edit_level == 0,
        });
        if is_gt {
            for (i, l) in state.extra_levels.iter().enumerate() {
                rows.push(Row {
                    title: format!("labels: {}", l.name),
                    segments: l.segments.clone(),
                    names: &l.vocab,
                    classes: l.vocab.len(),
                    predicted: false,
                    level: Some(i + 1),
                    editing: state.edit_level == i + 1,
                });
            }
        }
    }
    rows
}

impl Timeline {
    /// The ruler, the thumbnail strip (empty without `strip`), the rows and the tag strip of a
    /// timeline whose top edge is at `top`, top to bottom, each apart from the others.
    pub fn bands(top: f32, rows: usize, strip: bool) -> [egui::Rangef; 4] {
        let strip_top = top + RULER_HEIGHT;
        let rows_top = strip_top + if strip { STRIP_HEIGHT + 4.0 } else { 0.0 };
        let tag_top = rows_top + rows.max(1) as f32 * (TRACK_HEIGHT + 4.0);
        [
            egui::Rangef::new(top, strip_top),
            egui::Rangef::new(strip_top, rows_top),
            egui::Rangef::new(rows_top, tag_top),
            egui::Rangef::new(tag_top, tag_top + TAG_HEIGHT),
        ]
    }

    /// Draws the timeline and the `thumbnails` (sorted by frame); returns the commands the user
    /// gave through it.
    pub fn ui(ui: &mut Ui, state: &ViewerState, thumbnails: &[Thumbnail]) -> Vec<UiCommand> {
        let mut commands = Vec::new();
        let rows = rows(state);
        if rows.is_empty() {
            ui.weak(&state.empty_hint);
        }
        let strip = !thumbnails.is_empty();
        let height = Self::bands(0.0, rows.len(), strip)[3].max;
        let (rect, response) = ui
            .allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        let area = Rect::from_min_max(Pos2::new(rect.left() + LABEL_WIDTH, rect.top()), rect.max);
        let (v0, v1) = state.view;
        let x_of =
            |frame: f64| area.left() + ((frame - v0) / (v1 - v0).max(1e-9)) as f32 * area.width();
        let frame_of = |x: f32| v0 + ((x - area.left()) / area.width().max(1.0)) as f64 * (v1 - v0);
        let mut hovered: Option<String> = None;
        // ruler: time ticks at a round step giving about eight labels
        painter.rect_filled(
            Rect::from_min_max(
                Pos2::new(area.left(), rect.top()),
                Pos2::new(area.right(), rect.top() + RULER_HEIGHT - 2.0),
            ),
            0.0,
            ui.visuals().faint_bg_color,
        );
        let fps = state.fps.max(1e-6);
        let span_s = (v1 - v0) / fps;
        let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0]
            .into_iter()
            .find(|s| span_s / s <= 8.0)
            .unwrap_or(1200.0);
        let mut t = (v0 / fps / step).ceil() * step;
        while t * fps <= v1 {
            let x = x_of(t * fps);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.top() + 4.0)],
                Stroke::new(1.0, ui.visuals().text_color()),
            );
            let label = if step < 1.0 {
                format!("{t:.1} s")
            } else {
                format!("{}:{:02}", (t / 60.0) as u64, (t % 60.0) as u64)
            };
            painter.text(
                Pos2::new(x + 2.0, rect.top()),
                Align2::LEFT_TOP,
                label,
                FontId::proportional(10.0),
                ui.visuals().weak_text_color(),
            );
            t += step;
        }
        let pointer = response.hover_pos();
        let [_, strip_band, rows_band, tag_band] = Self::bands(rect.top(), rows.len(), strip);
        // thumbnails at their frames, as many as fit side by side at this zoom
        let mut free_from = area.left();
        for (frame, texture) in thumbnails {
            let x = x_of(*frame as f64);
            let size = texture.size_vec2();
            let width = STRIP_HEIGHT * size.x / size.y.max(1.0);
            if x < free_from || x > area.right() {
                continue;
            }
            let r =
                Rect::from_min_size(Pos2::new(x, strip_band.min), Vec2::new(width, STRIP_HEIGHT));
            let uv = Rect::from_min_max(
                Pos2::ZERO,
                Pos2::new(((area.right() - x) / width).min(1.0), 1.0),
            );
            let shown =
                Rect::from_min_max(r.min, Pos2::new(r.right().min(area.right()), r.bottom()));
            painter.image(texture.id(), shown, uv, Color32::WHITE);
            free_from = r.right() + 1.0;
        }
        if strip {
            painter.text(
                Pos2::new(rect.left() + 4.0, strip_band.center()),
                Align2::LEFT_CENTER,
                "keyframes",
                FontId::proportional(13.0),
                ui.visuals().weak_text_color(),
            );
        }
        let row_y = |i: usize| rows_band.min + i as f32 * (TRACK_HEIGHT + 4.0);
        for (i, row) in rows.iter().enumerate() {
            let y = row_y(i);
            let text_color = if row.editing {
                Color32::from_rgb(250, 200, 40)
            } else {
                ui.visuals().text_color()
            };
            painter.text(
                Pos2::new(rect.left() + 4.0, y + TRACK_HEIGHT / 2.0),
                Align2::LEFT_CENTER,
                &row.title,
                FontId::proportional(13.0),
                text_color,
            );
            for s in &row.segments {
                let (a, b) = (s.start as f64, s.end as f64);
                if b < v0 || a > v1 {
                    continue;
                }
                let r = Rect::from_min_max(
                    Pos2::new(x_of(a).max(area.left()), y),
                    Pos2::new(x_of(b).min(area.right()), y + TRACK_HEIGHT),
                );
                let color = class_color(s.label, row.classes);
                if row.predicted {
                    // the class's own colour, as in every track; hatching marks a prediction,
                    // even in grayscale
                    painter.rect_filled(r, 0.0, color);
                    let mut x = r.left();
                    while x < r.right() {
                        painter.line_segment(
                            [
                                Pos2::new(x, r.bottom()),
                                Pos2::new((x + 8.0).min(r.right()), r.top()),
                            ],
                            Stroke::new(1.5, Color32::from_black_alpha(70)),
                        );
                        x += 8.0;
                    }
                } else {
                    painter.rect_filled(r, 0.0, color);
                    // a thin edge, so that two touching segments with one label stay two
                    painter.line_segment(
                        [Pos2::new(r.left(), y), Pos2::new(r.left(), y + TRACK_HEIGHT)],
                        Stroke::new(1.0, Color32::from_black_alpha(120)),
                    );
                }
                // the label's name on the bar when it fits
                if r.width() > 30.0 {
                    let galley = painter.layout_no_wrap(
                        row.name(s.label).to_owned(),
                        egui::FontId::proportional(10.0),
                        text_on(color),
                    );
                    if galley.size().x + 6.0 <= r.width() {
                        let pos = Pos2::new(r.left() + 3.0, r.center().y - galley.size().y / 2.0);
                        painter.galley(pos, galley, text_on(color));
                    }
                }
                if pointer.is_some_and(|p| r.contains(p)) {
                    let name = row.name(s.label);
                    let confidence = match (&state.anticipation, row.predicted) {
                        (Some(v), true) => v
                            .confidence_at(a as usize)
                            .map(|c| format!("\nconfidence {:.0} %", 100.0 * c))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    hovered = Some(format!(
                        "{}: {name}\nframes {}–{} ({:.2}–{:.2} s), {} frames ({:.2} s){confidence}",
                        row.title,
                        a as usize,
                        b as usize,
                        a / state.fps,
                        b / state.fps,
                        (b - a) as usize,
                        (b - a) / state.fps
                    ));
                }
            }
        }
        // dragging a boundary of an editable row moves it (the shared edge of both neighbours)
        let near_boundary = |p: Pos2| -> Option<(usize, usize)> {
            let i = ((p.y - rows_band.min) / (TRACK_HEIGHT + 4.0)).floor();
            let row = rows.get(i.max(0.0) as usize).filter(|_| i >= 0.0)?;
            let level = row.level?;
            row.segments
                .iter()
                .skip(1)
                .map(|s| s.start)
                .find(|&b| (x_of(b as f64) - p.x).abs() <= 4.0)
                .map(|b| (level, b))
        };
        if let Some(p) = pointer
            && near_boundary(p).is_some()
        {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        let drag_id = response.id.with("boundary");
        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            let hit = near_boundary(p);
            ui.memory_mut(|m| m.data.insert_temp(drag_id, hit));
        }
        let dragging: Option<(usize, usize)> = ui.memory(|m| m.data.get_temp(drag_id)).flatten();
        if let (Some((level, from)), Some(p)) = (dragging, response.interact_pointer_pos()) {
            let to = frame_of(p.x).round().max(0.0) as usize;
            let x = x_of(to as f64);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                Stroke::new(2.0, Color32::WHITE),
            );
            if response.drag_stopped() {
                ui.memory_mut(|m| m.data.remove::<Option<(usize, usize)>>(drag_id));
                if to != from {
                    commands.push(UiCommand::MoveBoundary { level, from, to });
                }
            }
        }
        // observation point and playhead
        if let Some(a) = &state.anticipation {
            let x = x_of(a.observed as f64);
            painter.line_segment(
                [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                Stroke::new(2.0, Color32::from_rgb(250, 200, 40)),
            );
            // "observed" left of the line, "anticipated" right of it, under the tracks
            let (tag, font) = (Color32::from_rgb(250, 200, 40), FontId::proportional(11.0));
            let y = tag_band.center();
            painter.text(
                Pos2::new(x - 4.0, y),
                Align2::RIGHT_CENTER,
                "observed",
                font.clone(),
                tag,
            );
            painter.text(Pos2::new(x + 4.0, y), Align2::LEFT_CENTER, "anticipated", font, tag);
        }
        let x = x_of(state.playhead as f64);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(2.0, Color32::from_rgb(230, 60, 60)),
        );

        if let Some(text) = hovered {
            response.clone().on_hover_text(text);
        }
        // legend: the classes that occur in the tracks, in vocabulary order, with their digit key
        ui.horizontal_wrapped(|ui| {
            for id in state.legend() {
                let (chip, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
                ui.painter().rect_filled(chip, 2.0, class_color(id, state.vocab.len()));
                let name = state.vocab.name(id).unwrap_or("NONE");
                // the digit that relabels with this class
                ui.small(match state.digit_of(id) {
                    Some(k) => format!("{} {name}", k + 1),
                    None => name.to_owned(),
                });
            }
        });
        // click: seek; drag on the ruler strip above the tracks: scrub; drag on the tracks: pan
        // (a drag may end left of the tracks, over their names: it still ends the scrub)
        let dragging_on = response.dragged() || response.drag_stopped();
        if let Some(p) = response
            .interact_pointer_pos()
            .filter(|p| (p.x >= area.left() || dragging_on) && dragging.is_none())
        {
            let on_ruler = if response.drag_started() {
                let r = p.y < rect.top() + RULER_HEIGHT;
                ui.memory_mut(|m| m.data.insert_temp(response.id, r));
                r
            } else {
                ui.memory(|m| m.data.get_temp::<bool>(response.id)).unwrap_or(false)
            };
            let frame = frame_of(p.x).round().max(0.0) as usize;
            if response.clicked() || (response.drag_stopped() && on_ruler) {
                commands.push(UiCommand::Seek(frame));
            } else if response.dragged() && on_ruler {
                commands.push(UiCommand::Scrub(frame));
            } else if response.dragged() {
                let frames_per_px = (v1 - v0) / area.width().max(1.0) as f64;
                let dx = -response.drag_delta().x as f64 * frames_per_px;
                commands.push(UiCommand::SetView(v0 + dx, v1 + dx));
            }
        }
        commands
    }

    /// Zoom factor from the wheel, around the frame under the mouse.
    pub fn zoomed(view: (f64, f64), frames: usize, around: f64, factor: f64) -> (f64, f64) {
        let (v0, v1) = view;
        let width = ((v1 - v0) * factor).clamp(10.0, frames.max(10) as f64);
        let t = ((around - v0) / (v1 - v0).max(1e-9)).clamp(0.0, 1.0);
        let start = (around - t * width).clamp(0.0, (frames as f64 - width).max(0.0));
        (start, start + width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_frame_under_the_mouse() {
        let v = Timeline::zoomed((0.0, 1000.0), 1000, 250.0, 0.5);
        assert_eq!(v, (125.0, 625.0));
        assert_eq!(Timeline::zoomed(v, 1000, 250.0, 100.0), (0.0, 1000.0));
    }

    #[test]
    fn colors_are_stable_and_none_is_grey() {
        assert_eq!(class_color(3, 48), class_color(3, 48));
        assert_ne!(class_color(3, 48), class_color(4, 48));
        assert_eq!(class_color(48, 48), Color32::from_gray(110));
    }
}
