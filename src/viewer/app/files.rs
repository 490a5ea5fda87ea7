//! Files in the viewer: open dialogs (rfd, on worker threads), reading labels, features and
//! checkpoints off the UI thread, recent files, CSV export, and background feature extraction.
//! Results come back to the UI thread as [`Event`]s.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Event, FileKind, RECENT_MAX, ViewerApp};
use crate::annotation::Session;
use crate::data::Features;
use crate::video::DecoderWorker;
use crate::viewer::inference::InferenceWorker;

impl ViewerApp {
    pub(super) fn remember(&mut self, kind: FileKind, path: &Path) {
        self.settings.recent.retain(|(_, p)| p != path);
        self.settings.recent.insert(0, (kind, path.to_owned()));
        self.settings.recent.truncate(RECENT_MAX);
    }

    pub(super) fn open_video(&mut self, path: PathBuf) {
        self.remember(FileKind::Video, &path);
        self.video = Some(DecoderWorker::spawn(path.clone(), 256 << 20));
        self.thumbnail_worker = Some(crate::video::ThumbnailWorker::spawn(path.clone()));
        self.thumbnails.clear();
        // the old video's playback clock, scrub and failed frame mean nothing for this one
        self.state.playing = false;
        self.playback = None;
        self.scrubbed = None;
        self.failed_frame = None;
        self.video_path = Some(path);
        self.frame_texture = None;
        self.requested_frame = None;
        self.displayed = None;
        self.video_frames = None;
        self.frame_times = None;
    }

    pub(super) fn open_checkpoint(&mut self, path: PathBuf) {
        self.remember(FileKind::Checkpoint, &path);
        self.state.checkpoint_name = crate::model::checkpoint::name(&path);
        self.inference = Some(InferenceWorker::spawn(path));
        self.checkpoint_input = None;
        self.state.anticipation = None;
        self.last_request = None;
    }

    /// Opens a file as the menu would (reading happens on a worker thread).
    pub fn open_file(&mut self, kind: FileKind, path: PathBuf) {
        self.open(kind, path)
    }

    /// Reads a file on a worker thread; the result arrives as an event.
    pub(super) fn open(&mut self, kind: FileKind, path: PathBuf) {
        match kind {
            FileKind::Video => self.open_video(path),
            FileKind::Checkpoint => self.open_checkpoint(path),
            FileKind::Labels => {
                self.remember(kind, &path);
                let tx = self.events.0.clone();
                let vocabularies = vec![(self.state.level.clone(), self.state.vocab.clone())];
                let clock = self.label_clock();
                std::thread::spawn(move || {
                    let r =
                        Session::open(&path, &vocabularies, true, clock).map_err(|e| e.to_string());
                    let _ = tx.send(Event::LabelsLoaded(path, r));
                });
            }
            FileKind::Features => {
                self.remember(kind, &path);
                let tx = self.events.0.clone();
                std::thread::spawn(move || {
                    let r = Features::read(&path, None).map_err(|e| e.to_string());
                    let _ = tx.send(Event::FeaturesLoaded(path, r));
                });
            }
        }
    }

    /// Builds the CSV here (cheap) and writes it on a worker thread, atomically.
    pub(super) fn export(&self, path: PathBuf) {
        let tx = self.events.0.clone();
        let csv = self.state.segments_csv();
        std::thread::spawn(move || {
            let r = csv.map_err(|e| e.to_string()).and_then(|(bytes, rows)| {
                crate::fsutil::write_atomic(&path, &bytes)
                    .map(|()| (path.clone(), rows))
                    .map_err(|e| format!("{}: {e}", path.display()))
            });
            let _ = tx.send(Event::Exported(r));
        });
    }

