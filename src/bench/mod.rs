//! `mmant bench`: side-by-side timings in one run, reported as milliseconds and ratios.

pub mod attention;
pub mod model;
pub mod train;
pub mod video;
pub mod viewer;
