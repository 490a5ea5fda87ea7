//! File › Train on annotated videos: a features-observing FUTR trained on the annotated videos
//! of the open video's folder (train::annotated: features extracted and cached in
//! `<folder>/.mmant/`, one in five held out), on a worker thread that reports progress as events
//! and stops between batches when cancelled. The trained checkpoint is then opened, so the open
//! video, labelled or not, shows what the model recognises and anticipates.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use super::{Event, ViewerApp};
use crate::features::{Backbone, Network};
use crate::train::{EpochLog, InputChoice, ModelKind, TrainConfig, Watch, annotated};

/// Epochs of a training started from the viewer (small data: a few hundred optimizer steps).
pub const EPOCHS: usize = 40;

pub(super) struct TrainingJob {
    pub cancel: Arc<AtomicBool>,
    pub stage: String,
    pub progress: (usize, usize),
}

struct Reporter {
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
}

impl Watch for Reporter {
    fn epoch_done(&self, log: &EpochLog, epochs: usize) {
        let _ = self.tx.send(Event::TrainProgress("training, epoch".into(), log.epoch, epochs));
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Everything the worker does; the message says what was trained on.
fn run(
    folder: &Path,
    weights: &Path,
    tx: &Sender<Event>,
    cancel: &Arc<AtomicBool>,
) -> Result<(PathBuf, String), String> {
    let net = Network::load(Backbone::EfficientnetLite0, weights, &candle_core::Device::Cpu)
        .map_err(|e| e.to_string())?;
    let stride = 3;
    let prepared = annotated::prepare(
        folder,
        &net,
        stride,
        &mut |what, done, total| drop(tx.send(Event::TrainProgress(what.to_owned(), done, total))),
        cancel,
    )
    .map_err(|e| e.to_string())?;
    let ds = crate::data::Dataset::open(&prepared.root).map_err(|e| e.to_string())?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let out = prepared.root.join("runs").join(format!("viewer-{stamp}"));
    let defaults = TrainConfig::for_dataset(&ds.name, ModelKind::Futr, out.clone());
    let cfg = TrainConfig {
        input: InputChoice::Features,
        feature_dim: Some(net.backbone.dim()),
        epochs: EPOCHS,
        warmup: 2,
        stride,
        held_out_every: 0,
        ..defaults
    };
    let reporter = Reporter { tx: tx.clone(), cancel: cancel.clone() };
    crate::train::train_watched(&ds, &cfg, &candle_core::Device::Cpu, &reporter)
        .map_err(|e| e.to_string())?;
    let mut said = format!(
        "trained on {} annotated video(s){}; {} without labels",
        prepared.train.len(),
        if prepared.held_out.is_empty() {
            String::new()
        } else {
            format!(", held out {}", prepared.held_out.join(", "))
        },
        prepared.unlabelled.len()
    );
    if !prepared.problems.is_empty() {
        said +=
            &format!(" ({} left out: {})", prepared.problems.len(), prepared.problems.join("; "));
    }
    Ok((out.join("model"), said))
}

impl ViewerApp {
    pub(super) fn train_on_annotated(&mut self) {
        if self.training.is_some() {
            self.state.status = "training is running (Cancel training stops it)".into();
            return;
        }
        let Some(folder) = self.video_path.as_deref().and_then(Path::parent).map(Path::to_path_buf)
        else {
            self.state.status =
                "open a video of the folder your annotated videos are in (File › Open video), then train".into();
            return;
        };
        if self.annotation.as_ref().is_some_and(|s| s.unsaved() > 0) {
            self.state.status =
                "save your edits first (Ctrl+S): training reads the label files on disk".into();
            return;
        }
        let Some(weights) = Backbone::EfficientnetLite0.default_weights().filter(|w| w.exists())
        else {
            self.state.status =
                "the EfficientNet-Lite0 weights are missing: run scripts/fetch-models".into();
            return;
        };
        let cancel = Arc::new(AtomicBool::new(false));
        self.training = Some(TrainingJob {
            cancel: cancel.clone(),
            stage: "preparing".into(),
            progress: (0, 1),
        });
        self.state.status = format!("training on the annotated videos in {}", folder.display());
        let tx = self.events.0.clone();
        std::thread::Builder::new()
            .name("mmant-train".into())
            .spawn(move || {
                let r = run(&folder, &weights, &tx, &cancel);
                let _ = tx.send(Event::TrainDone(r));
            })
            .expect("spawn the training thread");
    }

    pub(super) fn cancel_training(&mut self) {
        if let Some(job) = &self.training {
            job.cancel.store(true, Ordering::Relaxed);
            self.state.status = "cancelling the training…".into();
        }
    }

    pub(super) fn training_done(&mut self, r: Result<(PathBuf, String), String>) {
        self.training = None;
        match r {
            Ok((checkpoint, said)) => {
                self.open_checkpoint(checkpoint);
                self.state.status = said;
            }
            Err(e) => self.state.status = format!("training stopped: {e}"),
        }
    }

    /// Training on annotated videos is running.
    pub fn is_training(&self) -> bool {
        self.training.is_some()
    }
}
