//! The contract between the evaluation and whatever anticipates: a baseline, a checkpoint, a
//! wrapper. The grid (`anticipation`), the diagnosis and `predict` see models only through it.

/// What an anticipator sees: the labels of the observed frames `[0, observed)` of a video of
/// `total_frames` frames (the protocol gives the video's length, as FUTR and Abu Farha et al. do),
/// and the video's features when the anticipator observes features.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub video: &'a str,
    pub labels: &'a [u32],
    pub features: Option<&'a crate::data::Features>,
    pub total_frames: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("anticipating {video}: {reason}")]
pub struct AnticipationError {
    pub video: String,
    pub reason: String,
}

/// Predicts the labels of frames `[labels.len(), total_frames)`; ids that are no class (such as a
/// model's NONE) count as wrong.
pub trait Anticipator {
    fn anticipate(&self, obs: &Observation) -> Result<Vec<u32>, AnticipationError>;
}

/// Why an anticipator could not be made for a split (a checkpoint that does not load, a fit that
/// fails). Boxed: the methods live in other modules (baselines, `model`, `train`), each with its
/// own typed error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MethodError(pub Box<dyn std::error::Error + Send + Sync>);

impl MethodError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        MethodError(Box::new(e))
    }
}
