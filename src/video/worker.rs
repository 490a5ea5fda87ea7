//! The decoder on its own thread: the UI sends frame requests and polls for replies; it never
//! waits. Requests that pile up while a frame decodes are dropped except the newest
//! (latest-request-wins), and a newer request interrupts a long exact decode, so scrubbing never
//! waits for stale work; an LRU cache bounded in bytes answers repeated requests without
//! decoding. While scrubbing, a `Nearby` request is answered at once with the closest picture
//! at hand, as video editors do: a cached frame, or the keyframe before the target (a keyframe
//! decodes alone, without the frames before it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use super::{Metadata, RgbFrame, VideoFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    frame: usize,
    width: u32,
    height: u32,
}

#[derive(Debug)]
pub enum Reply {
    /// The file is open and indexed.
    Opened(Metadata),
    Frame {
        generation: u64,
        frame: Arc<RgbFrame>,
    },
    Error {
        generation: u64,
        message: String,
    },
}

/// How close to the asked-for frame the answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Exact,
    /// The closest of the cached frames and the keyframe at or before the target (scrubbing).
    Nearby,
}

struct Request {
    key: Key,
    generation: u64,
    precision: Precision,
}

/// Least-recently-used frames, at most `budget` bytes of pixels.
pub struct FrameCache {
    budget: usize,
    used: usize,
    tick: u64,
    frames: HashMap<Key, (Arc<RgbFrame>, u64)>,
}

impl FrameCache {
    pub fn new(budget: usize) -> Self {
        FrameCache { budget, used: 0, tick: 0, frames: HashMap::new() }
    }

    fn get(&mut self, key: &Key) -> Option<Arc<RgbFrame>> {
        self.tick += 1;
        let tick = self.tick;
        self.frames.get_mut(key).map(|(f, t)| {
            *t = tick;
            f.clone()
        })
    }

