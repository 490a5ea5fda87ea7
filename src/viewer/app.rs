//! The eframe application: polls the decoder and model workers, turns input into commands, and
//! draws the panels. All decoding, inference and file I/O happen on worker threads.

use std::path::PathBuf;
use std::time::Instant;

use egui::{ColorImage, TextureHandle, TextureOptions};

use super::inference::{self, InferenceWorker};
use super::state::{Command, ViewerState};
use super::timeline::Timeline;
use crate::video::{self, DecoderWorker};

pub struct ViewerApp {
    pub state: ViewerState,
    inference: Option<InferenceWorker>,
    /// Stride τ of the checkpoint: the model reruns once per τ observed frames.
    stride: usize,
    last_observation: Option<usize>,
    video: Option<DecoderWorker>,
    frame_texture: Option<TextureHandle>,
    shown_frame: Option<usize>,
    clock: Option<Instant>,
    export_path: PathBuf,
}

impl ViewerApp {
    pub fn new(state: ViewerState, checkpoint: Option<PathBuf>, video: Option<PathBuf>) -> Self {
        let mut app = ViewerApp {
            inference: checkpoint.map(InferenceWorker::spawn),
            stride: 1,
            last_observation: None,
            video: video.map(|v| DecoderWorker::spawn(v, 256 << 20)),
            frame_texture: None,
            shown_frame: None,
            clock: None,
            export_path: PathBuf::from(format!("{}_segments.csv", state.video_name)),
            state,
        };
        if app.video.is_none() {
            app.state.status = "no video: the timeline works from the labels alone".into();
        }
        if app.inference.is_none() {
            app.state.status.push_str(if app.state.status.is_empty() { "no checkpoint: nothing is anticipated" } else { "; no checkpoint" });
        }
        app
    }

    /// Worker replies → state; newer requests → workers. Never waits.
    fn poll_workers(&mut self, ctx: &egui::Context) {
        if let Some(w) = &self.inference {
            while let Some(reply) = w.poll() {
                match reply {
                    inference::Reply::Loaded(meta) => {
                        self.stride = meta.stride.max(1);
                        if meta.vocabulary != self.state.vocab.names() {
                            self.state.status = format!("the checkpoint's {} classes differ from the labels' {}: anticipation is off", meta.vocabulary.len(), self.state.vocab.len());
                            self.inference = None;
                            return;
                        }
                        self.state.status = format!("model: {} trained on {} split {}", match meta.model { crate::model::checkpoint::ModelConfig::Futr(_) => "FUTR", _ => "m&m-Ant" }, meta.dataset, meta.split);
                    }
                    inference::Reply::Result { generation, view } => {
                        if generation == w.latest() || self.state.anticipation.is_none() {
                            self.state.status = format!("anticipated from frame {} in {:.0} ms", view.observed, view.latency_ms);
                            self.state.anticipation = Some(view);
                        }
                    }
                    inference::Reply::Error { message, .. } => self.state.status = message,
                }
                ctx.request_repaint();
            }
        }
        let observed = self.state.observation_point();
        let bucket = observed / self.stride;
        if let (Some(w), Some(gt)) = (&mut self.inference, &self.state.ground_truth) {
            if self.last_observation != Some(bucket) && observed > 0 {
                // ground-truth observation: the labels of the observed frames
                w.request(gt[..observed.min(gt.len())].to_vec(), self.state.frames);
                self.last_observation = Some(bucket);
            }
        }
        if let Some(v) = &mut self.video {
            while let Some(reply) = v.poll() {
                match reply {
                    video::Reply::Opened(m) => {
                        if m.frames != self.state.frames {
                            self.state.status = format!("the video has {} frames, the labels {}", m.frames, self.state.frames);
                        }
                        if self.state.fps <= 0.0 {
                            self.state.fps = m.fps;
                        }
                    }
                    video::Reply::Frame { generation, frame } => {
                        if generation == v.latest() {
                            let image = ColorImage::from_rgb([frame.width as usize, frame.height as usize], &frame.data);
                            match &mut self.frame_texture {
                                Some(t) => t.set(image, TextureOptions::LINEAR),
                                None => self.frame_texture = Some(ctx.load_texture("video-frame", image, TextureOptions::LINEAR)),
                            }
                        }
                    }
                    video::Reply::Error { message, .. } => self.state.status = message,
                }
                ctx.request_repaint();
            }
            if self.shown_frame != Some(self.state.playhead) {
                v.request(self.state.playhead, 0, 0);
                self.shown_frame = Some(self.state.playhead);
            }
        }
    }

