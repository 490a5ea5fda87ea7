//! The model on its own thread: the UI sends observations (newest wins) and polls for
//! anticipations; stale results are recognised by their generation and dropped by the caller.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use candle_core::Device;

use crate::data::Features;
use crate::model::anticipate::CheckpointAnticipator;
use crate::model::checkpoint::{Checkpoint, CheckpointMeta};
use crate::predict::{AnticipationView, anticipate};

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