    fn insert(&mut self, key: Key, frame: Arc<RgbFrame>) {
        let size = frame.data.len();
        if size > self.budget {
            return;
        }
        self.tick += 1;
        self.used += size;
        if let Some((old, _)) = self.frames.insert(key, (frame, self.tick)) {
            self.used -= old.data.len();
        }
        while self.used > self.budget {
            let oldest = *self
                .frames
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k)
                .expect("over budget means not empty");
            let (f, _) = self.frames.remove(&oldest).expect("key from the map");
            self.used -= f.data.len();
        }
    }

    /// The cached frame of this size nearest to `frame`.
    fn nearest(&self, frame: usize, width: u32, height: u32) -> Option<Arc<RgbFrame>> {
        self.frames
            .iter()
            .filter(|(k, _)| k.width == width && k.height == height)
            .min_by_key(|(k, _)| k.frame.abs_diff(frame))
            .map(|(_, (f, _))| f.clone())
    }

    pub fn bytes(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

pub struct DecoderWorker {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
    generation: u64,
}

impl DecoderWorker {
    /// Starts the worker, which opens and indexes `path` and then serves requests. The first
    /// reply is `Opened` or an `Error` with generation 0.
    pub fn spawn(path: PathBuf, cache_bytes: usize) -> Self {
        let (req_tx, req_rx) = channel::<Request>();
        let (rep_tx, rep_rx) = channel::<Reply>();
        std::thread::Builder::new()
            .name("mmant-decoder".into())
            .spawn(move || {
                let mut file = match VideoFile::open(&path) {
                    Ok(f) => {
                        let _ = rep_tx.send(Reply::Opened(f.metadata.clone()));
                        f
                    }
                    Err(e) => {
                        let _ = rep_tx.send(Reply::Error { generation: 0, message: e.to_string() });
                        return;
                    }
                };
                let mut cache = FrameCache::new(cache_bytes);
                // a request that interrupted a decode, served next
                let mut next: Option<Request> = None;
                // the exact frame of a `Nearby` request answered with another picture, decoded
                // while no request waits (the drag usually rests there next)
                let mut speculate: Option<Request> = None;
                loop {
                    let req = match next.take() {
                        Some(r) => r,
                        None => match (req_rx.try_recv(), speculate.take()) {
                            (Ok(r), _) => r,
                            (Err(TryRecvError::Empty), Some(s)) => s,
                            (Err(TryRecvError::Empty), None) => match req_rx.recv() {
                                Ok(r) => r,
                                Err(_) => return,
                            },
                            (Err(TryRecvError::Disconnected), _) => return,
                        },
                    };
                    let Some(req) = crate::channel::newest(&req_rx, req) else { return };
                    // a newer request interrupts a decode unless it lies ahead in the same GOP:
                    // playback's next frames must not cancel the one being decoded, or a
                    // decoder slower than the clock would never show a picture
                    let (target, len) = (req.key.frame, file.index.len());
                    let next_keyframe =
                        (target + 1..len).find(|&i| file.index.keyframe[i]).unwrap_or(len);
                    let mut newer = || {
                        while let Ok(r) = req_rx.try_recv() {
                            next = Some(r);
                        }
                        next.as_ref().is_some_and(|n| {
                            n.precision == Precision::Nearby
                                || n.key.frame < target
                                || n.key.frame >= next_keyframe
                        })
                    };
                    let picture = serve(&mut file, &mut cache, &req, &mut newer);
                    let reply = match picture {
                        Ok(Some(frame)) => {
                            if frame.index != req.key.frame {
                                speculate = Some(Request { precision: Precision::Exact, ..req });
                            }
                            Reply::Frame { generation: req.generation, frame }
                        }
                        Ok(None) => continue, // interrupted: the newer request is next
                        Err(e) => {
                            Reply::Error { generation: req.generation, message: e.to_string() }
                        }
                    };
                    if rep_tx.send(reply).is_err() {
                        return;
                    }
                }
            })
            .expect("spawn the decoder thread");
        DecoderWorker { requests: req_tx, replies: rep_rx, generation: 0 }
    }

    /// Asks for frame `k` at `width` × `height` (0 = native); returns the request's generation.
    pub fn request(&mut self, frame: usize, width: u32, height: u32) -> u64 {
        self.request_with(frame, width, height, Precision::Exact)
    }

    /// `request`, or with `Precision::Nearby` the closest picture that can be shown at once.
    pub fn request_with(
        &mut self,
        frame: usize,
        width: u32,
        height: u32,
        precision: Precision,
    ) -> u64 {
        self.generation += 1;
        let key = Key { frame, width, height };
        let _ = self.requests.send(Request { key, generation: self.generation, precision });
        self.generation
    }

    /// The newest generation asked for: replies with an older one are stale.
    pub fn latest(&self) -> u64 {
        self.generation
    }

    /// A reply if one is ready; never blocks.
    pub fn poll(&self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }

    /// Waits for the next reply (tests and command-line use only, never the UI).
    pub fn wait(&self, timeout: std::time::Duration) -> Option<Reply> {
        self.replies.recv_timeout(timeout).ok()
    }
}

/// The picture for `req`: from the cache, the keyframe before it (`Nearby`), or decoded exactly;
/// `None` when `newer()` interrupted the decode.
fn serve(
    file: &mut VideoFile,
    cache: &mut FrameCache,
    req: &Request,
    newer: &mut dyn FnMut() -> bool,
) -> Result<Option<Arc<RgbFrame>>, super::VideoError> {
    let Key { frame: k, width, height } = req.key;
    if let Some(f) = cache.get(&req.key) {
        return Ok(Some(f));
    }
    let target = match req.precision {
        Precision::Exact => k,
        Precision::Nearby => {
            let keyframe = file.index.keyframe_before(k);
            match cache.nearest(k, width, height) {
                Some(f) if f.index.abs_diff(k) <= k - keyframe => return Ok(Some(f)),
                _ => keyframe,
            }
        }
    };
    let key = Key { frame: target, ..req.key };
    if let Some(f) = cache.get(&key) {
        return Ok(Some(f));
    }
    let Some(f) = file.frame_unless(target, width, height, newer)? else { return Ok(None) };
    let f = Arc::new(f);
    cache.insert(key, f.clone());
    Ok(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Arc<RgbFrame> {
        Arc::new(RgbFrame { index: n, width: 10, height: 10, data: vec![0; 300] })
    }

    #[test]
    fn lru_stays_within_budget_and_keeps_recent_frames() {
        let mut c = FrameCache::new(1000);
        let key = |n| Key { frame: n, width: 10, height: 10 };
        for n in 0..3 {
            c.insert(key(n), frame(n));
        }
        assert_eq!((c.len(), c.bytes()), (3, 900));
        assert!(c.get(&key(0)).is_some()); // 0 is now the most recent
        c.insert(key(3), frame(3)); // evicts 1, the least recently used
        assert!(c.get(&key(1)).is_none());
        assert!(c.get(&key(0)).is_some() && c.get(&key(3)).is_some());
        assert!(c.bytes() <= 1000);
        c.insert(key(9), Arc::new(RgbFrame { index: 9, width: 1, height: 1, data: vec![0; 5000] }));
        assert!(c.get(&key(9)).is_none(), "a frame larger than the budget is not cached");
    }
}
