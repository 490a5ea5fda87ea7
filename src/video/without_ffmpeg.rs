//! `VideoFile` for a build without the `video` feature: nothing links FFmpeg, and opening a
//! video is an error that says how to get a build that can.

use std::path::{Path, PathBuf};

use super::index::{FrameIndex, Metadata};
use super::{RgbFrame, VideoError};

pub struct VideoFile {
    path: PathBuf,
    pub index: FrameIndex,
    pub metadata: Metadata,
}

impl VideoFile {
    pub fn open(path: &Path) -> Result<Self, VideoError> {
        Err(VideoError::NoVideoSupport { path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn frame(&mut self, _k: usize, _width: u32, _height: u32) -> Result<RgbFrame, VideoError> {
        Err(VideoError::NoVideoSupport { path: self.path.clone() })
    }
}