    pub(super) fn handle_events(&mut self) {
        while let Ok(event) = self.events.1.try_recv() {
            match event {
                Event::Chosen { purpose, path, unseen } => self.chosen(purpose, path, unseen),
                Event::Exported(Ok((path, rows))) => {
                    self.state.status = format!("exported {rows} segments to {}", path.display())
                }
                Event::Exported(Err(e)) => {
                    self.state.status = format!("export failed, nothing written: {e}")
                }
                Event::LabelsLoaded(path, Ok((session, recovered))) => {
                    let frames = session.doc.frames();
                    self.state.status = format!("labels: {} ({frames} frames)", path.display());
                    if let Some(r) = recovered {
                        self.state.status = r;
                    }
                    self.annotation = Some(session);
                    self.sync_ground_truth();
                    self.fit_lengths();
                }
                Event::LabelsLoaded(_, Err(e)) | Event::FeaturesLoaded(_, Err(e)) => {
                    self.state.status = e
                }
                Event::FeaturesLoaded(path, Ok(f)) => {
                    self.extracting = None;
                    self.state.status = format!(
                        "features: {} ({}-d, {} frames{})",
                        path.display(),
                        f.dim,
                        f.frames,
                        f.backbone.as_deref().map(|b| format!(", {b}")).unwrap_or_default()
                    );
                    self.features = Some(Arc::new(f));
                    self.last_request = None;
                }
                Event::ExtractProgress(done, total) => self.extracting = Some((done, total)),
                Event::TrainProgress(stage, done, total) => {
                    if let Some(job) = &mut self.training {
                        job.stage = stage;
                        job.progress = (done, total);
                    }
                }
                Event::TrainDone(r) => self.training_done(r),
            }
        }
    }

    /// Extracts the video's features in the background with the backbone the checkpoint was
    /// trained on (when it ships with mmant), every `stride`-th frame, into the cache; progress
    /// arrives as events. Features of the same video, weights and stride already in the cache
    /// are read instead.
    pub(super) fn extract_features_for(&mut self, backbone_name: &str, stride: usize) {
        let (Some(video), Some(backbone)) =
            (self.video_path.clone(), crate::features::Backbone::from_name(backbone_name))
        else {
            return;
        };
        let Some(weights) = backbone.default_weights().filter(|w| w.exists()) else {
            self.state.status = format!(
                "the checkpoint observes {backbone} features: open them (File › Open features), or extract them with `mmant extract --backbone {backbone} --weights …`"
            );
            return;
        };
        let cache = self.feature_cache.clone();
        let tx = self.events.0.clone();
        self.extracting = Some((0, 1));
        self.state.empty_hint =
            format!("extracting {backbone} features of the video's frames for the checkpoint…");
        std::thread::spawn(move || {
            let r = (|| -> Result<(PathBuf, Features), String> {
                let out = crate::features::cache::folder_for(&cache, &video, backbone)
                    .map_err(|e| e.to_string())?;
                let net =
                    crate::features::Network::load(backbone, &weights, &candle_core::Device::Cpu)
                        .map_err(|e| e.to_string())?;
                let stem = video.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                let npy = out.join(format!("{stem}.npy"));
                if !crate::features::cache::is_cached(&npy, &net.weights_sha256, stride, None) {
                    let never = std::sync::atomic::AtomicBool::new(false);
                    let progress_tx = tx.clone();
                    let opts = crate::features::ExtractOptions {
                        stride,
                        on_bad_frame: crate::features::BadFramePolicy::Continue,
                        ..Default::default()
                    };
                    crate::features::extract_video(
                        &net,
                        &video,
                        &out,
                        &opts,
                        &mut |d, t| drop(progress_tx.send(Event::ExtractProgress(d, t))),
                        &never,
                    )
                    .map_err(|e| e.to_string())?;
                }
                let f = Features::read(&npy, None).map_err(|e| e.to_string())?;
                Ok((npy, f))
            })();
            let _ = match r {
                Ok((path, f)) => tx.send(Event::FeaturesLoaded(path, Ok(f))),
                Err(e) => tx.send(Event::FeaturesLoaded(
                    video,
                    Err(format!("feature extraction failed: {e}")),
                )),
            };
        });
    }
}
