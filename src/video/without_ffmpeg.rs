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

    pub fn frame_unless(
        &mut self,
        _k: usize,
        _width: u32,
        _height: u32,
        _stop: &mut dyn FnMut() -> bool,
    ) -> Result<Option<RgbFrame>, VideoError> {
        Err(VideoError::NoVideoSupport { path: self.path.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_video_names_the_missing_feature() {
        let err = VideoFile::open(Path::new("clip.mp4")).err().expect("no video support");
        let message = err.to_string();
        assert!(message.starts_with("clip.mp4: "), "{message}");
        assert!(message.contains("without the `video` feature"), "{message}");
    }
}
