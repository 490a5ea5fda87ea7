//! File dialogs: the desktop's (rfd: the XDG portal on Linux), on a worker thread, or mmant's
//! own in-window one when no desktop file chooser answers. A desktop dialog that comes back
//! empty sooner than a person could cancel it was never shown: from then on, for this run, the
//! in-window dialog opens instead; `MMANT_FILE_DIALOG=window` asks for it from the start (a
//! portal that hangs instead of failing cannot be told from a person taking their time). (egui_file, the one maintained dialog crate for this egui,
//! draws emoji that egui's bundled fonts lack; this one uses none.) Folders are listed on a
//! worker thread, so a slow mount never stalls the window.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::{Event, FileKind, ViewerApp};

/// What a chosen path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Open(FileKind),
    Export,
}

/// A desktop dialog that returns nothing sooner than this was not seen.
const UNSEEN: Duration = Duration::from_millis(500);

impl Purpose {
    fn title(self) -> &'static str {
        match self {
            Purpose::Open(FileKind::Video) => "Open video",
            Purpose::Open(FileKind::Labels) => "Open labels",
            Purpose::Open(FileKind::Features) => "Open features",
            Purpose::Open(FileKind::Checkpoint) => "Open checkpoint",
            Purpose::Export => "Export CSV",
        }
    }

    /// The filter's name and the extensions it shows.
    fn filter(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Purpose::Open(FileKind::Video) => {
                ("video", &["mp4", "mkv", "avi", "mov", "webm", "m4v", "mpg"])
            }
            Purpose::Open(FileKind::Labels) => (
                "labels (MS-TCN .txt, segment .csv, ELAN .eaf, Label Studio .json)",
                &["txt", "csv", "eaf", "json"],
            ),
            Purpose::Open(FileKind::Features) => ("features", &["npy"]),
            Purpose::Open(FileKind::Checkpoint) => ("checkpoint", &["safetensors", "json"]),
            Purpose::Export => ("CSV", &["csv"]),
        }
    }
}

/// A folder's listing: sub-folders and the files the dialog's filter shows, sorted by name.
#[derive(Debug, Default)]
struct Listing {
    folders: Vec<String>,
    files: Vec<String>,
    error: Option<String>,
}

fn list(folder: &Path, extensions: &[&str], all: bool) -> Listing {
    let entries = match std::fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) => {
            return Listing {
                error: Some(format!("{}: {e}", folder.display())),
                ..Default::default()
            };
        }
    };
    let mut l = Listing::default();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if e.path().is_dir() {
            l.folders.push(name);
        } else if all
            || Path::new(&name)
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| extensions.iter().any(|e| e.eq_ignore_ascii_case(x)))
        {
            l.files.push(name);
        }
    }
    l.folders.sort();
    l.files.sort();
    l
}

/// The in-window dialog while it is open.
pub(super) struct InWindowDialog {
    purpose: Purpose,
    folder: PathBuf,
    /// The folder field as typed (Enter goes there).
    folder_text: String,
    name: String,
    all_files: bool,
    listing: Listing,
    pending: Option<Receiver<Listing>>,
}

/// What the user did in the dialog this frame.
enum DialogAction {
    Go(PathBuf),
    Choose(PathBuf),
    Cancel,
}

impl InWindowDialog {
    fn new(purpose: Purpose, folder: PathBuf, name: String) -> Self {
        let mut d = InWindowDialog {
            purpose,
            folder_text: folder.display().to_string(),
            folder,
            name,
            all_files: false,
            listing: Listing::default(),
            pending: None,
        };
        d.refresh();
        d
    }

    fn refresh(&mut self) {
        let (tx, rx) = channel();
        let (folder, all) = (self.folder.clone(), self.all_files);
        let (_, extensions) = self.purpose.filter();
        std::thread::spawn(move || {
            let _ = tx.send(list(&folder, extensions, all));
        });
        self.pending = Some(rx);
    }

    fn go(&mut self, folder: PathBuf) {
        self.folder_text = folder.display().to_string();
        self.folder = folder;
        self.refresh();
    }

