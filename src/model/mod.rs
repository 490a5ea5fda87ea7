//! Models (FUTR and m&m-Ant) and their shared blocks.

pub mod attention;
pub mod attention_kernel;

pub use attention::{AttentionImpl, attention, attention_explicit, attention_explicit_inference};
