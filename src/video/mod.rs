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
mod thumbnails;
#[cfg(all(test, feature = "video"))]
#[allow(dead_code)] // only its API and its errors are used, by the tests below
#[path = "without_ffmpeg.rs"]
mod without_ffmpeg;
mod worker;

pub use decoder::VideoFile;
pub use index::{EarlyEnd, FrameIndex, Metadata};
pub use thumbnails::{MAX_THUMBNAILS, THUMBNAIL_HEIGHT, ThumbnailWorker, thumbnail_frames};
pub use worker::{DecoderWorker, FrameCache, Precision, Reply};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{}: cannot open: {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    #[error("{}: expected a video stream, found none", path.display())]
    NoVideo { path: PathBuf },
    #[error("{}: not a video: FFmpeg reads it as {read_as}{}", path.display(), label_file_hint(path))]
    NotAVideo { path: PathBuf, read_as: String },
    #[error("{}: frame {frame}: {reason}", path.display())]
    Frame { path: PathBuf, frame: usize, reason: String },
    #[error("{}: frame {frame} asked for, the video has {frames} frames", path.display())]
    OutOfRange { path: PathBuf, frame: usize, frames: usize },
    #[error("{}: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    #[error("{}: this mmant was built without the `video` feature (FFmpeg); rebuild with default features to open videos", path.display())]
    NoVideoSupport { path: PathBuf },
}

/// Label files are the likeliest text given as a video.
fn label_file_hint(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("txt" | "csv" | "eaf" | "json") => "; a label file goes with --labels",
        _ => "",
    }
}

/// A decoded frame as packed RGB (no row padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    pub index: usize,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// What the rest of the crate uses of `VideoFile`, checked as types whenever the tests compile:
/// a build without FFmpeg whose API drifts from the real one does not compile. (A compile-time
/// check, so it is not dressed up as a test; the runtime behaviour is tested below.)
#[cfg(all(test, feature = "video"))]
macro_rules! same_api {
    ($m:ident) => {
        const _: () = {
            use std::path::Path;
            const _OPEN: fn(&Path) -> Result<$m::VideoFile, VideoError> = $m::VideoFile::open;
            const _PATH: fn(&$m::VideoFile) -> &Path = $m::VideoFile::path;
            const _FRAME: fn(&mut $m::VideoFile, usize, u32, u32) -> Result<RgbFrame, VideoError> =
                $m::VideoFile::frame;
            const _FRAME_UNLESS: for<'a> fn(
                &mut $m::VideoFile,
                usize,
                u32,
                u32,
                &'a mut dyn FnMut() -> bool,
            ) -> Result<Option<RgbFrame>, VideoError> = $m::VideoFile::frame_unless;
            #[allow(dead_code)] // never called: it only has to type-check
            fn fields(f: &$m::VideoFile) -> (FrameIndex, Metadata) {
                (f.index.clone(), f.metadata.clone())
            }
        };
    };
}
#[cfg(all(test, feature = "video"))]
same_api!(decoder);
#[cfg(all(test, feature = "video"))]
same_api!(without_ffmpeg);

#[cfg(all(test, feature = "video"))]
mod tests {
    #[test]
    fn both_builds_refuse_a_missing_file_and_name_it() {
        let path = std::path::Path::new("/nonexistent/clip.mp4");
        let real = super::decoder::VideoFile::open(path).err().expect("no such file").to_string();
        assert!(real.contains("/nonexistent/clip.mp4"), "{real}");
        let without =
            super::without_ffmpeg::VideoFile::open(path).err().expect("never opens").to_string();
        assert!(without.contains("/nonexistent/clip.mp4") && without.contains("`video` feature"));
    }
}
