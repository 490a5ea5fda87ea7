//! `mmant extract`: one video → `<out>/<video>.npy` (float32, C×T) and `<out>/<video>.json`.
//!
//! A decoding thread reads every `stride`-th frame (resized by swscale, centre-cropped and
//! normalised) into batches and hands them over a bounded channel to the caller's thread, which
//! runs the network (candle's matmuls and the depthwise kernel use both cores), so decoding and
//! inference overlap. Nothing is written until the last frame is done; both files are written to
//! temporary files and renamed, so an interrupted run leaves the folder as it was.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::preprocess::{push_center_crop, resized_size};
use super::{Backbone, FeatureError, INPUT_SIZE, Network, Normalization, RESIZE_SHORTER};
use crate::data::features::Orientation;
use crate::video::VideoFile;

#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Every `stride`-th frame is sampled (frame 0, stride, 2·stride, …).
    pub stride: usize,
    /// Frames per forward pass.
    pub batch: usize,
    pub on_bad_frame: BadFramePolicy,
}

/// What to do with a frame that cannot be decoded (a corrupt or truncated stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BadFramePolicy {
    /// Stop with an error naming the frame; nothing is written.
    #[default]
    Stop,
    /// Give the frame the previous good frame's pixels, list it in the sidecar's `bad_frames`.
    Continue,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { stride: 1, batch: 8, on_bad_frame: BadFramePolicy::Stop }
    }
}

/// The sidecar written beside each feature file. `orientation`, `dim`, `backbone`, `stride`
/// and `fps` are the fields the data layer reads (`data::features::FeatureSidecar`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractSidecar {
    pub orientation: Orientation,
    pub dim: usize,
    pub backbone: String,
    pub weights: String,
    pub weights_sha256: String,
    pub input_size: u32,
    pub preprocessing: String,
    pub normalization: Normalization,
    pub stride: usize,
    /// Average frame rate of the video; a sampled feature column t is video frame t·stride.
    pub fps: f64,
    pub variable_fps: bool,
    /// Frames in the video (decoded pictures).
    pub video_frames: usize,
    /// Columns of the feature array: ⌈video_frames / stride⌉.
    pub samples: usize,
    pub video: String,
    pub mmant_version: String,
    /// Sampled frames that could not be decoded (with `--on-bad-frame continue`).
    #[serde(default)]
    pub bad_frames: Vec<usize>,
    /// Set when the file stops before the length its container declares: the features cover
    /// `video_frames` of `declared_frames`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_early: Option<crate::video::EarlyEnd>,
}

pub struct Extracted {
    pub npy: PathBuf,
    pub sidecar: ExtractSidecar,
}

/// Normalised pixels of `n` frames, and which of them could not be decoded.
struct Batch {
    data: Vec<f32>,
    n: usize,
    bad: Vec<usize>,
}

/// Decodes the sampled frames of `path` into normalised batches, sent over `tx`.
fn decode_batches(
    path: &Path,
    opts: &ExtractOptions,
    norm: Normalization,
    tx: mpsc::SyncSender<Result<Batch, FeatureError>>,
    cancel: &AtomicBool,
) {
    let (stride, batch) = (opts.stride.max(1), opts.batch.max(1));
    let mut video = match VideoFile::open(path) {
        Ok(v) => v,
        Err(e) => {
            let _ = tx.send(Err(e.into()));
            return;
        }
    };
    let (w, h) = resized_size(video.metadata.width, video.metadata.height);
    let side = INPUT_SIZE as usize;
    let frames: Vec<usize> = (0..video.metadata.frames).step_by(stride).collect();
    let plane = 3 * side * side;
    // the last good frame's input, for frames that cannot be decoded (mid-grey before any)
    let mut last_good = vec![0f32; plane];
    for chunk in frames.chunks(batch) {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let mut data = Vec::with_capacity(chunk.len() * plane);
        let mut bad = Vec::new();
        for &k in chunk {
            match video.frame(k, w, h) {
                Ok(f) => {
                    push_center_crop(&f.data, f.width, f.height, norm, &mut data);
                    last_good.copy_from_slice(&data[data.len() - plane..]);
                }
                Err(error) if opts.on_bad_frame == BadFramePolicy::Stop => {
                    let _ = tx.send(Err(match video.metadata.ends_early() {
                        Some(early) => {
                            FeatureError::EndsEarly { path: path.to_owned(), early, error }
                        }
                        None => error.into(),
                    }));
                    return;
                }
                Err(_) => {
                    data.extend_from_slice(&last_good);
                    bad.push(k);
                }
            }
        }
        if tx.send(Ok(Batch { data, n: chunk.len(), bad })).is_err() {
            return; // the consumer stopped
        }
    }
}

