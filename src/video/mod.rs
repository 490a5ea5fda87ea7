//! Frame-accurate video decoding with ffmpeg-next over the system FFmpeg.
//!
//! A frame's index is its ordinal in presentation order, from a table of presentation timestamps
//! built once per file (from the demuxed packets, or by decoding when packets lack timestamps),
//! never time × fps, which drifts on variable-frame-rate files. Seeking to frame k seeks to the
//! keyframe before it and decodes forward to exactly k.

#[cfg(feature = "video")]
mod decoder;
// Built without FFmpeg (a headless training server): same API, every open is a clear error.
#[cfg(not(feature = "video"))]
#[path = "without_ffmpeg.rs"]
mod decoder;
// compiled in tests too, where `same_api` checks it against the real one
mod index;
#[cfg(all(test, feature = "video"))]
#[allow(dead_code)]
#[path = "without_ffmpeg.rs"]
mod without_ffmpeg;
mod worker;

pub use decoder::VideoFile;
pub use index::{FrameIndex, Metadata};
pub use worker::{DecoderWorker, FrameCache, Reply};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{}: cannot open: {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    #[error("{}: expected a video stream, found none", path.display())]
    NoVideo { path: PathBuf },
    #[error("{}: frame {frame}: {reason}", path.display())]
    Frame { path: PathBuf, frame: usize, reason: String },
    #[error("{}: frame {frame} asked for, the video has {frames} frames", path.display())]
    OutOfRange { path: PathBuf, frame: usize, frames: usize },
    #[error("{}: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    #[error("{}: this mmant was built without the `video` feature (FFmpeg); rebuild with default features to open videos", path.display())]
    NoVideoSupport { path: PathBuf },
}

/// A decoded frame as packed RGB (no row padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    pub index: usize,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

#[cfg(all(test, feature = "video"))]
mod tests {
    use std::path::Path;

    use super::{FrameIndex, Metadata, RgbFrame, VideoError};

    /// What the rest of the crate uses of `VideoFile`, as types: a mismatch does not compile.
    macro_rules! same_api {
        ($m:ident) => {{
            let _: fn(&Path) -> Result<super::$m::VideoFile, VideoError> =
                super::$m::VideoFile::open;
            let _: fn(&super::$m::VideoFile) -> &Path = super::$m::VideoFile::path;
            let _: fn(&mut super::$m::VideoFile, usize, u32, u32) -> Result<RgbFrame, VideoError> =
                super::$m::VideoFile::frame;
            let _: fn(&super::$m::VideoFile) -> (FrameIndex, Metadata) =
                |f| (f.index.clone(), f.metadata.clone());
        }};
    }

    #[test]
    fn the_build_without_ffmpeg_offers_the_same_video_file() {
        same_api!(decoder);
        same_api!(without_ffmpeg);
    }
}
