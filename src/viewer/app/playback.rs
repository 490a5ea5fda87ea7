//! Playback and the picture. The clock says which frame is due, the decoder delivers it, and the
//! playhead (the frame counter, the observation point when following it, the frame a held digit
//! paints) moves when that picture is shown, not before: a label painted while watching lands
//! on the frame the user saw, however long decoding takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureOptions};

use super::ViewerApp;
use crate::video::{self, Precision, RgbFrame};

/// A drag of the ruler that rests this long asks for the exact frame.
const SCRUB_PAUSE: Duration = Duration::from_millis(150);
use crate::viewer::state::{Notice, UiCommand};

/// The playback clock: frame `from + elapsed · fps · speed` is due.
pub(super) struct Playback {
    start: Instant,
    from: usize,
    speed: f32,
    /// The frame due now (at most the last).
    due: usize,
    /// The playhead as playback last set it; another value means the user moved it.
    set: usize,
}

impl ViewerApp {
    /// Moves the clock on. Without a video the playhead follows the clock; with one it waits for
    /// the decoder (`poll_video`).
    pub(super) fn advance_playback(&mut self, ctx: &egui::Context) {
        if !self.state.playing {
            self.playback = None;
            return;
        }
        let now = Instant::now();
        let (playhead, speed) = (self.state.playhead, self.state.speed);
        let p = match self.playback.take() {
            Some(p) if p.set == playhead && p.speed == speed => p,
            // started, sought or sped up: the clock starts again from the playhead
            _ => Playback { start: now, from: playhead, speed, due: playhead, set: playhead },
        };
        let elapsed = (now - p.start).as_secs_f64() * self.state.fps * speed as f64;
        let due = (p.from + elapsed as usize).min(self.state.frames.saturating_sub(1));
        self.playback = Some(Playback { due, ..p });
        if self.video.is_none() {
            self.played_to(due);
        }
        ctx.request_repaint();
    }

    /// Playback has shown frame `k`: the playhead moves there, stays in view, and playback stops
    /// at the last frame.
    fn played_to(&mut self, k: usize) {
        self.state.apply(UiCommand::Seek(k));
        if let Some(p) = &mut self.playback {
            p.set = self.state.playhead;
        }
        if self.state.playhead + 1 >= self.state.frames {
            self.state.playing = false;
        }
        let (v0, v1) = self.state.view;
        let at = self.state.playhead as f64;
        if at > v1 || at < v0 {
            let s = (at - 0.1 * (v1 - v0)).max(0.0);
            self.state.apply(UiCommand::SetView(s, s + (v1 - v0)));
        }
    }

    /// Decoder replies → picture, playhead and notices; then asks for the frame wanted now (the
    /// due one while playing, the playhead otherwise).
    pub(super) fn poll_video(&mut self, ctx: &egui::Context) {
        self.poll_thumbnails(ctx);
        let Some(v) = &self.video else { return };
        let latest = v.latest();
        let replies: Vec<video::Reply> = std::iter::from_fn(|| v.poll()).collect();
        for reply in replies {
            match reply {
                video::Reply::Opened(m) => {
                    if m.fps > 0.0 {
                        self.state.fps = m.fps;
                    }
                    self.frame_times =
                        m.frame_times.is_some().then(|| crate::annotation::Clock::of_video(&m));
                    self.state
                        .set_notice(Notice::VideoEndsEarly, m.ends_early().map(|e| e.to_string()));
                    self.video_frames = Some(m.frames);
                    self.fit_lengths();
                }
                video::Reply::Frame { generation, frame } => {
                    // while playing, any frame between the one on screen and the due one is
                    // shown (a decoder slower than the clock still shows pictures, in order);
                    // otherwise only the newest request's
                    let in_order = self.playback.as_ref().is_some_and(|p| {
                        (p.from..=p.due).contains(&frame.index)
                            && self.displayed.as_ref().is_none_or(|d| frame.index > d.index)
                    });
                    if generation == latest || in_order {
                        self.show_picture(ctx, frame);
                    }
                }
                video::Reply::Error { generation: 0, message } => {
                    // the file did not open: the timeline goes on from the labels alone
                    self.state.status = message;
                    self.video = None;
                    self.thumbnail_worker = None;
                    self.video_frames = None;
                    self.state.set_notice(Notice::VideoEndsEarly, None);
                    self.fit_lengths();
                    return;
                }
                video::Reply::Error { generation, message } if generation == latest => {
                    // playback waits for pictures: a frame that cannot be decoded stops it
                    self.state.playing = false;
                    self.state.status = message;
                    self.failed_frame = self.requested_frame.map(|(k, _)| k);
                }
                video::Reply::Error { .. } => {} // about a frame no longer wanted
            }
            ctx.request_repaint();
        }
        let now = Instant::now();
        let playhead = self.state.playhead;
        if !self.state.scrubbing {
            self.scrubbed = None;
        } else if self.scrubbed.is_none_or(|(f, _)| f != playhead) {
            self.scrubbed = Some((playhead, now));
        }
        // while the ruler moves: the nearest picture at hand; once it rests: the exact frame
        let moving = self.scrubbed.is_some_and(|(_, at)| now - at < SCRUB_PAUSE);
        let wanted = match &self.playback {
            Some(p) => (p.due, Precision::Exact),
            None if moving => (playhead, Precision::Nearby),
            None => (playhead, Precision::Exact),
        };
        if moving {
            ctx.request_repaint_after(SCRUB_PAUSE);
        }
        if let Some(v) = &mut self.video
            && self.requested_frame != Some(wanted)
        {
            v.request_with(wanted.0, 0, 0, wanted.1);
            self.requested_frame = Some(wanted);
        }
    }

