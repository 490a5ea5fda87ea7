//! Time ↔ frame for annotation files that count time (ELAN's milliseconds, segment tables'
//! timestamps): a constant frame rate, or a video's own frame times (its PTS index), so that a
//! variable-frame-rate file maps each time to the frame a player shows then.

use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Clock {
    /// Frame k starts at k / fps seconds.
    Fps(f64),
    /// Frame k starts at `times[k]` seconds (sorted, from 0: the first frame's PTS subtracted);
    /// the video ends one mean frame interval after the last frame.
    Times(Arc<[f64]>),
}

impl From<f64> for Clock {
    fn from(fps: f64) -> Self {
        Clock::Fps(fps)
    }
}

impl From<&Clock> for Clock {
    fn from(c: &Clock) -> Self {
        c.clone()
    }
}

impl Clock {
    /// A video's frame times; a constant rate when there are fewer than two frames.
    pub fn from_times(times: Vec<f64>, fallback_fps: f64) -> Clock {
        if times.len() < 2 { Clock::Fps(fallback_fps) } else { Clock::Times(times.into()) }
    }

    /// A video's clock: its frame times when its rate varies, else its rate.
    pub fn of_video(m: &crate::video::Metadata) -> Clock {
        match &m.frame_times {
            Some(t) => Clock::from_times(t.to_vec(), m.fps),
            None => Clock::Fps(m.fps),
        }
    }

    /// Mean frames per second.
    pub fn fps(&self) -> f64 {
        match self {
            Clock::Fps(f) => *f,
            Clock::Times(t) => {
                (t.len() - 1) as f64 / (t[t.len() - 1] - t[0]).max(f64::MIN_POSITIVE)
            }
        }
    }

    /// Frames the clock knows of (a video's), if any.
    pub fn frames(&self) -> Option<usize> {
        match self {
            Clock::Fps(_) => None,
            Clock::Times(t) => Some(t.len()),
        }
    }

    /// When frame `k` starts (k may be the frame count: the end of the last frame).
    pub fn seconds_at(&self, k: usize) -> f64 {
        match self {
            Clock::Fps(f) => k as f64 / f,
            Clock::Times(t) => match t.get(k) {
                Some(&s) => s,
                None => t[t.len() - 1] + (k + 1 - t.len()) as f64 / self.fps(),
            },
        }
    }

    /// The frame boundary nearest to `seconds`: the frame a segment starting then starts at.
    /// Times between two frames go to the nearer frame start, so a file written at another
    /// precision (ELAN's whole milliseconds) reads back to the same frames.
    pub fn frame_at(&self, seconds: f64) -> usize {
        match self {
            Clock::Fps(f) => (seconds * f).round().max(0.0) as usize,
            Clock::Times(t) => {
                let end = self.seconds_at(t.len());
                if seconds >= end {
                    return t.len() + ((seconds - end) * self.fps()).round() as usize;
                }
                let i = t.partition_point(|&s| s <= seconds);
                if i == 0 {
                    return 0;
                }
                // between the start of frame i-1 and the start of frame i (or the end)
                let next = self.seconds_at(i);
                if next - seconds < seconds - t[i - 1] { i } else { i - 1 }
            }
        }
    }

    pub fn is_valid(&self) -> bool {
        match self {
            Clock::Fps(f) => f.is_finite() && *f > 0.0,
            Clock::Times(t) => t.windows(2).all(|w| w[1] > w[0]) && t.iter().all(|s| s.is_finite()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_milliseconds_read_back_to_the_same_frame() {
        for fps in [15.0, 25.0, 29.97, 30.0, 59.94] {
            let c = Clock::Fps(fps);
            for k in 0..5000 {
                let ms = (c.seconds_at(k) * 1000.0).round();
                assert_eq!(c.frame_at(ms / 1000.0), k, "fps {fps} frame {k}");
            }
        }
    }

    #[test]
    fn variable_rate_times_map_to_the_nearest_frame_start() {
        // frames at 0, 40, 80 ms, then a dropped frame: 160, 200 ms
        let c = Clock::from_times(vec![0.0, 0.04, 0.08, 0.16, 0.2], 25.0);
        assert_eq!(c.frames(), Some(5));
        assert_eq!(c.frame_at(0.0), 0);
        assert_eq!(c.frame_at(0.019), 0);
        assert_eq!(c.frame_at(0.021), 1);
        assert_eq!(c.frame_at(0.11), 2, "closer to 80 than to 160 ms");
        assert_eq!(c.frame_at(0.13), 3);
        assert_eq!(c.seconds_at(3), 0.16);
        // the end of the last frame: one mean interval (50 ms) after it
        assert!((c.seconds_at(5) - 0.25).abs() < 1e-12);
        assert_eq!(c.frame_at(0.25), 5);
        // ms × fps would put 160 ms at frame 4
        assert_eq!(Clock::Fps(25.0).frame_at(0.16), 4);
        assert_eq!(Clock::from_times(vec![0.0], 30.0), Clock::Fps(30.0));
    }
}