    fn advance_playback(&mut self, ctx: &egui::Context) {
        if !self.state.playing {
            self.clock = None;
            return;
        }
        let now = Instant::now();
        let start = *self.clock.get_or_insert(now);
        let advance = (now - start).as_secs_f64() * self.state.fps * self.state.speed as f64;
        if advance >= 1.0 {
            let next = self.state.playhead + advance as usize;
            if next >= self.state.frames {
                self.state.playing = false;
            }
            self.state.apply(Command::Seek(next));
            self.clock = Some(now);
            // keep the playhead in view
            let (v0, v1) = self.state.view;
            if (self.state.playhead as f64) > v1 || (self.state.playhead as f64) < v0 {
                let w = v1 - v0;
                let s = (self.state.playhead as f64 - 0.1 * w).max(0.0);
                self.state.view = (s, s + w);
            }
        }
        ctx.request_repaint();
    }

    fn keyboard(&mut self, ui: &egui::Ui) {
        let keys = [
            (egui::Key::Space, Command::TogglePlay),
            (egui::Key::ArrowRight, Command::StepForward),
            (egui::Key::ArrowLeft, Command::StepBack),
            (egui::Key::F, Command::ToggleFollowPlayhead),
            (egui::Key::Home, Command::ZoomFit),
        ];
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        for (key, cmd) in keys {
            if ui.input(|i| i.key_pressed(key)) {
                self.state.apply(cmd);
            }
        }
    }

    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll_workers(&ctx);
        self.advance_playback(&ctx);
        self.keyboard(ui);
        let mut commands = Vec::new();
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.button(if self.state.playing { "Pause" } else { "Play" }).on_hover_text("Space").clicked() {
                    commands.push(Command::TogglePlay);
                }
                ui.add(egui::Slider::new(&mut self.state.speed, 0.25..=4.0).text("speed").logarithmic(true));
                ui.label(format!("frame {} / {}  ({:.2} s)", self.state.playhead, self.state.frames, self.state.playhead as f64 / self.state.fps));
                let mut alpha = self.state.alpha;
                if ui.add_enabled(!self.state.follow_playhead, egui::Slider::new(&mut alpha, 0.0..=1.0).text("observation rate α")).changed() {
                    commands.push(Command::SetAlpha(alpha));
                }
                let mut follow = self.state.follow_playhead;
                if ui.checkbox(&mut follow, "follow playhead").on_hover_text("F").changed() {
                    commands.push(Command::ToggleFollowPlayhead);
                }
                if ui.button("Export CSV").clicked() {
                    commands.push(Command::ExportCsv(self.export_path.clone()));
                }
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.label(&self.state.status);
        });
        egui::Panel::bottom("timeline").show(ui, |ui| {
            let hover = ui.input(|i| (i.pointer.hover_pos(), i.smooth_scroll_delta.y));
            commands.extend(Timeline::ui(ui, &self.state));
            if let (Some(pos), dy) = hover {
                if dy != 0.0 && ui.max_rect().contains(pos) {
                    let (v0, v1) = self.state.view;
                    let around = v0 + ((pos.x - ui.max_rect().left()) / ui.max_rect().width()) as f64 * (v1 - v0);
                    self.state.view = Timeline::zoomed(self.state.view, self.state.frames, around, (-dy as f64 * 0.005).exp());
                }
            }
        });
        egui::CentralPanel::default().show(ui, |ui| match &self.frame_texture {
            Some(t) => {
                let size = t.size_vec2();
                let scale = (ui.available_width() / size.x).min(ui.available_height() / size.y).max(0.1);
                ui.image((t.id(), size * scale));
            }
            None => {
                ui.centered_and_justified(|ui| ui.label(if self.video.is_some() { "decoding..." } else { "no video for these labels" }));
            }
        });
        for c in commands {
            self.state.apply(c);
        }
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }
}
