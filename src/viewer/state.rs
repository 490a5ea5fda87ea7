//! The viewer's state and the commands that change it; no drawing here.

use crate::data::{Vocabulary, segments};

/// Every user action, with its default shortcut and menu text (the Rerun pattern).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    TogglePlay,
    StepForward,
    StepBack,
    SecondForward,
    SecondBack,
    GoToStart,
    GoToEnd,
    Slower,
    Faster,
    ZoomFit,
    AlphaUp,
    AlphaDown,
    ToggleFollowPlayhead,
    TogglePlots,
    ToggleHelp,
    OpenVideo,
    OpenLabels,
    OpenFeatures,
    OpenCheckpoint,
    ExportCsv,
    Save,
    Undo,
    Redo,
    SplitAtPlayhead,
    MergeWithNext,
    DeleteSegment,
    /// Relabels the ground-truth segment at the playhead with the legend's k-th class.
    Relabel(usize),
    /// Opens the searchable list of labels (relabel with any label, or a new one).
    RelabelSearch,
    /// Adds a fine level under the edited level and edits it.
    NewFineLevel,
    /// Edits the next annotation level.
    NextLevel,
    /// Moves a boundary of an annotation level.
    MoveBoundary {
        level: usize,
        from: usize,
        to: usize,
    },
    Seek(usize),
    SetAlpha(f32),
    /// Visible frame range of the timeline.
    SetView(f64, f64),
}

/// The menu a command is listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    File,
    Edit,
    Playback,
    View,
    Help,
}

impl Command {
    /// Every command a menu lists, in menu order.
    pub const MENU: [Command; 29] = [
        Command::OpenVideo,
        Command::OpenLabels,
        Command::OpenFeatures,
        Command::OpenCheckpoint,
        Command::Save,
        Command::ExportCsv,
        Command::Undo,
        Command::Redo,
        Command::SplitAtPlayhead,
        Command::MergeWithNext,
        Command::DeleteSegment,
        Command::RelabelSearch,
        Command::NewFineLevel,
        Command::NextLevel,
        Command::TogglePlay,
        Command::StepBack,
        Command::StepForward,
        Command::SecondBack,
        Command::SecondForward,
        Command::GoToStart,
        Command::GoToEnd,
        Command::Slower,
        Command::Faster,
        Command::AlphaDown,
        Command::AlphaUp,
        Command::ToggleFollowPlayhead,
        Command::ZoomFit,
        Command::TogglePlots,
        Command::ToggleHelp,
    ];

