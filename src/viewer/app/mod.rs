//! The eframe application: polls the decoder, model and file workers, turns input into commands,
//! and draws the panels. Decoding, inference, feature extraction, file dialogs, reading files and
//! exports happen on other threads (`files`). One exception, on purpose: an annotation edit is
//! appended to its journal and synced before it counts as done, and a save is written, on the
//! UI thread (`editing`; a few milliseconds, measured by `mmant bench viewer`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use egui::TextureHandle;
use serde::{Deserialize, Serialize};

mod dialogs;
mod editing;
mod files;
mod help;
mod playback;
mod training;

use self::dialogs::Purpose;
use super::inference::{self, InferenceWorker};
use super::plots::Plots;
use super::state::{Menu, UiCommand, ViewerState};
use super::timeline::Timeline;
use crate::annotation::{Edit, Session};
use crate::data::Features;
use crate::model::checkpoint::InputKind;
use crate::video::DecoderWorker;

/// The kinds of file the viewer opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileKind {
    Video,
    Labels,
    Features,
    Checkpoint,
}

/// What persists between sessions (eframe storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub recent: Vec<(FileKind, PathBuf)>,
    pub speed: f32,
    pub alpha: f32,
    pub follow_playhead: bool,
    pub show_plots: bool,
    /// Painting while playing labels the frames this many seconds before the key events
    /// (the annotator's reaction time).
    #[serde(default = "default_reaction")]
    pub reaction_s: f32,
}

fn default_reaction() -> f32 {
    0.3
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            recent: Vec::new(),
            speed: 1.0,
            alpha: 0.3,
            follow_playhead: false,
            show_plots: true,
            reaction_s: default_reaction(),
        }
    }
}

const RECENT_MAX: usize = 10;

/// Results of background tasks (dialogs, file reads and writes, feature extraction).
enum Event {
    /// A desktop dialog's answer; `unseen`: it answered nothing too fast to have been shown.
    Chosen {
        purpose: dialogs::Purpose,
        path: Option<PathBuf>,
        unseen: bool,
    },
    Exported(Result<(PathBuf, usize), String>),
    LabelsLoaded(PathBuf, Result<(Session, Option<String>), String>),
    FeaturesLoaded(PathBuf, Result<Features, String>),
    ExtractProgress(usize, usize),
    /// Training on annotated videos: what it is doing, done of total.
    TrainProgress(String, usize, usize),
    /// The trained checkpoint and what to say, or why it failed.
    TrainDone(Result<(PathBuf, String), String>),
}

pub struct ViewerApp {
    pub state: ViewerState,
    pub settings: Settings,
    inference: Option<InferenceWorker>,
    /// What the loaded checkpoint observes (known once the worker has loaded it).
    checkpoint_input: Option<InputKind>,
    /// Stride τ of the checkpoint: the model reruns once per τ observed frames.
    stride: usize,
    /// The last request: (observation bucket, labels version, features present).
    last_request: Option<(usize, u64, bool)>,
    labels_version: u64,
    video_path: Option<PathBuf>,
    video: Option<DecoderWorker>,
    frame_texture: Option<TextureHandle>,
    /// The frame last asked of the decoder, and how exactly.
    requested_frame: Option<(usize, crate::video::Precision)>,
    /// While scrubbing: the playhead and when it last moved.
    scrubbed: Option<(usize, std::time::Instant)>,
    /// The last frame the decoder could not decode.
    failed_frame: Option<usize>,
    /// The picture on screen.
    displayed: Option<Arc<crate::video::RgbFrame>>,
    /// Frames in the video, once it is open.
    video_frames: Option<usize>,
    thumbnail_worker: Option<crate::video::ThumbnailWorker>,
    /// Keyframe thumbnails for the timeline's strip, sorted by frame.
    thumbnails: Vec<crate::viewer::timeline::Thumbnail>,
    playback: Option<playback::Playback>,
    features: Option<Arc<Features>>,
    extracting: Option<(usize, usize)>,
    /// Where extracted features are cached ($MMANT_CACHE or ~/.cache/mmant, then `features/`).
    pub feature_cache: PathBuf,
    /// Training on annotated videos, while it runs.
    training: Option<training::TrainingJob>,
    events: (Sender<Event>, Receiver<Event>),
    show_help: bool,
    plots: Plots,
    /// How the window is drawn (renderer, software adapter), for the status bar.
    pub renderer_note: Option<String>,
    /// The last anticipation's observation point and latency, for the status bar.
    pub model_note: Option<String>,
    /// UI-thread CPU time of the last frames, for `mmant bench viewer`.
    pub frame_times_ms: Vec<f64>,
    pub window_title: String,
    /// The ground-truth labels being edited (file, journal, undo history).
    annotation: Option<Session>,
    /// The open video's frame times when its rate is variable (ELAN's milliseconds land on the
    /// frames shown); otherwise annotations count time at `state.fps`.
    pub(in crate::viewer) frame_times: Option<crate::annotation::Clock>,
    /// Painting while playing: (legend entry, first frame).
    paint: Option<(usize, usize)>,
    /// The searchable relabel list, open with its filter text.
    relabel_filter: Option<String>,
    /// The window asked to close with unsaved edits: ask first.
    confirm_close: bool,
    allow_close: bool,
    /// The demo starts playing and following the playhead whatever the saved settings say.
    pub demo: bool,
    /// No desktop file chooser answered: file dialogs open in the window.
    pub in_window_dialogs: bool,
    file_dialog: Option<dialogs::InWindowDialog>,
}