/// Extracts features of one video into `out_dir`. `progress(done, total)` is called after every
/// batch; setting `cancel` stops at the next batch and writes nothing.
pub fn extract_video(
    net: &Network,
    video_path: &Path,
    out_dir: &Path,
    opts: &ExtractOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Extracted, FeatureError> {
    let stride = opts.stride.max(1);
    // opened here for its metadata and errors; the decoding thread opens its own (FFmpeg's
    // contexts cannot move between threads; the frame index is cached)
    let meta = VideoFile::open(video_path)?.metadata.clone();
    let total = meta.frames.div_ceil(stride);
    let backbone: Backbone = net.backbone;
    let norm = backbone.normalization();
    let side = INPUT_SIZE as usize;
    let dim = backbone.dim();
    let mut columns: Vec<f32> = Vec::with_capacity(total * dim);
    let mut bad_frames = Vec::new();
    let (tx, rx) = mpsc::sync_channel(2);
    std::thread::scope(|scope| -> Result<(), FeatureError> {
        scope.spawn(move || decode_batches(video_path, opts, norm, tx, cancel));
        let mut done = 0;
        for item in rx.iter() {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let Batch { data, n, bad } = item?;
            bad_frames.extend(bad);
            let x = Tensor::from_vec(data, (n, 3, side, side), net.device())
                .map_err(FeatureError::model("batch"))?;
            let f = net.features(&x).and_then(|f| f.flatten_all()).and_then(|f| f.to_vec1::<f32>());
            columns.extend(f.map_err(FeatureError::model(format!(
                "{}: frames {}…",
                video_path.display(),
                done * stride
            )))?);
            done += n;
            progress(done, total);
        }
        Ok(())
    })?;
    if cancel.load(Ordering::Relaxed) {
        return Err(FeatureError::Cancelled { path: video_path.to_owned() });
    }
    let samples = columns.len() / dim;
    if samples != total {
        return Err(FeatureError::Model {
            context: format!("{}", video_path.display()),
            error: candle_core::Error::Msg(format!(
                "{samples} feature columns for {total} sampled frames"
            )),
        });
    }
    // rows of `columns` are frames; MS-TCN stores channels first
    let mut channels_first = vec![0f32; columns.len()];
    for (t, row) in columns.chunks_exact(dim).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            channels_first[c * samples + t] = v;
        }
    }
    let stem = video_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    crate::fsutil::create_output_dir(out_dir)
        .map_err(|error| FeatureError::Io { path: out_dir.to_owned(), error })?;
    let npy = out_dir.join(format!("{stem}.npy"));
    let sidecar = ExtractSidecar {
        orientation: Orientation::ChannelsFirst,
        dim,
        backbone: backbone.name().to_owned(),
        weights: net.weights.display().to_string(),
        weights_sha256: net.weights_sha256.clone(),
        input_size: INPUT_SIZE,
        preprocessing: format!(
            "swscale bilinear resize of the shorter side to {RESIZE_SHORTER}, centre crop {INPUT_SIZE}×{INPUT_SIZE}, (x/255 − mean)/std"
        ),
        normalization: norm,
        stride,
        fps: meta.fps,
        variable_fps: meta.variable_fps,
        video_frames: meta.frames,
        samples,
        video: video_path.display().to_string(),
        mmant_version: env!("CARGO_PKG_VERSION").to_owned(),
        bad_frames,
        ends_early: meta.ends_early(),
    };
    let json = serde_json::to_vec_pretty(&sidecar).expect("sidecar serialises");
    let sidecar_path = crate::data::features::FeatureSidecar::path_for(&npy);
    crate::fsutil::write_atomic(&sidecar_path, &json)
        .map_err(|error| FeatureError::Io { path: sidecar_path, error })?;
    crate::data::features::write_npy_f32(&npy, [dim, samples], &channels_first)?;
    Ok(Extracted { npy, sidecar })
}
