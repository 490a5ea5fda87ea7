//! Annotating in the viewer: the ground truth's edit session (journal, undo), the edit commands,
//! the searchable relabel list, painting while playing, and the close guard for unsaved edits.

use std::path::Path;

use super::ViewerApp;
use crate::annotation::{Edit, Session};
use crate::data::Vocabulary;

impl ViewerApp {
    /// Edits the label file `path` (already shown as ground truth) in this window: opens its
    /// session, replaying a journal left by a crash. Returns what was recovered, if anything.
    pub fn attach_annotation(&mut self, path: &Path) -> Result<Option<String>, String> {
        let vocabularies = vec![(self.state.level.clone(), self.state.vocab.clone())];
        let (session, recovered) = Session::open(path, &vocabularies, true, self.label_clock())
            .map_err(|e| e.to_string())?;
        self.annotation = Some(session);
        self.sync_ground_truth();
        if let Some(r) = &recovered {
            self.state.status = r.clone();
        }
        Ok(recovered)
    }

    /// Time → frame for annotation files that count time.
    pub(super) fn label_clock(&self) -> crate::annotation::Clock {
        self.frame_times.clone().unwrap_or(crate::annotation::Clock::Fps(self.state.fps))
    }

    pub fn annotation(&self) -> Option<&Session> {
        self.annotation.as_ref()
    }

    /// The annotation's first level becomes the ground-truth track (the model reruns on it), the
    /// others are shown under it.
    pub(super) fn sync_ground_truth(&mut self) {
        let Some(s) = &self.annotation else { return };
        let Some(level) = s.doc.levels.first() else { return };
        let labels = level.track.labels();
        if self.state.ground_truth.as_ref() != Some(&labels) {
            self.labels_version += 1;
        }
        if level.vocab.len() != self.state.vocab.len() {
            // a label added while annotating joins the vocabulary (ids of the others unchanged)
            self.state.vocab = Vocabulary::from_names(level.vocab.clone());
        }
        self.state.ground_truth = Some(labels);
        self.state.assign_digit_keys();
        self.state.gt_segments = Some(level.track.segments().to_vec());
        self.state.extra_levels = s.doc.levels[1..]
            .iter()
            .map(|l| crate::viewer::state::ExtraLevel {
                name: l.name.clone(),
                vocab: l.vocab.clone(),
                segments: l.track.segments().to_vec(),
            })
            .collect();
        self.state.edit_level = self.state.edit_level.min(s.doc.levels.len() - 1);
    }

    /// Applies an edit to the ground truth; it shows as done once it is in the journal.
    pub fn edit(&mut self, edit: Edit) {
        let Some(s) = &mut self.annotation else {
            self.state.status = "no label file to edit: open one (File › Open labels)".into();
            return;
        };
        self.state.status = match s.edit(edit) {
            Ok(()) => format!("edit saved to the journal; {} unsaved (Ctrl+S saves)", s.unsaved()),
            Err(e) => format!("edit refused: {e}"),
        };
        self.sync_ground_truth();
    }

    pub(super) fn history(&mut self, redo: bool) {
        let Some(s) = &mut self.annotation else { return };
        self.state.status = match if redo { s.redo() } else { s.undo() } {
            Ok(true) => {
                format!("{}; {} unsaved", if redo { "redone" } else { "undone" }, s.unsaved())
            }
            Ok(false) => format!("nothing to {}", if redo { "redo" } else { "undo" }),
            Err(e) => e.to_string(),
        };
        self.sync_ground_truth();
    }

    pub(super) fn save(&mut self) {
        let Some(s) = &mut self.annotation else { return };
        self.state.status = match s.save() {
            Ok(()) => format!("saved {}", s.path.display()),
            Err(e) => format!("not saved: {e}"),
        };
    }

    /// The label of digit `k`: the class pinned to the key on the ground truth (`digit_keys`),
    /// the k-th label of the vocabulary on another level.
    pub(super) fn legend_label(&self, k: usize) -> Option<String> {
        if self.state.edit_level == 0 {
            self.state
                .digit_keys
                .get(k)
                .copied()
                .flatten()
                .and_then(|id| self.state.vocab.name(id))
                .map(str::to_owned)
        } else {
            self.state
                .extra_levels
                .get(self.state.edit_level - 1)
                .and_then(|l| l.vocab.get(k))
                .cloned()
        }
    }

    pub(super) fn relabel_window(&mut self, ctx: &egui::Context) {
        let Some(filter) = &mut self.relabel_filter else { return };
        let mut chosen = None;
        let mut open = true;
        let vocab = match self.state.edit_level {
            0 => self.state.vocab.names().to_vec(),
            i => self.state.extra_levels.get(i - 1).map(|l| l.vocab.clone()).unwrap_or_default(),
        };
        egui::Window::new("Relabel").open(&mut open).collapsible(false).show(ctx, |ui| {
            let r = ui
                .add(egui::TextEdit::singleline(filter).hint_text("type to search or add a label"));
            r.request_focus();
            let needle = filter.trim().to_lowercase();
            egui::ScrollArea::vertical().max_height(260.0).show(ui, |ui| {
                for name in vocab.iter().filter(|n| n.to_lowercase().contains(&needle)) {
                    if ui.button(name).clicked() {
                        chosen = Some(name.clone());
                    }
                }
            });
            let typed = filter.trim().to_owned();
            if !typed.is_empty()
                && !vocab.contains(&typed)
                && ui.button(format!("add the label \"{typed}\"")).clicked()
            {
                chosen = Some(typed.clone());
            }
            if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) && !typed.is_empty()
            {
                chosen = Some(
                    vocab
                        .iter()
                        .find(|n| n.to_lowercase().contains(&needle))
                        .cloned()
                        .unwrap_or(typed),
                );
            }
        });
        if let Some(label) = chosen {
            self.relabel_filter = None;
            self.edit(Edit::Relabel {
                level: self.state.edit_level,
                frame: self.state.playhead,
                label,
            });
        } else if !open {
            self.relabel_filter = None;
        }
    }

    /// The frame painting applies to: the playhead minus the reaction time.
    pub(super) fn paint_frame(&self) -> usize {
        self.state
            .playhead
            .saturating_sub((self.settings.reaction_s as f64 * self.state.fps).round() as usize)
    }

    /// Closing with unsaved edits asks first (the journal keeps them either way).
    pub(super) fn close_guard(&mut self, ctx: &egui::Context) {
        let unsaved = self.annotation.as_ref().map_or(0, Session::unsaved);
        if ctx.input(|i| i.viewport().close_requested()) && unsaved > 0 && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_close = true;
        }
        if !self.confirm_close {
            return;
        }
        egui::Window::new("Unsaved edits").collapsible(false).resizable(false).show(ctx, |ui| {
            ui.label(format!("{unsaved} edits are not saved to the label file (they are in its journal and would be recovered next time)."));
            ui.horizontal(|ui| {
                if ui.button("Save and close").clicked() {
                    self.save();
                    if self.annotation.as_ref().is_some_and(|s| s.unsaved() == 0) {
                        self.allow_close = true;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                    self.confirm_close = false;
                }
                if ui.button("Close without saving").clicked() {
                    self.allow_close = true;
                    self.confirm_close = false;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_close = false;
                }
            });
        });
    }
}
