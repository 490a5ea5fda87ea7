//! The tracks a prediction is shown and exported as.

use super::AnticipationView;

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

/// The tracks in order: ground truth, a segmentation file, the model's coarse and fine labels of
/// the observed part, the anticipated future.
pub fn tracks<'a>(
    ground_truth: Option<&'a [u32]>,
    segmentation: Option<&'a [u32]>,
    anticipation: Option<&'a AnticipationView>,
) -> Vec<Track<'a>> {
    let mut t = Vec::new();
    if let Some(gt) = ground_truth {
        t.push(Track { kind: TrackKind::GroundTruth, labels: gt, offset: 0 });
    }
    if let Some(p) = segmentation {
        t.push(Track { kind: TrackKind::Segmentation, labels: p, offset: 0 });
    }
    if let Some(a) = anticipation {
        t.push(Track { kind: TrackKind::Coarse, labels: &a.coarse, offset: 0 });
        if let Some(f) = &a.fine {
            t.push(Track { kind: TrackKind::Fine, labels: f, offset: 0 });
        }
        t.push(Track { kind: TrackKind::Anticipated, labels: &a.future, offset: a.observed });
    }
    t
}