    pub fn title(&self) -> &'static str {
        match self {
            Command::TogglePlay => "Play / pause",
            Command::StepForward => "Next frame",
            Command::StepBack => "Previous frame",
            Command::SecondForward => "One second forward",
            Command::SecondBack => "One second back",
            Command::GoToStart => "Go to start",
            Command::GoToEnd => "Go to end",
            Command::Slower => "Slower",
            Command::Faster => "Faster",
            Command::ZoomFit => "Fit timeline",
            Command::AlphaUp => "Observe more (α + 5 %)",
            Command::AlphaDown => "Observe less (α − 5 %)",
            Command::ToggleFollowPlayhead => "Follow playhead",
            Command::TogglePlots => "Plots panel",
            Command::ToggleHelp => "Keyboard shortcuts",
            Command::OpenVideo => "Open video…",
            Command::OpenLabels => "Open labels…",
            Command::OpenFeatures => "Open features…",
            Command::OpenCheckpoint => "Open checkpoint…",
            Command::ExportCsv => "Export CSV…",
            Command::Save => "Save labels",
            Command::Undo => "Undo edit",
            Command::Redo => "Redo edit",
            Command::SplitAtPlayhead => "Split at playhead",
            Command::MergeWithNext => "Merge with next segment",
            Command::DeleteSegment => "Delete segment",
            Command::Relabel(_) => "Relabel (digit: legend entry; hold while playing: paint)",
            Command::RelabelSearch => "Relabel from the list…",
            Command::NewFineLevel => "New fine level under this level",
            Command::NextLevel => "Edit the next level",
            Command::MoveBoundary { .. } => "Move boundary",
            Command::Seek(_) => "Seek",
            Command::SetAlpha(_) => "Set observation rate",
            Command::SetView(..) => "Set timeline view",
        }
    }

    pub fn shortcut(&self) -> Option<egui::KeyboardShortcut> {
        use egui::{Key, KeyboardShortcut as K, Modifiers as M};
        Some(match self {
            Command::TogglePlay => K::new(M::NONE, Key::Space),
            Command::StepForward => K::new(M::NONE, Key::ArrowRight),
            Command::StepBack => K::new(M::NONE, Key::ArrowLeft),
            Command::SecondForward => K::new(M::SHIFT, Key::ArrowRight),
            Command::SecondBack => K::new(M::SHIFT, Key::ArrowLeft),
            Command::GoToStart => K::new(M::NONE, Key::Home),
            Command::GoToEnd => K::new(M::NONE, Key::End),
            Command::Slower => K::new(M::NONE, Key::OpenBracket),
            Command::Faster => K::new(M::NONE, Key::CloseBracket),
            Command::ZoomFit => K::new(M::NONE, Key::F),
            Command::AlphaUp => K::new(M::NONE, Key::Plus),
            Command::AlphaDown => K::new(M::NONE, Key::Minus),
            Command::ToggleFollowPlayhead => K::new(M::NONE, Key::L),
            Command::TogglePlots => K::new(M::NONE, Key::G),
            Command::ToggleHelp => K::new(M::NONE, Key::Questionmark),
            Command::OpenVideo => K::new(M::COMMAND, Key::O),
            Command::ExportCsv => K::new(M::COMMAND, Key::E),
            Command::Save => K::new(M::COMMAND, Key::S),
            Command::Undo => K::new(M::COMMAND, Key::Z),
            Command::Redo => K::new(M::COMMAND | M::SHIFT, Key::Z),
            Command::SplitAtPlayhead => K::new(M::NONE, Key::S),
            Command::MergeWithNext => K::new(M::NONE, Key::M),
            Command::DeleteSegment => K::new(M::NONE, Key::Delete),
            Command::RelabelSearch => K::new(M::NONE, Key::R),
            Command::NextLevel => K::new(M::NONE, Key::Tab),
            _ => return None,
        })
    }

    pub fn menu(&self) -> Menu {
        match self {
            Command::OpenVideo
            | Command::OpenLabels
            | Command::OpenFeatures
            | Command::OpenCheckpoint
            | Command::ExportCsv
            | Command::Save => Menu::File,
            Command::Undo
            | Command::Redo
            | Command::SplitAtPlayhead
            | Command::MergeWithNext
            | Command::DeleteSegment
            | Command::Relabel(_)
            | Command::RelabelSearch
            | Command::NewFineLevel
            | Command::NextLevel
            | Command::MoveBoundary { .. } => Menu::Edit,
            Command::ZoomFit
            | Command::TogglePlots
            | Command::AlphaUp
            | Command::AlphaDown
            | Command::ToggleFollowPlayhead
            | Command::SetView(..) => Menu::View,
            Command::ToggleHelp => Menu::Help,
            _ => Menu::Playback,
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
    /// The model's confidence (softmax probability of its class) per anticipated segment, by
    /// frame range after the observation point.
    pub confidence: Vec<(usize, usize, f32)>,
    pub latency_ms: f64,
}

impl AnticipationView {
    /// The model's confidence in its anticipated label at `frame` (a video frame ≥ observed).
    pub fn confidence_at(&self, frame: usize) -> Option<f32> {
        let t = frame.checked_sub(self.observed)?;
        self.confidence
            .iter()
            .find(|(a, b, _)| (*a..*b).contains(&t))
            .or(self.confidence.last())
            .map(|c| c.2)
    }
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
    /// The level the tracks show (e.g. "action").
    pub level: String,
    /// The checkpoint's name, for the export.
    pub checkpoint_name: Option<String>,
    /// The edited ground truth's segments (two touching segments may share a label), when the
    /// labels are being annotated.
    pub gt_segments: Option<Vec<crate::data::Segment>>,
    /// Annotation levels other than the ground-truth one (e.g. a fine level being created).
    pub extra_levels: Vec<ExtraLevel>,
    /// The annotation level that edits apply to (0: the ground truth).
    pub edit_level: usize,
    /// A segmentation model's per-frame output (e.g. MS-TCN's), shown as a track.
    pub predictions: Option<Vec<u32>>,
    /// The model observes the segmentation output instead of the ground truth (the "predicted
    /// observation" setting).
    pub observe_predictions: bool,
}

/// An annotation level shown under the ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraLevel {
    pub name: String,
    pub vocab: Vec<String>,
    pub segments: Vec<crate::data::Segment>,
}

