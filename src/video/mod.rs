//! Frame-accurate video decoding with ffmpeg-next over the system FFmpeg.
//!
//! A frame's index is its ordinal in presentation order, from a table of presentation timestamps
//! built once per file (from the demuxed packets, or by decoding when packets lack timestamps),
//! never time × fps, which drifts on variable-frame-rate files. Seeking to frame k seeks to the
//! keyframe before it and decodes forward to exactly k.

mod decoder;
mod index;
mod worker;

pub use decoder::{RgbFrame, VideoFile};
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
}

/// Initialises FFmpeg once per process.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg_next::init();
        // FFmpeg's own messages would go to stderr (under the UI, or dozens per corrupt frame); errors reach the user as VideoError, naming the frame
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}
