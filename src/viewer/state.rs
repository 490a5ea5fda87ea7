//! The viewer's state and the commands that change it; no drawing here.

use crate::data::Vocabulary;
use crate::predict::{AnticipationView, ExportInfo, PredictError, Track};

/// Every user action, with its default shortcut and menu text (the Rerun pattern).
#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
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
    /// Trains a features-observing model on the annotated videos of the open video's folder.
    TrainOnAnnotated,
    /// Stops that training between batches.
    CancelTraining,
    ExportCsv,
    Save,
    Undo,
    Redo,
    SplitAtPlayhead,
    MergeWithNext,
    DeleteSegment,
    /// Relabels the segment at the playhead with the class of digit key k+1 (`digit_keys`).
    Relabel(usize),
    /// Pins the ground-truth class at the playhead to digit key k+1.
    PinKey(usize),
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
    /// Moves the playhead while the ruler is dragged: the picture may be a nearby frame until
    /// the drag pauses or ends (then a `Seek`).
    Scrub(usize),
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

impl UiCommand {
    /// Every command a menu lists, in menu order.
    pub const MENU: [UiCommand; 30] = [
        UiCommand::OpenVideo,
        UiCommand::OpenLabels,
        UiCommand::OpenFeatures,
        UiCommand::OpenCheckpoint,
        UiCommand::TrainOnAnnotated,
        UiCommand::Save,
        UiCommand::ExportCsv,
        UiCommand::Undo,
        UiCommand::Redo,
        UiCommand::SplitAtPlayhead,
        UiCommand::MergeWithNext,
        UiCommand::DeleteSegment,
        UiCommand::RelabelSearch,
        UiCommand::NewFineLevel,
        UiCommand::NextLevel,
        UiCommand::TogglePlay,
        UiCommand::StepBack,
        UiCommand::StepForward,
        UiCommand::SecondBack,
        UiCommand::SecondForward,
        UiCommand::GoToStart,
        UiCommand::GoToEnd,
        UiCommand::Slower,
        UiCommand::Faster,
        UiCommand::AlphaDown,
        UiCommand::AlphaUp,
        UiCommand::ToggleFollowPlayhead,
        UiCommand::ZoomFit,
        UiCommand::TogglePlots,
        UiCommand::ToggleHelp,
    ];

