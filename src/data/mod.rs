//! Datasets in the layouts the field uses (MS-TCN and DARai): vocabularies, per-frame labels at
//! several levels, splits, features, and the checks that say what is wrong with them.

pub mod check;
pub mod dataset;
pub mod error;
pub mod features;
pub mod labels;
pub(crate) mod lines;
pub mod splits;
pub mod vocab;

pub use dataset::{Dataset, Layout, LengthMismatch, Level, LevelSource, Video, activity_from_name};
pub use error::DataError;
pub use features::{FeatureSidecar, Features, Orientation};
pub use labels::{
    FrameLabels, RECOGNITION_HEADER, Segment, UNKNOWN, UnknownLabel, leading_run, segments,
};
pub use splits::Split;
pub use vocab::Vocabulary;
