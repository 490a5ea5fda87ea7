//! The `?` overlay: every command with its keys, and the digit keys' labels now.

use super::ViewerApp;
use crate::viewer::state::UiCommand;

impl ViewerApp {
    pub(super) fn help_overlay(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for cmd in UiCommand::MENU.iter() {
                        ui.label(cmd.title());
                        ui.monospace(cmd.shortcut_text(ctx).unwrap_or_default());
                        ui.end_row();
                    }
                    ui.label(UiCommand::Relabel(0).title());
                    ui.monospace("1 … 9");
                    ui.end_row();
                    ui.label(UiCommand::PinKey(0).title());
                    ui.monospace(
                        ctx.format_shortcut(&egui::KeyboardShortcut::new(
                            egui::Modifiers::COMMAND,
                            egui::Key::Num1,
                        )) + " … 9",
                    );
                    ui.end_row();
                    let keys: Vec<String> = (0..9)
                        .filter_map(|k| {
                            let id = self.state.digit_keys[k]?;
                            Some(format!("{} {}", k + 1, self.state.vocab.name(id).unwrap_or("?")))
                        })
                        .collect();
                    ui.label("The keys now");
                    ui.monospace(if keys.is_empty() { "none".into() } else { keys.join(" · ") });
                    ui.end_row();
                    ui.label("Zoom the timeline");
                    ui.monospace("mouse wheel");
                    ui.end_row();
                    ui.label("Pan / scrub");
                    ui.monospace("drag tracks / drag ruler");
                    ui.end_row();
                });
            });
        self.show_help = open;
    }
}