impl ViewerApp {
    pub fn new(state: ViewerState, checkpoint: Option<PathBuf>, video: Option<PathBuf>) -> Self {
        let mut app = ViewerApp {
            settings: Settings::default(),
            inference: None,
            checkpoint_input: None,
            stride: 1,
            last_request: None,
            labels_version: 0,
            video_path: None,
            video: None,
            frame_texture: None,
            requested_frame: None,
            scrubbed: None,
            failed_frame: None,
            displayed: None,
            video_frames: None,
            thumbnail_worker: None,
            thumbnails: Vec::new(),
            playback: None,
            features: None,
            extracting: None,
            feature_cache: crate::fsutil::cache_root().unwrap_or_else(std::env::temp_dir),
            training: None,
            events: channel(),
            show_help: false,
            plots: Plots,
            renderer_note: None,
            model_note: None,
            frame_times_ms: Vec::new(),
            window_title: format!("mmant — {}", state.video_name),
            annotation: None,
            frame_times: None,
            paint: None,
            relabel_filter: None,
            confirm_close: false,
            allow_close: false,
            demo: false,
            in_window_dialogs: std::env::var("MMANT_FILE_DIALOG").is_ok_and(|v| v == "window"),
            file_dialog: None,
            state,
        };
        if let Some(v) = video {
            app.open_video(v);
        } else {
            app.state.status = "no video: the timeline works from the labels alone".into();
        }
        match checkpoint {
            Some(c) => app.open_checkpoint(c),
            None => app.state.status.push_str(if app.state.status.is_empty() {
                "no checkpoint: nothing is anticipated"
            } else {
                "; no checkpoint"
            }),
        }
        app
    }

