//! Keyframe thumbnails for the timeline's picture strip, decoded on a background thread of low
//! priority with a decoder of its own (the viewer's picture never waits for them). A keyframe
//! decodes alone, so each thumbnail costs one frame's decode. At most `MAX_THUMBNAILS` are made,
//! spread evenly over the keyframes: memory stays bounded on a file of any length (at 96 × 54,
//! 600 thumbnails are 9 MB). The first pass is coarse, so the strip covers the whole video early
//! and fills in after.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::{RgbFrame, VideoFile};

/// Most thumbnails made for one video.
pub const MAX_THUMBNAILS: usize = 600;
/// Thumbnail height in pixels; the width follows the video's aspect ratio.
pub const THUMBNAIL_HEIGHT: u32 = 54;

/// Which keyframes get a thumbnail, in the order they are made: at most `max`, evenly spaced,
/// every 8th of them first.
pub fn thumbnail_frames(keyframes: &[usize], max: usize) -> Vec<usize> {
    let n = keyframes.len().min(max);
    let chosen: Vec<usize> = (0..n).map(|i| keyframes[i * keyframes.len() / n]).collect();
    let coarse = chosen.iter().step_by(8).copied();
    let rest = chosen.iter().enumerate().filter(|(i, _)| i % 8 != 0).map(|(_, &f)| f);
    coarse.chain(rest).collect()
}

pub struct ThumbnailWorker {
    receiver: Receiver<RgbFrame>,
}

impl ThumbnailWorker {
    /// Starts making thumbnails of `path`; they arrive through `poll`. Dropping the worker stops
    /// it at the next thumbnail.
    pub fn spawn(path: PathBuf) -> Self {
        let (tx, rx) = channel();
        let _ = std::thread::Builder::new().name("mmant-thumbnails".into()).spawn(move || {
            lower_priority();
            // a file that does not open is the picture decoder's to report
            let Ok(mut file) = VideoFile::open(&path) else { return };
            // the shape of the viewer's picture (decoded as stored)
            let (w, h) = (file.metadata.width, file.metadata.height);
            let width = ((w as f64 / h.max(1) as f64) * THUMBNAIL_HEIGHT as f64).round().max(1.0);
            let keyframes: Vec<usize> =
                (0..file.index.len()).filter(|&k| file.index.keyframe[k]).collect();
            for k in thumbnail_frames(&keyframes, MAX_THUMBNAILS) {
                match file.frame(k, width as u32, THUMBNAIL_HEIGHT) {
                    Ok(f) => {
                        if tx.send(f).is_err() {
                            return; // the viewer closed the video
                        }
                    }
                    Err(_) => continue, // a damaged keyframe: no thumbnail there
                }
            }
        });
        ThumbnailWorker { receiver: rx }
    }

    /// The thumbnails made since the last call, and whether the worker is done; never blocks.
    pub fn poll(&self) -> (Vec<RgbFrame>, bool) {
        let mut made = Vec::new();
        loop {
            match self.receiver.try_recv() {
                Ok(f) => made.push(f),
                Err(TryRecvError::Empty) => return (made, false),
                Err(TryRecvError::Disconnected) => return (made, true),
            }
        }
    }
}

/// Thumbnails yield the cores to the picture decoder and the model (nice 10; threads this one
/// starts, FFmpeg's included, inherit it).
fn lower_priority() {
    // SAFETY: setpriority on the calling thread's id changes only this thread's nice value
    #[cfg(target_os = "linux")]
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_are_bounded_spread_and_coarse_first() {
        let keyframes: Vec<usize> = (0..3600).map(|i| i * 250).collect(); // ten hours at 25 fps, a keyframe every 10 s
        let chosen = thumbnail_frames(&keyframes, 600);
        assert_eq!(chosen.len(), 600);
        let mut sorted = chosen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 600, "no keyframe twice");
        assert_eq!((sorted[0], sorted[599]), (0, 3594 * 250), "spread over the whole video");
        // the first 75 (every 8th) already span it
        assert!(chosen[..75].iter().max().unwrap() > &(3500 * 250));
        assert!(chosen[..75].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(thumbnail_frames(&[0, 10, 20], 600), [0, 10, 20]);
        assert!(thumbnail_frames(&[], 600).is_empty());
    }
}