impl ViewerState {
    pub fn new(
        video_name: String,
        vocab: Vocabulary,
        frames: usize,
        fps: f64,
        ground_truth: Option<Vec<u32>>,
    ) -> Self {
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
            level: "action".into(),
            checkpoint_name: None,
            gt_segments: None,
            extra_levels: Vec::new(),
            edit_level: 0,
            predictions: None,
            observe_predictions: false,
        }
    }

    /// The frame where observation ends: the playhead when following it, ⌊α·N⌋ otherwise.
    pub fn observation_point(&self) -> usize {
        if self.follow_playhead {
            self.playhead
        } else {
            ((self.alpha as f64) * self.frames as f64) as usize
        }
    }

    /// Applies a command that changes only this state; the others (files, dialogs, panels) are
    /// the app's and are ignored here.
    pub fn apply(&mut self, cmd: Command) {
        let last = self.frames.saturating_sub(1);
        let second = self.fps.round().max(1.0) as usize;
        match cmd {
            Command::TogglePlay => self.playing = !self.playing,
            Command::StepForward => self.playhead = (self.playhead + 1).min(last),
            Command::StepBack => self.playhead = self.playhead.saturating_sub(1),
            Command::SecondForward => self.playhead = (self.playhead + second).min(last),
            Command::SecondBack => self.playhead = self.playhead.saturating_sub(second),
            Command::GoToStart => self.playhead = 0,
            Command::GoToEnd => self.playhead = last,
            Command::Slower => self.speed = (self.speed / 2.0).max(0.25),
            Command::Faster => self.speed = (self.speed * 2.0).min(4.0),
            Command::Seek(f) => self.playhead = f.min(last),
            Command::SetAlpha(a) => self.alpha = a.clamp(0.0, 1.0),
            Command::AlphaUp => self.alpha = (self.alpha + 0.05).min(1.0),
            Command::AlphaDown => self.alpha = (self.alpha - 0.05).max(0.0),
            Command::ToggleFollowPlayhead => self.follow_playhead = !self.follow_playhead,
            Command::ZoomFit => self.view = (0.0, self.frames.max(1) as f64),
            Command::SetView(a, b) => {
                let n = self.frames.max(1) as f64;
                let w = (b - a).clamp(10f64.min(n), n);
                let a = a.clamp(0.0, n - w);
                self.view = (a, a + w);
            }
            _ => {}
        }
    }

    fn label_name(&self, id: u32) -> String {
        self.vocab.name(id).map(str::to_owned).unwrap_or_else(|| "NONE".to_owned())
    }

    /// The tracks to draw and export, in order: ground truth, the model's coarse and fine
    /// labels of the observed part, the anticipated future.
    pub fn tracks(&self) -> Vec<Track<'_>> {
        let mut t = Vec::new();
        if let Some(gt) = &self.ground_truth {
            t.push(Track { kind: TrackKind::GroundTruth, labels: gt, offset: 0 });
        }
        if let Some(p) = &self.predictions {
            t.push(Track { kind: TrackKind::Segmentation, labels: p, offset: 0 });
        }
        if let Some(a) = &self.anticipation {
            t.push(Track { kind: TrackKind::Coarse, labels: &a.coarse, offset: 0 });
            if let Some(f) = &a.fine {
                t.push(Track { kind: TrackKind::Fine, labels: f, offset: 0 });
            }
            t.push(Track { kind: TrackKind::Anticipated, labels: &a.future, offset: a.observed });
        }
        t
    }

    /// The classes on screen in legend order (vocabulary order); digit keys relabel with them.
    pub fn legend(&self) -> Vec<u32> {
        let mut present: Vec<u32> =
            self.tracks().iter().flat_map(|t| t.labels.iter().copied()).collect();
        present.sort_unstable();
        present.dedup();
        present
    }

    fn observation_rate(&self) -> Option<f64> {
        self.anticipation.as_ref().map(|a| a.observed as f64 / self.frames.max(1) as f64)
    }

    /// Every track as segments (columns in README, frames half-open [start, end)).
    pub fn segments_csv(&self) -> anyhow::Result<(Vec<u8>, usize)> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(SEGMENT_COLUMNS)?;
        let rate = self.observation_rate().map(|r| format!("{r:.4}")).unwrap_or_default();
        let mut rows = 0;
        for t in self.tracks() {
            for s in segments(t.labels) {
                let (a, b) = (s.start + t.offset, s.end + t.offset);
                w.write_record([
                    self.video_name.as_str(),
                    t.kind.name(),
                    &self.level,
                    &self.label_name(s.label),
                    &s.label.to_string(),
                    &a.to_string(),
                    &b.to_string(),
                    &format!("{:.3}", a as f64 / self.fps),
                    &format!("{:.3}", b as f64 / self.fps),
                    &rate,
                    self.checkpoint_name.as_deref().unwrap_or(""),
                ])?;
                rows += 1;
            }
        }
        Ok((w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?, rows))
    }

    /// One row per frame: `video,frame,time_s,<track>…` with the label of each track (empty where a
    /// track does not cover the frame).
    pub fn frames_csv(&self) -> anyhow::Result<Vec<u8>> {
        let tracks = self.tracks();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["video".to_owned(), "frame".into(), "time_s".into()];
        header.extend(tracks.iter().map(|t| t.kind.name().to_owned()));
        w.write_record(&header)?;
        for f in 0..self.frames {
            let mut row =
                vec![self.video_name.clone(), f.to_string(), format!("{:.3}", f as f64 / self.fps)];
            for t in &tracks {
                row.push(
                    f.checked_sub(t.offset)
                        .and_then(|i| t.labels.get(i))
                        .map(|&l| self.label_name(l))
                        .unwrap_or_default(),
                );
            }
            w.write_record(&row)?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
    }
}