    /// Restores persisted settings (recent files, speed, α, panels).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        if !self.demo {
            self.state.speed = settings.speed;
            self.state.alpha = settings.alpha;
            self.state.follow_playhead = settings.follow_playhead;
        }
        // files opened on the command line this time come first
        let mut recent = std::mem::take(&mut self.settings.recent);
        recent.extend(
            settings.recent.iter().filter(|r| !recent.contains(r)).cloned().collect::<Vec<_>>(),
        );
        recent.truncate(RECENT_MAX);
        self.settings = Settings { recent, ..settings };
        self
    }

    /// Commands that are the app's (files, dialogs, panels); the rest change the state.
    pub fn run_command(&mut self, cmd: UiCommand) {
        match cmd {
            UiCommand::OpenVideo => self.ask_for_file(Purpose::Open(FileKind::Video)),
            UiCommand::OpenLabels => self.ask_for_file(Purpose::Open(FileKind::Labels)),
            UiCommand::OpenFeatures => self.ask_for_file(Purpose::Open(FileKind::Features)),
            UiCommand::OpenCheckpoint => self.ask_for_file(Purpose::Open(FileKind::Checkpoint)),
            UiCommand::TrainOnAnnotated => self.train_on_annotated(),
            UiCommand::CancelTraining => self.cancel_training(),
            UiCommand::ExportCsv => self.ask_for_file(Purpose::Export),
            UiCommand::ToggleHelp => self.show_help = !self.show_help,
            UiCommand::Save => self.save(),
            UiCommand::Undo => self.history(false),
            UiCommand::Redo => self.history(true),
            UiCommand::SplitAtPlayhead => {
                self.edit(Edit::Split { level: self.state.edit_level, frame: self.state.playhead })
            }
            UiCommand::MergeWithNext => self
                .edit(Edit::MergeNext { level: self.state.edit_level, frame: self.state.playhead }),
            UiCommand::DeleteSegment => {
                self.edit(Edit::Delete { level: self.state.edit_level, frame: self.state.playhead })
            }
            UiCommand::Relabel(k) => match self.legend_label(k) {
                Some(label) => self.edit(Edit::Relabel {
                    level: self.state.edit_level,
                    frame: self.state.playhead,
                    label,
                }),
                None => {
                    self.state.status = format!(
                        "key {} has no label yet: Ctrl+{} pins the label at the playhead to it",
                        k + 1,
                        k + 1
                    )
                }
            },
            UiCommand::PinKey(k) => {
                let at = self.state.playhead;
                match self.state.ground_truth.as_ref().and_then(|gt| gt.get(at)).copied() {
                    Some(id) if self.state.edit_level == 0 => {
                        self.state.pin_digit_key(k, id);
                        let name = self.state.vocab.name(id).unwrap_or("?");
                        self.state.status = format!("key {} relabels with {name}", k + 1);
                    }
                    Some(_) => {
                        self.state.status =
                            "on this level the keys follow its vocabulary's order".into()
                    }
                    None => self.state.status = "no label at the playhead to pin".into(),
                }
            }
            UiCommand::RelabelSearch => self.relabel_filter = Some(String::new()),
            UiCommand::MoveBoundary { level, from, to } => {
                self.edit(Edit::MoveBoundary { level, from, to })
            }
            UiCommand::NewFineLevel => {
                let levels = self.annotation.as_ref().map_or(0, |s| s.doc.levels.len());
                let name = if levels <= 1 { "fine".to_owned() } else { format!("fine{levels}") };
                self.edit(Edit::AddLevel {
                    name,
                    parent: self.state.edit_level,
                    label: "unlabelled".into(),
                });
                if self.annotation.as_ref().is_some_and(|s| s.doc.levels.len() > levels) {
                    self.state.edit_level = levels;
                }
            }
            UiCommand::NextLevel => {
                let levels = self.annotation.as_ref().map_or(1, |s| s.doc.levels.len());
                self.state.edit_level = (self.state.edit_level + 1) % levels.max(1);
                let name = self
                    .annotation
                    .as_ref()
                    .and_then(|s| s.doc.levels.get(self.state.edit_level))
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                self.state.status = format!("editing level {name}");
            }
            UiCommand::TogglePlots => self.settings.show_plots = !self.settings.show_plots,
            other => self.state.apply(other),
        }
        self.settings.speed = self.state.speed;
        self.settings.alpha = self.state.alpha;
        self.settings.follow_playhead = self.state.follow_playhead;
    }

    /// Worker replies → state; newer requests → workers. Never waits.
    fn poll_workers(&mut self, ctx: &egui::Context) {
        self.handle_events();
        if let Some(w) = &self.inference {
            let mut drop_worker = false;
            while let Some(reply) = w.poll() {
                match reply {
                    inference::Reply::Loaded(meta) => {
                        self.stride = meta.stride.max(1);
                        // a video with no labels open takes the checkpoint's vocabulary (what it
                        // recognises and anticipates is named by it)
                        if self.state.ground_truth.is_none() && self.annotation.is_none() {
                            self.state.vocab =
                                crate::data::Vocabulary::from_names(meta.vocabulary.clone())
                                    .with_origin("the checkpoint's vocabulary");
                            self.state.assign_digit_keys();
                        }
                        if meta.vocabulary != self.state.vocab.names() {
                            self.state.status = format!(
                                "the checkpoint's {} classes differ from the labels' {}: anticipation is off",
                                meta.vocabulary.len(),
                                self.state.vocab.len()
                            );
                            drop_worker = true;
                            break;
                        }
                        self.state.level = meta.level.clone();
                        self.state.status = format!(
                            "model: {} trained on {} split {}",
                            match meta.model {
                                crate::model::checkpoint::ModelConfig::Futr(_) => "FUTR",
                                _ => "m&m-Ant",
                            },
                            meta.dataset,
                            meta.split
                        );
                        self.checkpoint_input = Some(meta.input.clone());
                    }
                    inference::Reply::Result { generation, view } => {
                        if generation == w.latest() || self.state.anticipation.is_none() {
                            // beside the status, not in it: it changes with every frame played
                            // and would wipe what the user needs to read (an export's path)
                            self.model_note = Some(format!(
                                "anticipated from frame {} in {:.0} ms",
                                view.observed, view.latency_ms
                            ));
                            self.state.anticipation = Some(view);
                        }
                    }
                    inference::Reply::Error { message, .. } => self.state.status = message,
                }
                ctx.request_repaint();
            }
            if drop_worker {
                self.inference = None;
            }
        }
        self.request_anticipation();
        self.poll_video(ctx);
        if self.extracting.is_some() || self.training.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
        }
    }

    /// Asks the model for the current observation point, once per τ frames (newest wins).
    fn request_anticipation(&mut self) {
        let observed = self.state.observation_point().min(self.state.frames);
        let (Some(input), Some(_)) = (self.checkpoint_input.clone(), &self.inference) else {
            return;
        };
        let key = (
            observed / self.stride,
            self.labels_version + self.state.observe_predictions as u64 * (1 << 40),
            self.features.is_some(),
        );
        if self.last_request == Some(key) {
            return;
        }
        let (labels, features) = match &input {
            InputKind::GtLabels { .. } => match self
                .state
                .predictions
                .as_ref()
                .filter(|_| self.state.observe_predictions)
                .or(self.state.ground_truth.as_ref())
            {
                Some(gt) => (gt[..observed.min(gt.len())].to_vec(), None),
                None => {
                    // said at once, wherever the playhead is
                    let hint = "the checkpoint observes labels: open this video's label file (File › Open labels) to see them and what it anticipates";
                    self.state.status = hint.into();
                    self.state.empty_hint = hint.into();
                    self.last_request = Some(key);
                    return;
                }
            },
            InputKind::Features { backbone, feature_stride, .. } => match &self.features {
                Some(f) => {
                    let observed = observed.min(f.frames);
                    // only the observed length is read from the labels when features are observed
                    let labels = self
                        .state
                        .ground_truth
                        .as_ref()
                        .map(|g| g[..observed.min(g.len())].to_vec())
                        .unwrap_or_else(|| vec![0; observed]);
                    (labels, Some(f.clone()))
                }
                None => {
                    self.last_request = Some(key);
                    if self.extracting.is_none() {
                        match backbone {
                            Some(b) if self.video_path.is_some() => {
                                // sampled as the training features were; failing that, every τ-th
                                // frame, the only frames the model reads
                                let stride = feature_stride.unwrap_or(self.stride);
                                self.extract_features_for(&b.clone(), stride)
                            }
                            _ => self.state.status = "the checkpoint observes features: open the video's .npy (File › Open features)".into(),
                        }
                    }
                    return;
                }
            },
        };
        if observed == 0 {
            return; // nothing observed yet: nothing to anticipate from
        }
        if let Some(w) = &mut self.inference {
            w.request(labels, features, self.state.frames);
            self.last_request = Some(key);
        }
    }

    /// Shortcuts, unless a text field has the keyboard.
    fn keyboard(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        // shortcuts with modifiers first, so that Shift+→ is not also →
        let mut commands: Vec<UiCommand> = UiCommand::MENU.to_vec();
        commands.sort_by_key(|c| {
            c.shortcut().map_or(0, |s| -((s.modifiers.shift as i32) + (s.modifiers.command as i32)))
        });
        for cmd in commands {
            if let Some(sc) = cmd.shortcut()
                && ui.input_mut(|i| i.consume_shortcut(&sc))
            {
                self.run_command(cmd);
            }
        }
        // digits: relabel the segment at the playhead; held while playing: paint the frames
        const DIGITS: [egui::Key; 9] = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
            egui::Key::Num8,
            egui::Key::Num9,
        ];
        for (k, key) in DIGITS.into_iter().enumerate() {
            let (pressed, pin, released) = ui.input(|i| {
                (
                    i.key_pressed(key) && !i.modifiers.any(),
                    i.key_pressed(key) && i.modifiers.command_only(),
                    i.key_released(key),
                )
            });
            if pin {
                self.run_command(UiCommand::PinKey(k));
            }
            if pressed && self.paint.is_none() {
                if self.state.playing {
                    self.paint = Some((k, self.paint_frame()));
                } else {
                    self.run_command(UiCommand::Relabel(k));
                }
            }
            if released && let Some((pk, start)) = self.paint.filter(|p| p.0 == k) {
                self.paint = None;
                let end = (self.paint_frame() + 1).min(self.state.frames);
                match self.legend_label(pk) {
                    Some(label) if end > start => {
                        self.edit(Edit::Paint { level: self.state.edit_level, start, end, label })
                    }
                    _ => {}
                }
            }
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui, commands: &mut Vec<UiCommand>) {
        egui::MenuBar::new().ui(ui, |ui| {
            for (menu, title) in [
                (Menu::File, "File"),
                (Menu::Edit, "Edit"),
                (Menu::Playback, "Playback"),
                (Menu::View, "View"),
                (Menu::Help, "Help"),
            ] {
                ui.menu_button(title, |ui| {
                    for cmd in UiCommand::MENU.iter().filter(|c| c.menu() == menu) {
                        let mut button = egui::Button::new(cmd.title());
                        if let Some(text) = cmd.shortcut_text(ui.ctx()) {
                            button = button.shortcut_text(text);
                        }
                        if ui.add(button).clicked() {
                            commands.push(cmd.clone());
                            ui.close();
                        }
                    }
                    if menu == Menu::File {
                        ui.separator();
                        ui.menu_button("Recent", |ui| {
                            if self.settings.recent.is_empty() {
                                ui.label("nothing yet");
                            }
                            for (kind, path) in self.settings.recent.clone() {
                                if ui.button(format!("{kind:?}: {}", path.display())).clicked() {
                                    self.open(kind, path);
                                    ui.close();
                                }
                            }
                        });
                    }
                });
            }
        });
    }

    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let started = cpu_time();
        let ctx = ui.ctx().clone();
        self.poll_workers(&ctx);
        self.advance_playback(&ctx);
        self.keyboard(ui);
        let mut commands = Vec::new();
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui, &mut commands));
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.button(if self.state.playing { "Pause" } else { "Play" }).on_hover_text("Space").clicked() {
                    commands.push(UiCommand::TogglePlay);
                }
                if ui.add(egui::Slider::new(&mut self.state.speed, 0.25..=4.0).text("speed").logarithmic(true)).changed() {
                    self.settings.speed = self.state.speed;
                }
                ui.label(format!("frame {} / {}  ({:.2} s)", self.state.playhead, self.state.frames, self.state.playhead as f64 / self.state.fps));
                let mut alpha = self.state.alpha;
                if ui.add_enabled(!self.state.follow_playhead, egui::Slider::new(&mut alpha, 0.0..=1.0).text("observation rate α")).changed() {
                    commands.push(UiCommand::SetAlpha(alpha));
                }
                if self.state.predictions.is_some() {
                    ui.checkbox(&mut self.state.observe_predictions, "observe the segmentation output")
                        .on_hover_text("the model sees the segmentation model's labels of the observed part instead of the ground truth");
                }
                let mut follow = self.state.follow_playhead;
                if ui.checkbox(&mut follow, "follow playhead").on_hover_text("L").changed() {
                    commands.push(UiCommand::ToggleFollowPlayhead);
                }
                if ui.button("Export CSV").on_hover_text("Ctrl+E").clicked() {
                    commands.push(UiCommand::ExportCsv);
                }
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            for (_, notice) in &self.state.notices {
                ui.colored_label(ui.visuals().warn_fg_color, notice);
            }
            ui.horizontal(|ui| {
                if let Some((done, total)) = self.extracting {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .desired_width(160.0)
                            .text(format!("features {done}/{total}")),
                    );
                }
                if let Some(job) = &self.training {
                    let (done, total) = job.progress;
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .desired_width(220.0)
                            .text(format!("{} {done}/{total}", job.stage)),
                    );
                    if ui.button("Cancel training").clicked() {
                        commands.push(UiCommand::CancelTraining);
                    }
                }
                // the notes on the right first; the status takes the space left and is cut
                // short (whole on hover) rather than drawn under them
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    for note in [&self.renderer_note, &self.model_note].into_iter().flatten() {
                        ui.weak(note);
                    }
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.add(egui::Label::new(&self.state.status).truncate());
                    });
                });
            });
        });
        egui::Panel::bottom("timeline").show(ui, |ui| {
            let hover = ui.input(|i| (i.pointer.hover_pos(), i.smooth_scroll_delta.y));
            commands.extend(Timeline::ui(ui, &self.state, &self.thumbnails));
            if let (Some(pos), dy) = hover
                && dy != 0.0
                && ui.max_rect().contains(pos)
            {
                let (v0, v1) = self.state.view;
                let around = v0
                    + ((pos.x - ui.max_rect().left()) / ui.max_rect().width()) as f64 * (v1 - v0);
                let (a, b) = Timeline::zoomed(
                    self.state.view,
                    self.state.frames,
                    around,
                    (-dy as f64 * 0.005).exp(),
                );
                commands.push(UiCommand::SetView(a, b));
            }
        });
        if self.settings.show_plots {
            egui::Panel::right("plots")
                .default_size(300.0)
                .show(ui, |ui| self.plots.ui(ui, &self.state));
        }
        let approximate = self.picture_is_approximate().then(|| self.displayed_frame()).flatten();
        egui::CentralPanel::default().show(ui, |ui| match &self.frame_texture {
            Some(t) => {
                let size = t.size_vec2();
                let scale =
                    (ui.available_width() / size.x).min(ui.available_height() / size.y).max(0.1);
                let image = ui.centered_and_justified(|ui| ui.image((t.id(), size * scale))).inner;
                if let Some(shown) = approximate {
                    // said over the picture: a label must not be judged on another frame
                    let text =
                        format!("nearby frame {shown} (frame {} is decoding)", self.state.playhead);
                    let at = egui::Align2::CENTER_TOP
                        .align_size_within_rect(size * scale, image.rect)
                        .min;
                    let galley = ui.painter().layout_no_wrap(
                        text,
                        egui::FontId::proportional(14.0),
                        egui::Color32::WHITE,
                    );
                    let bg = egui::Rect::from_min_size(at, galley.size() + egui::vec2(8.0, 4.0));
                    ui.painter().rect_filled(bg, 2.0, egui::Color32::from_black_alpha(180));
                    ui.painter().galley(at + egui::vec2(4.0, 2.0), galley, egui::Color32::WHITE);
                }
            }
            None => {
                ui.centered_and_justified(|ui| {
                    ui.label(if self.video.is_some() {
                        "decoding…"
                    } else {
                        "no video for these labels"
                    })
                });
            }
        });
        if self.show_help {
            self.help_overlay(&ctx);
        }
        self.relabel_window(&ctx);
        self.show_dialog(&ctx);
        self.close_guard(&ctx);
        for c in commands {
            self.run_command(c);
        }
        if let (Some(a), Some(b)) = (started, cpu_time()) {
            self.frame_times_ms.push((b - a) * 1000.0);
            if self.frame_times_ms.len() > 10_000 {
                self.frame_times_ms.drain(..5_000);
            }
        }
    }
}

/// CPU time of the calling thread in seconds (Linux), for the UI frame-time benchmark.
fn cpu_time() -> Option<f64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own
    (unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0)
        .then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings);
    }
}
