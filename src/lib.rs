//! mmant: long-term action anticipation (m&m-Ant and FUTR) with a video viewer.
//!
//! Data flows one way: video → frames → features → model → predictions → timeline/CSV.
//! This crate's modules follow that flow; `data` and `eval` are the foundation the others use.

pub mod annotation;
pub mod bench;
pub mod channel;
pub mod cli;
pub mod custom_op;
pub mod data;
pub mod demo;
pub mod eval;
pub mod features;
pub mod fsutil;
pub mod model;
pub mod predict;
pub mod text;
pub mod train;
pub mod video;
pub mod viewer;