    /// The picture on screen is a nearby frame, not the playhead's (while scrubbing, or until
    /// the decoder delivers).
    pub fn picture_is_approximate(&self) -> bool {
        self.playback.is_none()
            && self.displayed.as_ref().is_some_and(|d| d.index != self.state.playhead)
    }

    /// New keyframe thumbnails → textures of the timeline's strip.
    fn poll_thumbnails(&mut self, ctx: &egui::Context) {
        let Some(w) = &self.thumbnail_worker else { return };
        let (made, done) = w.poll();
        if done {
            self.thumbnail_worker = None;
        } else {
            // the strip fills in while nothing else asks for a frame
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        for f in made {
            let image = ColorImage::from_rgb([f.width as usize, f.height as usize], &f.data);
            let texture =
                ctx.load_texture(format!("keyframe-{}", f.index), image, TextureOptions::LINEAR);
            let at = self.thumbnails.partition_point(|(k, _)| *k < f.index);
            self.thumbnails.insert(at, (f.index, texture));
        }
    }

    /// Thumbnails are still being made.
    pub fn thumbnails_pending(&self) -> bool {
        self.thumbnail_worker.is_some()
    }

    /// The keyframe thumbnails made so far (tests).
    pub fn thumbnail_frames(&self) -> Vec<usize> {
        self.thumbnails.iter().map(|(k, _)| *k).collect()
    }

    fn show_picture(&mut self, ctx: &egui::Context, frame: Arc<RgbFrame>) {
        let image =
            ColorImage::from_rgb([frame.width as usize, frame.height as usize], &frame.data);
        match &mut self.frame_texture {
            Some(t) => t.set(image, TextureOptions::LINEAR),
            None => {
                self.frame_texture =
                    Some(ctx.load_texture("video-frame", image, TextureOptions::LINEAR))
            }
        }
        let k = frame.index;
        self.displayed = Some(frame);
        if self.playback.is_some() {
            self.played_to(k);
        }
    }

    /// The timeline's length: the common prefix of the video and the labels (as the data layer
    /// cuts labels and features), with a notice while they differ. Labels past the prefix stay
    /// in the label file and are saved with it.
    pub(super) fn fit_lengths(&mut self) {
        let labels = self.state.ground_truth.as_ref().map(Vec::len);
        let (frames, notice) = match (self.video_frames, labels) {
            (Some(v), Some(l)) if v != l => {
                let rest = if l > v {
                    format!("the labels' last {} frames are kept in the file", l - v)
                } else {
                    format!("the video's last {} frames have no labels", v - l)
                };
                (
                    v.min(l),
                    Some(format!(
                        "the video has {v} frames, the labels {l}: the timeline shows the first {}; {rest}",
                        v.min(l)
                    )),
                )
            }
            (Some(n), _) | (None, Some(n)) => (n, None),
            (None, None) => return,
        };
        self.state.set_notice(Notice::LengthMismatch, notice);
        if frames != self.state.frames {
            self.state.frames = frames;
            self.state.view = (0.0, frames.max(1) as f64);
            self.state.playhead = self.state.playhead.min(frames.saturating_sub(1));
            self.last_request = None;
        }
    }

    /// The frame whose picture is on screen, once the decoder has delivered one.
    pub fn displayed_frame(&self) -> Option<usize> {
        self.displayed.as_ref().map(|f| f.index)
    }

    /// The picture on screen (tests read its pixels).
    pub fn displayed_picture(&self) -> Option<&RgbFrame> {
        self.displayed.as_deref()
    }
}