    pub fn title(&self) -> &'static str {
        match self {
            UiCommand::TogglePlay => "Play / pause",
            UiCommand::StepForward => "Next frame",
            UiCommand::StepBack => "Previous frame",
            UiCommand::SecondForward => "One second forward",
            UiCommand::SecondBack => "One second back",
            UiCommand::GoToStart => "Go to start",
            UiCommand::GoToEnd => "Go to end",
            UiCommand::Slower => "Slower",
            UiCommand::Faster => "Faster",
            UiCommand::ZoomFit => "Fit timeline",
            UiCommand::AlphaUp => "Observe more (α + 5 %)",
            UiCommand::AlphaDown => "Observe less (α − 5 %)",
            UiCommand::ToggleFollowPlayhead => "Follow playhead",
            UiCommand::TogglePlots => "Plots panel",
            UiCommand::ToggleHelp => "Keyboard shortcuts",
            UiCommand::OpenVideo => "Open video…",
            UiCommand::OpenLabels => "Open labels…",
            UiCommand::OpenFeatures => "Open features…",
            UiCommand::OpenCheckpoint => "Open checkpoint…",
            UiCommand::TrainOnAnnotated => "Train on annotated videos…",
            UiCommand::CancelTraining => "Cancel training",
            UiCommand::ExportCsv => "Export CSV…",
            UiCommand::Save => "Save labels",
            UiCommand::Undo => "Undo edit",
            UiCommand::Redo => "Redo edit",
            UiCommand::SplitAtPlayhead => "Split at playhead",
            UiCommand::MergeWithNext => "Merge with next segment",
            UiCommand::DeleteSegment => "Delete segment",
            UiCommand::Relabel(_) => "Relabel with the key's label (hold while playing: paint)",
            UiCommand::PinKey(_) => "Pin the label at the playhead to the key",
            UiCommand::RelabelSearch => "Relabel from the list…",
            UiCommand::NewFineLevel => "New fine level under this level",
            UiCommand::NextLevel => "Edit the next level",
            UiCommand::MoveBoundary { .. } => "Move boundary",
            UiCommand::Seek(_) => "Seek",
            UiCommand::Scrub(_) => "Scrub",
            UiCommand::SetAlpha(_) => "Set observation rate",
            UiCommand::SetView(..) => "Set timeline view",
        }
    }

    pub fn shortcut(&self) -> Option<egui::KeyboardShortcut> {
        use egui::{Key, KeyboardShortcut as K, Modifiers as M};
        Some(match self {
            UiCommand::TogglePlay => K::new(M::NONE, Key::Space),
            UiCommand::StepForward => K::new(M::NONE, Key::ArrowRight),
            UiCommand::StepBack => K::new(M::NONE, Key::ArrowLeft),
            UiCommand::SecondForward => K::new(M::SHIFT, Key::ArrowRight),
            UiCommand::SecondBack => K::new(M::SHIFT, Key::ArrowLeft),
            UiCommand::GoToStart => K::new(M::NONE, Key::Home),
            UiCommand::GoToEnd => K::new(M::NONE, Key::End),
            UiCommand::Slower => K::new(M::NONE, Key::OpenBracket),
            UiCommand::Faster => K::new(M::NONE, Key::CloseBracket),
            UiCommand::ZoomFit => K::new(M::NONE, Key::F),
            UiCommand::AlphaUp => K::new(M::NONE, Key::Plus),
            UiCommand::AlphaDown => K::new(M::NONE, Key::Minus),
            UiCommand::ToggleFollowPlayhead => K::new(M::NONE, Key::L),
            UiCommand::TogglePlots => K::new(M::NONE, Key::G),
            UiCommand::ToggleHelp => K::new(M::NONE, Key::Questionmark),
            UiCommand::OpenVideo => K::new(M::COMMAND, Key::O),
            UiCommand::ExportCsv => K::new(M::COMMAND, Key::E),
            UiCommand::Save => K::new(M::COMMAND, Key::S),
            UiCommand::Undo => K::new(M::COMMAND, Key::Z),
            UiCommand::Redo => K::new(M::COMMAND | M::SHIFT, Key::Z),
            UiCommand::SplitAtPlayhead => K::new(M::NONE, Key::S),
            UiCommand::MergeWithNext => K::new(M::NONE, Key::M),
            UiCommand::DeleteSegment => K::new(M::NONE, Key::Delete),
            UiCommand::RelabelSearch => K::new(M::NONE, Key::R),
            UiCommand::NextLevel => K::new(M::NONE, Key::Tab),
            _ => return None,
        })
    }

    /// The shortcut as the user types it: egui names some keys by their names ("OpenBracket",
    /// "Questionmark"); these are shown as the characters on the key.
    pub fn shortcut_text(&self, ctx: &egui::Context) -> Option<String> {
        let s = self.shortcut()?;
        let text = ctx.format_shortcut(&s);
        let key = s.logical_key;
        let symbol = match key {
            egui::Key::OpenBracket => "[",
            egui::Key::CloseBracket => "]",
            egui::Key::Questionmark => "?",
            egui::Key::Minus => "−",
            egui::Key::Plus => "+",
            _ => return Some(text),
        };
        Some(text.replace(key.name(), symbol))
    }

    pub fn menu(&self) -> Menu {
        match self {
            UiCommand::OpenVideo
            | UiCommand::OpenLabels
            | UiCommand::OpenFeatures
            | UiCommand::OpenCheckpoint
            | UiCommand::TrainOnAnnotated
            | UiCommand::CancelTraining
            | UiCommand::ExportCsv
            | UiCommand::Save => Menu::File,
            UiCommand::Undo
            | UiCommand::Redo
            | UiCommand::SplitAtPlayhead
            | UiCommand::MergeWithNext
            | UiCommand::DeleteSegment
            | UiCommand::Relabel(_)
            | UiCommand::PinKey(_)
            | UiCommand::RelabelSearch
            | UiCommand::NewFineLevel
            | UiCommand::NextLevel
            | UiCommand::MoveBoundary { .. } => Menu::Edit,
            UiCommand::ZoomFit
            | UiCommand::TogglePlots
            | UiCommand::AlphaUp
            | UiCommand::AlphaDown
            | UiCommand::ToggleFollowPlayhead
            | UiCommand::SetView(..) => Menu::View,
            UiCommand::ToggleHelp => Menu::Help,
            _ => Menu::Playback,
        }
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
    /// The class each digit key 1–9 relabels and paints with on the ground truth. Fixed once a
    /// key has one (the legend's classes change as the anticipation does; a key must not), free
    /// keys take the ground truth's classes without one, and the user can pin (Ctrl+digit).
    pub digit_keys: [Option<u32>; 9],
    /// Warnings that stay on screen while their cause lasts (the next status message would
    /// replace them otherwise).
    pub notices: Vec<(Notice, String)>,
    /// What an empty timeline says (what to open to fill it).
    pub empty_hint: String,
    /// The ruler is being dragged.
    pub scrubbing: bool,
}

