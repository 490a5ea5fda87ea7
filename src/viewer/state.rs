//! The viewer's state and the commands that change it; no drawing here.

use std::path::Path;

use crate::data::{Vocabulary, segments};

/// Every user action, with its default shortcut and menu text (the Rerun pattern).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    TogglePlay,
    StepForward,
    StepBack,
    Seek(usize),
    SetAlpha(f32),
    ToggleFollowPlayhead,
    ZoomFit,
    ExportCsv(std::path::PathBuf),
}

impl Command {
    pub fn title(&self) -> &'static str {
        match self {
            Command::TogglePlay => "Play / pause",
            Command::StepForward => "Next frame",
            Command::StepBack => "Previous frame",
            Command::Seek(_) => "Seek",
            Command::SetAlpha(_) => "Set observation rate",
            Command::ToggleFollowPlayhead => "Follow playhead",
            Command::ZoomFit => "Fit timeline",
            Command::ExportCsv(_) => "Export CSV…",
        }
    }

    pub fn shortcut(&self) -> Option<&'static str> {
        match self {
            Command::TogglePlay => Some("Space"),
            Command::StepForward => Some("→"),
            Command::StepBack => Some("←"),
            Command::ToggleFollowPlayhead => Some("F"),
            Command::ZoomFit => Some("Home"),
            _ => None,
        }
    }
}

/// What the model anticipated for one observation point.
#[derive(Debug, Clone)]
pub struct AnticipationView {
    /// Observed frames [0, observed).
    pub observed: usize,
    /// Labels of frames [observed, frames); NONE = vocabulary size.
    pub future: Vec<u32>,
    /// Per-frame coarse segmentation of the observed part.
    pub coarse: Vec<u32>,
    /// Per-frame fine labels of the observed part (m&m-Ant).
    pub fine: Option<Vec<u32>>,
    pub latency_ms: f64,
}

pub struct ViewerState {
    pub video_name: String,
    pub vocab: Vocabulary,
    pub frames: usize,
    pub fps: f64,
    pub ground_truth: Option<Vec<u32>>,
    pub playhead: usize,
    pub playing: bool,
    pub speed: f32,
    /// Observation rate α in [0, 1].
    pub alpha: f32,
    pub follow_playhead: bool,
    pub anticipation: Option<AnticipationView>,
    /// Visible frame range of the timeline.
    pub view: (f64, f64),
    pub status: String,
}

impl ViewerState {
    pub fn new(video_name: String, vocab: Vocabulary, frames: usize, fps: f64, ground_truth: Option<Vec<u32>>) -> Self {
        ViewerState {
            video_name,
            vocab,
            frames,
            fps,
            ground_truth,
            playhead: 0,
            playing: false,
            speed: 1.0,
            alpha: 0.3,
            follow_playhead: false,
            anticipation: None,
            view: (0.0, frames.max(1) as f64),
            status: String::new(),
        }
    }

    /// The frame where observation ends: the playhead when following it, ⌊α·N⌋ otherwise.
    pub fn observation_point(&self) -> usize {
        if self.follow_playhead { self.playhead } else { ((self.alpha as f64) * self.frames as f64) as usize }
    }

    pub fn apply(&mut self, cmd: Command) {
        let last = self.frames.saturating_sub(1);
        match cmd {
            Command::TogglePlay => self.playing = !self.playing,
            Command::StepForward => self.playhead = (self.playhead + 1).min(last),
            Command::StepBack => self.playhead = self.playhead.saturating_sub(1),
            Command::Seek(f) => self.playhead = f.min(last),
            Command::SetAlpha(a) => self.alpha = a.clamp(0.0, 1.0),
            Command::ToggleFollowPlayhead => self.follow_playhead = !self.follow_playhead,
            Command::ZoomFit => self.view = (0.0, self.frames.max(1) as f64),
            Command::ExportCsv(path) => {
                self.status = match self.export_csv(&path) {
                    Ok(n) => format!("exported {n} segments to {}", path.display()),
                    Err(e) => format!("export failed: {e}"),
                }
            }
        }
    }

    fn label_name(&self, id: u32) -> String {
        self.vocab.name(id).map(str::to_owned).unwrap_or_else(|| "NONE".to_owned())
    }

    /// Writes every track as segments: `video,level,source,label_id,label,start_frame,end_frame,
    /// start_s,end_s,fps,obs_ratio` (frames half-open), atomically.
    pub fn export_csv(&self, path: &Path) -> anyhow::Result<usize> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["video", "level", "source", "label_id", "label", "start_frame", "end_frame", "start_s", "end_s", "fps", "obs_ratio"])?;
        let obs_ratio = self.anticipation.as_ref().map(|a| a.observed as f64 / self.frames.max(1) as f64);
        let mut rows = 0;
        let mut track = |source: &str, labels: &[u32], offset: usize| -> anyhow::Result<()> {
            for s in segments(labels) {
                let (a, b) = (s.start + offset, s.end + offset);
                w.write_record([
                    self.video_name.clone(),
                    "action".into(),
                    source.into(),
                    s.label.to_string(),
                    self.label_name(s.label),
                    a.to_string(),
                    b.to_string(),
                    format!("{:.3}", a as f64 / self.fps),
                    format!("{:.3}", b as f64 / self.fps),
                    self.fps.to_string(),
                    obs_ratio.map(|r| format!("{r:.4}")).unwrap_or_default(),
                ])?;
                rows += 1;
            }
            Ok(())
        };
        if let Some(gt) = &self.ground_truth {
            track("ground_truth", gt, 0)?;
        }
        if let Some(a) = &self.anticipation {
            track("model_coarse", &a.coarse, 0)?;
            if let Some(f) = &a.fine {
                track("model_fine", f, 0)?;
            }
            track("anticipated", &a.future, a.observed)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        crate::fsutil::write_atomic(path, &bytes)?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_export() {
        let vocab = Vocabulary::from_names(["SIL", "pour"]);
        let mut s = ViewerState::new("v".into(), vocab, 10, 15.0, Some(vec![0, 0, 0, 1, 1, 1, 1, 1, 1, 0]));
        s.apply(Command::SetAlpha(0.5));
        assert_eq!(s.observation_point(), 5);
        s.apply(Command::Seek(99));
        assert_eq!(s.playhead, 9);
        s.apply(Command::ToggleFollowPlayhead);
        assert_eq!(s.observation_point(), 9);
        s.anticipation = Some(AnticipationView { observed: 5, future: vec![1, 1, 2, 2, 2], coarse: vec![0, 0, 1, 1, 1], fine: None, latency_ms: 1.0 });
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        s.apply(Command::ExportCsv(p.clone()));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("v,action,anticipated,2,NONE,7,10,0.467,0.667,15,0.5000"), "{text}");
        assert!(s.status.starts_with("exported 7 segments"), "{}", s.status);
    }
}
