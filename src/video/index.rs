#![cfg_attr(not(feature = "video"), allow(dead_code))] // the index cache serves the FFmpeg decoder
//! The presentation-timestamp table of a video stream, and what it tells about the video.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub width: u32,
    pub height: u32,
    pub codec: String,
    /// Frames in the PTS table.
    pub frames: usize,
    /// Average frames per second over the whole stream (frames / duration of the PTS span).
    pub fps: f64,
    /// Frame intervals differ by more than 1 % (variable frame rate or dropped frames).
    pub variable_fps: bool,
    pub duration_s: f64,
    /// Clockwise rotation in degrees a player applies (from the display matrix or `rotate` tag).
    pub rotation: i32,
    /// Frames the container says the stream has (its frame count, else duration × frame rate);
    /// `None` when it says nothing.
    #[serde(default)]
    pub declared_frames: Option<usize>,
    /// Each frame's time from the first (seconds) when the rate is variable: annotation files
    /// that count time land on the frames a player shows.
    #[serde(skip)]
    pub frame_times: Option<std::sync::Arc<[f64]>>,
}

/// A file whose stream stops before the length its container declares (a copy cut short).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyEnd {
    /// Frames in the file (the presentation-timestamp table).
    pub frames: usize,
    pub declared_frames: usize,
    /// Where the frames stop, in seconds from the start.
    pub stops_at_s: f64,
}

impl std::fmt::Display for EarlyEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file ends early: {} of the {} frames its container declares, stopping at {:.2} s",
            self.frames, self.declared_frames, self.stops_at_s
        )
    }
}

impl Metadata {
    /// Set when the container declares clearly more frames than the file has. A few frames'
    /// difference is normal (edit lists, a count rounded from the duration) and not reported;
    /// nor is a variable-frame-rate file, whose count from duration × average rate is no count.
    pub fn ends_early(&self) -> Option<EarlyEnd> {
        let declared = self.declared_frames.filter(|_| !self.variable_fps)?;
        let early = EarlyEnd {
            frames: self.frames,
            declared_frames: declared,
            stops_at_s: self.duration_s,
        };
        (declared > self.frames + (declared / 50).max(2)).then_some(early)
    }
}

/// Sorted presentation timestamps (stream time base) and which frames are keyframes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameIndex {
    pub pts: Vec<i64>,
    pub keyframe: Vec<bool>,
    /// Stream time base as (numerator, denominator).
    pub time_base: (i32, i32),
}

impl FrameIndex {
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    /// The ordinal of the frame with this timestamp.
    pub fn frame_of(&self, pts: i64) -> Option<usize> {
        self.pts.binary_search(&pts).ok()
    }

    /// The last keyframe at or before frame k (0 when none is marked).
    pub fn keyframe_before(&self, k: usize) -> usize {
        (0..=k.min(self.len().saturating_sub(1))).rev().find(|&i| self.keyframe[i]).unwrap_or(0)
    }

    pub fn seconds(&self, pts: i64) -> f64 {
        pts as f64 * self.time_base.0 as f64 / self.time_base.1 as f64
    }

    /// Time of frame k from the start of the stream.
    pub fn time_of(&self, k: usize) -> f64 {
        self.seconds(self.pts[k] - self.pts[0])
    }

    /// (average fps, variable?, duration) from the timestamps.
    pub fn rate(&self) -> (f64, bool, f64) {
        if self.len() < 2 {
            return (0.0, false, 0.0);
        }
        let span = self.seconds(self.pts[self.len() - 1] - self.pts[0]);
        let fps = (self.len() - 1) as f64 / span.max(f64::MIN_POSITIVE);
        let steps: Vec<i64> = self.pts.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) =
            (steps.iter().min().copied().unwrap_or(0), steps.iter().max().copied().unwrap_or(0));
        let variable = hi as f64 > lo as f64 * 1.01 + 1.0;
        (fps, variable, span + 1.0 / fps.max(f64::MIN_POSITIVE))
    }
}

/// Where frame indexes are cached: $MMANT_CACHE or ~/.cache/mmant, then `index/`.
fn cache_dir() -> Option<std::path::PathBuf> {
    Some(crate::fsutil::cache_root()?.join("index"))
}

#[derive(Serialize, Deserialize)]
struct CachedIndex {
    path: String,
    size: u64,
    modified_ns: u128,
    index: FrameIndex,
}

fn stamp(path: &std::path::Path) -> Option<(String, u64, u128)> {
    let canonical = path.canonicalize().ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    Some((canonical.display().to_string(), meta.len(), modified))
}

fn cache_file(key: &str) -> Option<std::path::PathBuf> {
    let hash = key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    Some(cache_dir()?.join(format!("{hash:016x}.json")))
}

/// The cached index of `path`, if one exists for this exact file (same size and modification
/// time); a stale or unreadable cache entry is ignored.
pub(crate) fn cached(path: &std::path::Path) -> Option<FrameIndex> {
    let (key, size, modified_ns) = stamp(path)?;
    let bytes = std::fs::read(cache_file(&key)?).ok()?;
    let c: CachedIndex = serde_json::from_slice(&bytes).ok()?;
    (c.path == key && c.size == size && c.modified_ns == modified_ns && !c.index.is_empty())
        .then_some(c.index)
}

/// Caches the index of `path`; failing to write a cache is not an error.
pub(crate) fn store(path: &std::path::Path, index: &FrameIndex) {
    let Some((key, size, modified_ns)) = stamp(path) else { return };
    let Some(file) = cache_file(&key) else { return };
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(json) =
        serde_json::to_vec(&CachedIndex { path: key, size, modified_ns, index: index.clone() })
    {
        let _ = crate::fsutil::write_atomic(&file, &json);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_and_rates() {
        let ix = FrameIndex {
            pts: vec![0, 512, 1024, 1536, 2048],
            keyframe: vec![true, false, false, true, false],
            time_base: (1, 12800),
        };
        assert_eq!(ix.keyframe_before(2), 0);
        assert_eq!(ix.keyframe_before(4), 3);
        assert_eq!(ix.frame_of(1536), Some(3));
        assert_eq!(ix.frame_of(1000), None);
        let (fps, vfr, _) = ix.rate();
        assert!((fps - 25.0).abs() < 1e-9 && !vfr);
        let ix =
            FrameIndex { pts: vec![0, 512, 1536], keyframe: vec![true; 3], time_base: (1, 12800) };
        assert!(ix.rate().1);
    }

    #[test]
    fn an_early_end_is_reported_past_a_small_tolerance() {
        let meta = |frames, declared| Metadata {
            width: 2,
            height: 2,
            codec: "h264".into(),
            frames,
            fps: 15.0,
            variable_fps: false,
            duration_s: frames as f64 / 15.0,
            rotation: 0,
            declared_frames: declared,
            frame_times: None,
        };
        assert_eq!(meta(355, None).ends_early(), None, "nothing declared");
        assert_eq!(meta(353, Some(355)).ends_early(), None, "two frames off: edit lists, rounding");
        assert_eq!(meta(1000, Some(1020)).ends_early(), None, "2 % off");
        let e = meta(7, Some(355)).ends_early().expect("cut short");
        assert_eq!((e.frames, e.declared_frames), (7, 355));
        assert_eq!(
            e.to_string(),
            "the file ends early: 7 of the 355 frames its container declares, stopping at 0.47 s"
        );
    }
}
