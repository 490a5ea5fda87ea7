//! The model on its own thread: the UI sends observations (newest wins) and polls for
//! anticipations; stale results are recognised by their generation and dropped by the caller.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

use candle_core::Device;

use super::state::AnticipationView;
use crate::data::Features;
use crate::eval::Observation;
use crate::model::anticipate::CheckpointAnticipator;
use crate::model::checkpoint::{Checkpoint, CheckpointMeta};

struct Request {
    generation: u64,
    /// Labels of the observed frames; for a checkpoint that observes features only their number
    /// (the observed length) is read.
    labels: Vec<u32>,
    features: Option<Arc<Features>>,
    total: usize,
}

#[derive(Debug)]
pub enum Reply {
    Loaded(Box<CheckpointMeta>),
    Result { generation: u64, view: AnticipationView },
    Error { generation: u64, message: String },
}

pub struct InferenceWorker {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
    generation: u64,
}

/// Expands per-token labels (every τ-th frame) to per-frame labels over `frames` frames.
fn per_frame(tokens: &[u32], stride: usize, frames: usize) -> Vec<u32> {
    (0..frames)
        .map(|t| tokens.get(t / stride.max(1)).or(tokens.last()).copied().unwrap_or(0))
        .collect()
}

/// Runs the model on the observed frames [0, labels.len()) of a `total`-frame video: the
/// anticipated future and the observed part's coarse (and fine) labels, per frame.
pub fn anticipate(
    model: &CheckpointAnticipator,
    labels: &[u32],
    features: Option<&Features>,
    total: usize,
) -> Result<AnticipationView, crate::eval::AnticipationError> {
    let started = Instant::now();
    let stride = model.checkpoint.meta.stride;
    let obs = Observation { video: "viewer", labels, features, total_frames: total };
    let a = model.run(&obs)?;
    Ok(AnticipationView {
        observed: labels.len(),
        future: a.frames,
        coarse: per_frame(&a.observed_coarse, stride, labels.len()),
        fine: a.observed_fine.map(|f| per_frame(&f, stride, labels.len())),
        confidence: a.segments.iter().map(|s| (s.start, s.end, s.confidence)).collect(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

impl InferenceWorker {
    pub fn spawn(checkpoint: PathBuf) -> Self {
        let (req_tx, req_rx) = channel::<Request>();
        let (rep_tx, rep_rx) = channel::<Reply>();
        std::thread::Builder::new()
            .name("mmant-inference".into())
            .spawn(move || {
                let model = match Checkpoint::load(&checkpoint, &Device::Cpu) {
                    Ok(c) => {
                        let _ = rep_tx.send(Reply::Loaded(Box::new(c.meta.clone())));
                        CheckpointAnticipator::new(c, Device::Cpu)
                    }
                    Err(e) => {
                        let _ = rep_tx.send(Reply::Error { generation: 0, message: e.to_string() });
                        return;
                    }
                };
                while let Ok(req) = req_rx.recv() {
                    let Some(req) = crate::channel::newest(&req_rx, req) else { return };
                    let reply =
                        match anticipate(&model, &req.labels, req.features.as_deref(), req.total) {
                            Ok(view) => Reply::Result { generation: req.generation, view },
                            Err(e) => {
                                Reply::Error { generation: req.generation, message: e.to_string() }
                            }
                        };
                    if rep_tx.send(reply).is_err() {
                        return;
                    }
                }
            })
            .expect("spawn the inference thread");
        InferenceWorker { requests: req_tx, replies: rep_rx, generation: 0 }
    }

    /// Asks for the anticipation given the observed frames' labels (and the video's features,
    /// for a checkpoint that observes features); returns the request's generation.
    pub fn request(
        &mut self,
        observed_labels: Vec<u32>,
        features: Option<Arc<Features>>,
        total_frames: usize,
    ) -> u64 {
        self.generation += 1;
        let _ = self.requests.send(Request {
            generation: self.generation,
            labels: observed_labels,
            features,
            total: total_frames,
        });
        self.generation
    }

    pub fn latest(&self) -> u64 {
        self.generation
    }

    pub fn poll(&self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_expand_to_frames() {
        assert_eq!(super::per_frame(&[1, 2], 3, 7), vec![1, 1, 1, 2, 2, 2, 2]);
    }
}
