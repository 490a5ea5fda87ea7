//! Evaluation: long-term anticipation MoC as FUTR and Abu Farha et al. compute it, MS-TCN's
//! segmentation metrics, and the baselines every model must beat.

pub mod anticipation;
pub mod anticipator;
pub mod baselines;
pub mod diagnose;
pub mod moc;
pub mod recognition;
pub mod segmentation;

pub use anticipation::{
    Baseline, EvalError, GridConfig, GridReport, MergeError, MethodFactory, evaluate,
    evaluate_method,
};
pub use anticipator::{AnticipationError, Anticipator, MethodError, Observation};
pub use baselines::{LastObserved, TransitionPrior};
pub use moc::{ALPHAS, BETAS, ClassCounts, eval_window, observed_frames};
pub use segmentation::{SegmentationCounts, SegmentationScores};