/// What a persistent notice is about: a newer notice of the same kind replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The video stops before the length its container declares.
    VideoEndsEarly,
    /// The video and the labels differ in length.
    LengthMismatch,
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
            digit_keys: [None; 9],
            notices: Vec::new(),
            scrubbing: false,
            empty_hint: "no labels to show: open a label file (File › Open labels)".into(),
        }
        .with_digit_keys()
    }

    fn with_digit_keys(mut self) -> Self {
        self.assign_digit_keys();
        self
    }

    /// Gives each free digit key a class of the ground truth that has no key, in vocabulary order;
    /// a key that has a class keeps it.
    pub fn assign_digit_keys(&mut self) {
        let Some(gt) = &self.ground_truth else { return };
        let mut present = gt.clone();
        present.sort_unstable();
        present.dedup();
        for id in present {
            if self.digit_keys.contains(&Some(id)) {
                continue;
            }
            match self.digit_keys.iter_mut().find(|k| k.is_none()) {
                Some(free) => *free = Some(id),
                None => break,
            }
        }
    }

    /// Key `k` (0 for the key 1) relabels with `id` from now on; the key `id` had is freed.
    pub fn pin_digit_key(&mut self, k: usize, id: u32) {
        for key in &mut self.digit_keys {
            if *key == Some(id) {
                *key = None;
            }
        }
        if let Some(key) = self.digit_keys.get_mut(k) {
            *key = Some(id);
        }
    }

    /// The digit key (0 for the key 1) that relabels with `id`, if any.
    pub fn digit_of(&self, id: u32) -> Option<usize> {
        self.digit_keys.iter().position(|k| *k == Some(id))
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
    pub fn apply(&mut self, cmd: UiCommand) {
        let last = self.frames.saturating_sub(1);
        let second = self.fps.round().max(1.0) as usize;
        let moves_playhead = matches!(
            cmd,
            UiCommand::Seek(_)
                | UiCommand::StepForward
                | UiCommand::StepBack
                | UiCommand::SecondForward
                | UiCommand::SecondBack
                | UiCommand::GoToStart
                | UiCommand::GoToEnd
                | UiCommand::TogglePlay
        );
        if moves_playhead {
            self.scrubbing = false;
        }
        match cmd {
            UiCommand::TogglePlay => {
                // Play at the end starts again from the beginning, as players do
                if !self.playing && self.playhead + 1 >= self.frames {
                    self.playhead = 0;
                }
                self.playing = !self.playing;
            }
            UiCommand::StepForward => self.playhead = (self.playhead + 1).min(last),
            UiCommand::StepBack => self.playhead = self.playhead.saturating_sub(1),
            UiCommand::SecondForward => self.playhead = (self.playhead + second).min(last),
            UiCommand::SecondBack => self.playhead = self.playhead.saturating_sub(second),
            UiCommand::GoToStart => self.playhead = 0,
            UiCommand::GoToEnd => self.playhead = last,
            UiCommand::Slower => self.speed = (self.speed / 2.0).max(0.25),
            UiCommand::Faster => self.speed = (self.speed * 2.0).min(4.0),
            UiCommand::Seek(f) => self.playhead = f.min(last),
            UiCommand::Scrub(f) => {
                self.playhead = f.min(last);
                self.scrubbing = true;
            }
            UiCommand::SetAlpha(a) => self.alpha = a.clamp(0.0, 1.0),
            // following the playhead, the playhead is the observation point: α would change
            // nothing visible, so say so instead
            UiCommand::AlphaUp | UiCommand::AlphaDown if self.follow_playhead => {
                self.status =
                    "the observation point follows the playhead: L switches to a fixed α".into()
            }
            UiCommand::AlphaUp => self.alpha = (self.alpha + 0.05).min(1.0),
            UiCommand::AlphaDown => self.alpha = (self.alpha - 0.05).max(0.0),
            UiCommand::ToggleFollowPlayhead => self.follow_playhead = !self.follow_playhead,
            UiCommand::ZoomFit => self.view = (0.0, self.frames.max(1) as f64),
            UiCommand::SetView(a, b) => {
                let n = self.frames.max(1) as f64;
                let w = (b - a).clamp(10f64.min(n), n);
                let a = a.clamp(0.0, n - w);
                self.view = (a, a + w);
            }
            _ => {}
        }
    }

    /// Shows `text` until it is replaced or cleared (`None`).
    pub fn set_notice(&mut self, kind: Notice, text: Option<String>) {
        self.notices.retain(|(k, _)| *k != kind);
        if let Some(text) = text {
            self.notices.push((kind, text));
        }
    }

    /// The tracks to draw and export (`predict::tracks`), cut to the timeline's `frames` (the
    /// common prefix when the labels are longer than the video).
    pub fn tracks(&self) -> Vec<Track<'_>> {
        let n = self.frames;
        let (gt, seg) = (self.ground_truth.as_deref(), self.predictions.as_deref());
        let (gt, seg) = (gt.map(|l| &l[..l.len().min(n)]), seg.map(|l| &l[..l.len().min(n)]));
        crate::predict::tracks(gt, seg, self.anticipation.as_ref())
    }

    /// The classes on screen, in vocabulary order (the digit keys are `digit_keys`, not positions
    /// here: this list changes with the anticipation).
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

    fn export_info(&self) -> ExportInfo<'_> {
        ExportInfo {
            video: &self.video_name,
            level: &self.level,
            vocab: &self.vocab,
            fps: self.fps,
            observation_rate: self.observation_rate(),
            checkpoint: self.checkpoint_name.as_deref(),
        }
    }

    /// Every track as segments (`predict::segments_csv`).
    pub fn segments_csv(&self) -> Result<(Vec<u8>, usize), PredictError> {
        crate::predict::segments_csv(&self.export_info(), &self.tracks())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::SEGMENT_COLUMNS;

    #[test]
    fn shortcuts_read_as_the_keys_are_labelled() {
        let ctx = egui::Context::default();
        let text = |c: UiCommand| c.shortcut_text(&ctx).unwrap();
        assert_eq!(text(UiCommand::Slower), "[");
        assert_eq!(text(UiCommand::Faster), "]");
        assert_eq!(text(UiCommand::ToggleHelp), "?");
        assert_eq!(text(UiCommand::AlphaDown), "−");
        assert_eq!(text(UiCommand::AlphaUp), "+");
        for c in UiCommand::MENU {
            let t = c.shortcut_text(&ctx).unwrap_or_default();
            for raw in ["OpenBracket", "CloseBracket", "Questionmark", "Minus", "Plus"] {
                assert!(!t.contains(raw), "{c:?}: {t}");
            }
        }
    }

    #[test]
    fn digit_keys_do_not_follow_the_legend() {
        let vocab = Vocabulary::from_names(["SIL", "pour_oil", "crack_egg", "fry_egg", "x", "y"]);
        let mut s = ViewerState::new("v".into(), vocab, 6, 15.0, Some(vec![0, 0, 3, 3, 5, 5]));
        assert_eq!(&s.digit_keys[..4], &[Some(0), Some(3), Some(5), None]);
        // an anticipation brings classes 1 and 2 into the legend: the keys stay
        s.anticipation = Some(AnticipationView {
            observed: 3,
            future: vec![1, 2, 2],
            coarse: vec![0, 0, 3],
            fine: None,
            confidence: vec![],
            latency_ms: 0.0,
        });
        assert_eq!(s.legend(), vec![0, 1, 2, 3, 5]);
        s.assign_digit_keys();
        assert_eq!(
            &s.digit_keys[..4],
            &[Some(0), Some(3), Some(5), None],
            "anticipated classes take no key"
        );
        // pinning moves a class to a key and frees its old one; the free key then takes a class
        // of the ground truth without a key
        s.pin_digit_key(0, 5);
        assert_eq!(&s.digit_keys[..3], &[Some(5), Some(3), None]);
        assert_eq!(s.digit_of(5), Some(0));
        s.assign_digit_keys();
        assert_eq!(&s.digit_keys[..3], &[Some(5), Some(3), Some(0)]);
    }

    #[test]
    fn commands_and_export() {
        let vocab = Vocabulary::from_names(["SIL", "pour"]);
        let mut s =
            ViewerState::new("v".into(), vocab, 10, 15.0, Some(vec![0, 0, 0, 1, 1, 1, 1, 1, 1, 0]));
        s.apply(UiCommand::SetAlpha(0.5));
        assert_eq!(s.observation_point(), 5);
        s.apply(UiCommand::Seek(99));
        assert_eq!(s.playhead, 9);
        s.apply(UiCommand::ToggleFollowPlayhead);
        assert_eq!(s.observation_point(), 9);
        // + and − with the playhead followed: α stays, and the status says why
        s.apply(UiCommand::AlphaUp);
        assert_eq!(s.alpha, 0.5);
        assert!(s.status.contains("follows the playhead"), "{}", s.status);
        s.apply(UiCommand::SecondBack);
        assert_eq!(s.playhead, 0);
        s.apply(UiCommand::GoToEnd);
        s.apply(UiCommand::Faster);
        s.apply(UiCommand::Faster);
        s.apply(UiCommand::Faster);
        assert_eq!((s.playhead, s.speed), (9, 4.0));
        s.apply(UiCommand::SetView(-5.0, 3.0));
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
        let frames = crate::predict::frames_csv(&s.export_info(), s.frames, &s.tracks()).unwrap();
        let frames = String::from_utf8(frames).unwrap();
        assert_eq!(frames.lines().nth(1).unwrap(), "v,0,0.000,SIL,SIL,");
        assert_eq!(frames.lines().nth(8).unwrap(), "v,7,0.467,pour,,NONE");
    }
}