    fn ui(&mut self, ctx: &egui::Context) -> Option<DialogAction> {
        if let Some(rx) = &self.pending
            && let Ok(listing) = rx.try_recv()
        {
            self.listing = listing;
            self.pending = None;
        }
        if self.pending.is_some() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
        let mut action = None;
        let mut open = true;
        egui::Window::new(self.purpose.title())
            .open(&mut open)
            .collapsible(false)
            .default_size([520.0, 420.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Up").on_hover_text("the parent folder").clicked()
                        && let Some(parent) = self.folder.parent()
                    {
                        action = Some(DialogAction::Go(parent.to_path_buf()));
                    }
                    let field = ui.add(
                        egui::TextEdit::singleline(&mut self.folder_text)
                            .desired_width(f32::INFINITY),
                    );
                    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        action = Some(DialogAction::Go(PathBuf::from(&self.folder_text)));
                    }
                });
                let (label, _) = self.purpose.filter();
                if ui
                    .checkbox(&mut self.all_files, format!("all files, not only {label}"))
                    .changed()
                {
                    self.refresh();
                }
                egui::ScrollArea::vertical().max_height(280.0).auto_shrink([false, true]).show(
                    ui,
                    |ui| {
                        if let Some(e) = &self.listing.error {
                            ui.colored_label(ui.visuals().warn_fg_color, e);
                        }
                        for f in &self.listing.folders {
                            if ui.selectable_label(false, format!("{f}/")).clicked() {
                                action = Some(DialogAction::Go(self.folder.join(f)));
                            }
                        }
                        for f in &self.listing.files {
                            let r = ui.selectable_label(self.name == *f, f);
                            if r.clicked() {
                                self.name = f.clone();
                            }
                            if r.double_clicked() {
                                action = Some(DialogAction::Choose(self.folder.join(f)));
                            }
                        }
                    },
                );
                ui.separator();
                ui.horizontal(|ui| {
                    ui.label("File:");
                    ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(f32::INFINITY));
                });
                let chosen = self.folder.join(&self.name);
                // from the listing, not the file system: the UI thread never waits on a mount
                let exists = self.listing.files.contains(&self.name);
                if self.purpose == Purpose::Export && exists {
                    ui.colored_label(ui.visuals().warn_fg_color, "this replaces the existing file");
                }
                ui.horizontal(|ui| {
                    let verb = if self.purpose == Purpose::Export { "Save" } else { "Open" };
                    let ready =
                        !self.name.is_empty() && (exists || self.purpose == Purpose::Export);
                    if ui.add_enabled(ready, egui::Button::new(verb)).clicked() {
                        action = Some(DialogAction::Choose(chosen.clone()));
                    }
                    if ui.button("Cancel").clicked() {
                        action = Some(DialogAction::Cancel);
                    }
                });
            });
        if !open || ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            action = Some(DialogAction::Cancel);
        }
        action
    }
}

impl ViewerApp {
    /// Asks the user for a file for `purpose`; the answer arrives as `Event::Chosen`, or from the
    /// in-window dialog drawn by `show_dialog`.
    pub(super) fn ask_for_file(&mut self, purpose: Purpose) {
        if self.in_window_dialogs {
            self.open_in_window_dialog(purpose);
            return;
        }
        let tx = self.events.0.clone();
        let name = self.export_file_name();
        std::thread::spawn(move || {
            let started = Instant::now();
            let (label, extensions) = purpose.filter();
            let dialog =
                rfd::FileDialog::new().set_title(purpose.title()).add_filter(label, extensions);
            let path = match purpose {
                Purpose::Export => dialog.set_file_name(name).save_file(),
                Purpose::Open(_) => dialog.pick_file(),
            };
            let unseen = path.is_none() && started.elapsed() < UNSEEN;
            let _ = tx.send(Event::Chosen { purpose, path, unseen });
        });
    }

    pub(super) fn chosen(&mut self, purpose: Purpose, path: Option<PathBuf>, unseen: bool) {
        match path {
            Some(path) => match purpose {
                Purpose::Open(kind) => self.open(kind, path),
                Purpose::Export => self.export(path),
            },
            None if unseen => {
                self.in_window_dialogs = true;
                self.state.status =
                    "no desktop file chooser answered: mmant's own dialog opens instead".into();
                self.open_in_window_dialog(purpose);
            }
            None => {
                self.state.status =
                    "no file chosen (no dialog appeared? MMANT_FILE_DIALOG=window uses mmant's own)"
                        .into()
            }
        }
    }

    fn export_file_name(&self) -> String {
        format!("{}_segments.csv", self.state.video_name)
    }

    /// The folder a dialog starts in: the video's, else the labels', else the last file's, else
    /// the working one.
    fn dialog_folder(&self) -> PathBuf {
        let labels = self.annotation.as_ref().map(|s| s.path.as_path());
        let recent = self.settings.recent.first().map(|(_, p)| p.as_path());
        self.video_path
            .as_deref()
            .or(labels)
            .or(recent)
            .and_then(Path::parent)
            .filter(|d| d.is_dir())
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default()
    }

    fn open_in_window_dialog(&mut self, purpose: Purpose) {
        let name = if purpose == Purpose::Export { self.export_file_name() } else { String::new() };
        self.file_dialog = Some(InWindowDialog::new(purpose, self.dialog_folder(), name));
    }

    /// Draws the in-window dialog while it is open, and acts on its answer.
    pub(super) fn show_dialog(&mut self, ctx: &egui::Context) {
        let Some(d) = &mut self.file_dialog else { return };
        match d.ui(ctx) {
            None => {}
            Some(DialogAction::Go(folder)) => d.go(folder),
            Some(DialogAction::Choose(path)) => {
                let purpose = d.purpose;
                self.file_dialog = None;
                self.chosen(purpose, Some(path), false);
            }
            Some(DialogAction::Cancel) => {
                self.file_dialog = None;
                self.state.status = "no file chosen".into();
            }
        }
    }

    /// Whether the in-window dialog is open (tests).
    pub fn in_window_dialog_open(&self) -> bool {
        self.file_dialog.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_shows_folders_and_the_files_of_the_filter() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.mp4", "a.MKV", "notes.txt", ".hidden.mp4"] {
            std::fs::write(dir.path().join(f), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("clips")).unwrap();
        let (_, video) = Purpose::Open(FileKind::Video).filter();
        let l = list(dir.path(), video, false);
        assert_eq!(
            (l.folders, l.files),
            (vec!["clips".to_owned()], vec!["a.MKV".into(), "b.mp4".into()])
        );
        assert_eq!(list(dir.path(), video, true).files, ["a.MKV", "b.mp4", "notes.txt"]);
        let missing = list(&dir.path().join("gone"), video, false);
        assert!(missing.error.is_some_and(|e| e.contains("gone")));
    }
}