/// Columns of the segment CSV (README, "Exported CSV").
pub const SEGMENT_COLUMNS: [&str; 11] = [
    "video",
    "track",
    "level",
    "label",
    "label_id",
    "start_frame",
    "end_frame",
    "start_s",
    "end_s",
    "observation_rate",
    "checkpoint",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    GroundTruth,
    /// A segmentation model's output loaded from a file.
    Segmentation,
    Coarse,
    Fine,
    Anticipated,
}

impl TrackKind {
    /// The name in the CSV's `track` column.
    pub fn name(self) -> &'static str {
        match self {
            TrackKind::GroundTruth => "ground_truth",
            TrackKind::Segmentation => "segmentation",
            TrackKind::Coarse => "coarse",
            TrackKind::Fine => "fine",
            TrackKind::Anticipated => "anticipated",
        }
    }

    /// The name on the timeline.
    pub fn title(self) -> &'static str {
        match self {
            TrackKind::GroundTruth => "ground truth",
            TrackKind::Segmentation => "segmentation (file)",
            TrackKind::Coarse => "model: coarse",
            TrackKind::Fine => "model: fine",
            TrackKind::Anticipated => "anticipated",
        }
    }
}

pub struct Track<'a> {
    pub kind: TrackKind,
    pub labels: &'a [u32],
    /// Frame of labels[0].
    pub offset: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_is_looked_up_by_anticipated_segment() {
        let v = AnticipationView {
            observed: 10,
            future: vec![1; 8],
            coarse: vec![],
            fine: None,
            confidence: vec![(0, 3, 0.9), (3, 6, 0.4)],
            latency_ms: 0.0,
        };
        assert_eq!(v.confidence_at(9), None);
        assert_eq!(v.confidence_at(12), Some(0.9));
        assert_eq!(v.confidence_at(13), Some(0.4));
        assert_eq!(
            v.confidence_at(17),
            Some(0.4),
            "frames past the decoded half take the last segment's"
        );
    }

    #[test]
    fn commands_and_export() {
        let vocab = Vocabulary::from_names(["SIL", "pour"]);
        let mut s =
            ViewerState::new("v".into(), vocab, 10, 15.0, Some(vec![0, 0, 0, 1, 1, 1, 1, 1, 1, 0]));
        s.apply(Command::SetAlpha(0.5));
        assert_eq!(s.observation_point(), 5);
        s.apply(Command::Seek(99));
        assert_eq!(s.playhead, 9);
        s.apply(Command::ToggleFollowPlayhead);
        assert_eq!(s.observation_point(), 9);
        s.apply(Command::SecondBack);
        assert_eq!(s.playhead, 0);
        s.apply(Command::GoToEnd);
        s.apply(Command::Faster);
        s.apply(Command::Faster);
        s.apply(Command::Faster);
        assert_eq!((s.playhead, s.speed), (9, 4.0));
        s.apply(Command::SetView(-5.0, 3.0));
        assert_eq!(s.view, (0.0, 10.0), "never narrower than 10 frames, never outside the video");
        s.checkpoint_name = Some("bf1".into());
        s.anticipation = Some(AnticipationView {
            observed: 5,
            future: vec![1, 1, 2, 2, 2],
            coarse: vec![0, 0, 1, 1, 1],
            fine: None,
            confidence: vec![],
            latency_ms: 1.0,
        });
        let (bytes, rows) = s.segments_csv().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().next().unwrap(), SEGMENT_COLUMNS.join(","));
        assert!(text.contains("v,anticipated,action,NONE,2,7,10,0.467,0.667,0.5000,bf1"), "{text}");
        assert_eq!(rows, 7);
        let frames = String::from_utf8(s.frames_csv().unwrap()).unwrap();
        assert_eq!(frames.lines().nth(1).unwrap(), "v,0,0.000,SIL,SIL,");
        assert_eq!(frames.lines().nth(8).unwrap(), "v,7,0.467,pour,,NONE");
    }
}
