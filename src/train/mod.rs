//! Training FUTR and m&m-Ant: examples, batches, losses, schedule, the loop, logs and checkpoints.

pub mod annotated;
pub mod config;
mod error;
pub mod examples;
mod held_out;
pub mod losses;
pub mod optim;
pub mod remaining_duration;
pub mod resume;
pub mod schedule;
pub mod tcl;

use std::io::Write as _;
use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{ParamsAdamW, VarMap};
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::data::splits::ALL_VIDEOS;
use crate::data::{Dataset, Features};
use crate::model::checkpoint::{self, CheckpointMeta, InputKind, ModelConfig};
use crate::model::{Model, blocks::Dropout, futr, init, mmant};
pub use config::{InputChoice, ModelKind, TrainConfig};
pub use error::TrainError;
use error::{Context as _, invalid};

type Result<T> = std::result::Result<T, TrainError>;
use examples::{Example, TokenSource, collate, cut};
use held_out::HeldOut;
pub use held_out::HeldOutScore;
use optim::AdamW;

#[derive(Debug, Clone, Serialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub lr: f64,
    pub tcl_weight: f64,
    pub loss: f64,
    pub seg: f64,
    pub action: f64,
    pub duration: f64,
    pub fine: f64,
    pub intra: f64,
    pub inter: f64,
    pub examples_per_s: f64,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out: Option<HeldOutScore>,
}

/// Loads `embeddings` [K, E] from a label-embedding file written by `mmant embed-labels`.
pub fn load_text_table(path: &std::path::Path, classes: usize) -> Result<Tensor> {
    let tensors = candle_core::safetensors::load(path, &Device::Cpu)
        .context_with(|| format!("reading label embeddings {}", path.display()))?;
    let Some(t) = tensors.get("embeddings") else {
        invalid!("{}: expected a tensor named 'embeddings'", path.display())
    };
    if t.dims().len() != 2 || t.dim(0)? != classes {
        invalid!(
            "{}: expected embeddings of shape [{classes}, dim], found {:?}",
            path.display(),
            t.dims()
        );
    }
    Ok(t.to_dtype(DType::F32)?)
}

pub struct Prepared {
    /// The fixed cuts (`alphas`); with `random_cuts`, each epoch's cuts come from `cuts_of_epoch`.
    pub examples: Vec<Example>,
    /// Per training video: its coarse labels and, where a fine level is used, its fine labels.
    pub labels: Vec<(Vec<u32>, Option<Vec<u32>>)>,
    pub features: Vec<Features>,
    pub classes: usize,
    pub fine_classes: usize,
    pub input_dim: usize,
    /// The CNN the features came from, when their sidecars say (all must agree).
    pub backbone: Option<String>,
    /// How often the features were sampled (the most common stride of the training videos').
    pub feature_stride: Option<usize>,
}

/// The videos a run trains on: a split's training videos, or with `all` every video of the
/// dataset (train and test of every split, once each), for the checkpoints the viewer ships.
pub fn training_videos<'a>(ds: &'a Dataset, split: &str) -> Result<Vec<&'a String>> {
    if split == ALL_VIDEOS {
        let mut seen = std::collections::HashSet::new();
        return Ok(ds
            .splits
            .iter()
            .flat_map(|s| s.train.iter().chain(&s.val).chain(&s.test))
            .filter(|v| seen.insert(v.as_str()))
            .collect());
    }
    match ds.select_splits(split)?.as_slice() {
        [one] => Ok(one.train.iter().collect()),
        _ => invalid!("training takes one split or '{ALL_VIDEOS}', not '{split}'"),
    }
}

/// Splits a split's training videos into (train, validation): `fraction` of them (rounded, at
/// least one, never all) for validation, drawn by a generator seeded with the split's name only,
/// so that every seed and variant trained on the split selects its epoch on the same videos.
/// No test video is ever among them.
pub fn carve_validation<'a>(
    videos: &[&'a String],
    fraction: f64,
    split: &str,
) -> (Vec<&'a String>, Vec<&'a String>) {
    if fraction <= 0.0 || videos.len() < 2 {
        return (videos.to_vec(), vec![]);
    }
    let n_val = ((fraction * videos.len() as f64).round() as usize).clamp(1, videos.len() - 1);
    let mut order: Vec<usize> = (0..videos.len()).collect();
    order.shuffle(&mut init::seeded_rng(0, &format!("validation-videos-{split}")));
    let chosen: std::collections::HashSet<usize> = order[..n_val].iter().copied().collect();
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (i, v) in videos.iter().enumerate() {
        if chosen.contains(&i) { val.push(*v) } else { train.push(*v) }
    }
    (train, val)
}

/// The videos a run trains on: the split's training videos less the carved validation ones.
pub fn fitted_videos<'a>(ds: &'a Dataset, cfg: &TrainConfig) -> Result<Vec<&'a String>> {
    let videos = training_videos(ds, &cfg.split)?;
    Ok(carve_validation(&videos, cfg.val_fraction, &cfg.split).0)
}

/// Reads the training videos of the split and cuts the examples.
pub fn prepare(ds: &Dataset, cfg: &TrainConfig) -> Result<Prepared> {
    let level = ds.level_index(&cfg.level)?;
    let fine_level = cfg.fine_level.as_deref().map(|f| ds.level_index(f)).transpose()?;
    let videos = fitted_videos(ds, cfg)?;
    let classes = ds.levels[level].vocab.len();
    let fine_classes = fine_level.map_or(classes, |f| ds.levels[f].vocab.len());
    let feature_dim = match cfg.input {
        InputChoice::Features => {
            let Some(dim) = cfg.feature_dim else {
                invalid!("--input features needs --feature-dim")
            };
            Some(dim)
        }
        InputChoice::GtLabels => None,
    };
    let mut examples = Vec::new();
    let mut features = Vec::new();
    let mut all_labels = Vec::new();
    for (i, name) in videos.iter().enumerate() {
        let mut video = ds.load_video(name, feature_dim)?;
        if let Some(m) = &video.mismatch {
            eprintln!("note: {m}");
        }
        let labels = &video.levels[level];
        let fine = fine_level.map(|f| video.levels[f].as_slice());
        for &alpha in &cfg.alphas {
            examples.extend(cut(i, labels, fine, alpha, cfg.stride, cfg.queries, classes as u32));
        }
        if let Some(f) = video.features.take() {
            if let (Some(first), Some(this)) =
                (features.first().and_then(|f: &Features| f.backbone.as_ref()), f.backbone.as_ref())
                && first != this
            {
                invalid!(
                    "video {name}: features from {this}, the first training video's are from {first}: different feature spaces cannot be mixed"
                );
            }
            features.push(f);
        }
        all_labels.push((labels.clone(), fine.map(<[u32]>::to_vec)));
    }
    let input_dim = feature_dim.unwrap_or(classes);
    let backbone = features.iter().find_map(|f| f.backbone.clone());
    let mut strides = std::collections::BTreeMap::new();
    for f in &features {
        *strides.entry(f.stride).or_insert(0usize) += 1;
    }
    let feature_stride = strides.into_iter().max_by_key(|&(_, n)| n).map(|(s, _)| s);
    Ok(Prepared {
        examples,
        labels: all_labels,
        features,
        classes,
        fine_classes,
        input_dim,
        backbone,
        feature_stride,
    })
}

/// The examples of one epoch: the fixed cuts, or with `random_cuts` each video cut at
/// `alphas.len()` rates drawn uniformly in [min α, max α] by a generator of (seed, epoch) alone,
/// so a resumed run draws the same cuts.
pub fn cuts_of_epoch<'a>(
    p: &'a Prepared,
    cfg: &TrainConfig,
    epoch: usize,
) -> std::borrow::Cow<'a, [Example]> {
    if !cfg.random_cuts {
        return std::borrow::Cow::Borrowed(&p.examples);
    }
    use rand::Rng as _;
    let lo = cfg.alphas.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = cfg.alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut rng = init::seeded_rng(cfg.seed, &format!("cuts-{epoch}"));
    let mut examples = Vec::with_capacity(p.labels.len() * cfg.alphas.len());
    for (i, (labels, fine)) in p.labels.iter().enumerate() {
        for _ in &cfg.alphas {
            let alpha = if hi > lo { rng.random_range(lo..hi) } else { lo };
            examples.extend(cut(
                i,
                labels,
                fine.as_deref(),
                alpha,
                cfg.stride,
                cfg.queries,
                p.classes as u32,
            ));
        }
    }
    std::borrow::Cow::Owned(examples)
}

pub fn model_config(cfg: &TrainConfig, p: &Prepared, text_dim: usize) -> ModelConfig {
    match cfg.model {
        ModelKind::Futr => {
            let mut c = if cfg.futr_salads {
                futr::Config::salads(p.input_dim, p.classes)
            } else {
                futr::Config::breakfast(p.input_dim, p.classes)
            };
            c.d_model = cfg.d_model;
            c.queries = cfg.queries;
            c.end_relative_positions = cfg.end_relative_positions;
            c.queries_from_segmentation = cfg.queries_from_segmentation;
            if let Some(n) = cfg.decoder_layers {
                c.decoder_layers = n;
            }
            ModelConfig::Futr(c)
        }
        ModelKind::Mmant => {
            let mut c =
                mmant::Config::paper(p.input_dim, p.classes, p.fine_classes, text_dim, cfg.d_model);
            c.queries = cfg.queries;
            c.use_text = cfg.use_text;
            c.use_fine = cfg.use_fine;
            c.query_slots = cfg.query_slots;
            c.input_sinusoid = cfg.input_sinusoid;
            c.queries_from_segmentation = cfg.queries_from_segmentation;
            c.pool_recent_first = cfg.pool_recent_first;
            c.pool_sinusoid = cfg.pool_sinusoid;
            c.embed_scale = cfg.embed_scale;
            if let Some(n) = cfg.decoder_layers {
                c.ant_layers = n;
            }
            ModelConfig::Mmant(c)
        }
    }
}

/// Shuffled batches of similar length: the examples are shuffled, sorted by length within windows
/// of 32 batches, cut into batches, and the batches shuffled. Padding a random batch to its
/// longest example wastes most of the attention work (Breakfast's lengths are very skewed);
/// every example is still seen once per epoch.
pub fn length_bucketed_batches(
    examples: &[Example],
    batch_size: usize,
    rng: &mut impl rand::Rng,
) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(rng);
    for window in order.chunks_mut(batch_size * 32) {
        window.sort_by_key(|&i| examples[i].past.len());
    }
    let mut batches: Vec<Vec<usize>> = order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    batches.shuffle(rng);
    batches
}

/// The variables the optimizer updates: all but the fixed label-text table.
pub fn trainable_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let vars = varmap.data().lock().unwrap();
    vars.iter()
        .filter(|(k, _)| k.as_str() != "text_table")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One batch's losses.
pub struct Losses {
    pub total: Tensor,
    /// total, seg, action, duration, fine, intra, inter
    pub parts: [f64; 7],
}

/// How a batch's loss parts are weighted into the total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// f(e), the triangular schedule of the temporal consistency loss at this epoch.
    pub tcl: f64,
    pub use_tcl: bool,
    /// The weight of L_dur (the papers: 1); the reported part stays unweighted.
    pub duration: f32,
    /// The official m&m-Ant code's total (model_spec §3):
    /// `(1 − 1/w̄)·[(1 − f)·L_focal + f·L_tcl] + (1/w̄)·[L_act + L_dur + L_seg]`, with w̄ the
    /// batch mean over valid tokens of 1 where both the fine and the segmentation argmax are
    /// right, 5 elsewhere (no gradient through w̄). Off: every part weight 1 and f on L_tcl
    /// only, the paper's text.
    pub confidence_mixing: bool,
}

impl LossWeights {
    /// The run's weights at `epoch`.
    pub fn of(cfg: &TrainConfig, epoch: usize) -> Self {
        LossWeights {
            tcl: schedule::tcl_weight(epoch, cfg.epochs),
            use_tcl: cfg.use_tcl,
            duration: cfg.duration_weight,
            confidence_mixing: cfg.confidence_mixing,
        }
    }

    /// Every part at weight 1, TCL off: the losses as the reference check compares them.
    pub const PLAIN: LossWeights =
        LossWeights { tcl: 0.0, use_tcl: false, duration: 1.0, confidence_mixing: false };
}

/// w̄ of the official m&m-Ant code: the mean over valid tokens of 1 where the segmentation and
/// the fine argmax both match their targets, 5 elsewhere.
fn mean_confidence_weight(seg: &Tensor, fine: &Tensor, batch: &examples::Batch) -> Result<f64> {
    let right = |logits: &Tensor, target: &Tensor| -> Result<Tensor> {
        Ok(logits.argmax(D::Minus1)?.eq(target)?.to_dtype(DType::F32)?)
    };
    let both = (right(seg, &batch.past)? * right(fine, &batch.past_fine)?)?;
    let valid = &batch.past_valid;
    let n = valid.sum_all()?.to_scalar::<f32>()? as f64;
    if n == 0.0 {
        return Ok(1.0);
    }
    let right_n = (both * valid)?.sum_all()?.to_scalar::<f32>()? as f64;
    Ok((right_n + 5.0 * (n - right_n)) / n)
}

pub fn batch_losses(
    model: &Model,
    batch: &examples::Batch,
    drop: Option<&Dropout>,
    w: LossWeights,
) -> Result<Losses> {
    let out = model.forward(&batch.x, Some(&batch.mask), drop)?;
    let seg = losses::weighted_cross_entropy(&out.seg, &batch.past, &batch.past_valid)?;
    let act_w = batch.target_valid.broadcast_mul(&batch.weight.unsqueeze(1)?)?;
    let action = losses::weighted_cross_entropy(&out.action, &batch.target, &act_w)?;
    let duration = losses::duration(&out.duration, &batch.duration, &batch.duration_valid)?;
    let mut total = if w.duration == 1.0 {
        ((&seg + &action)? + &duration)?
    } else {
        ((&seg + &action)? + (&duration * w.duration as f64)?)?
    };
    let (mut fine_v, mut intra_v, mut inter_v) = (0.0, 0.0, 0.0);
    if let Some(fine) = &out.fine {
        let f = losses::focal(fine, &batch.past_fine, &batch.past_valid)?;
        fine_v = f.to_scalar::<f32>()? as f64;
        let tcl = if w.use_tcl && w.tcl > 0.0 {
            let lists: Vec<&[u32]> = batch.fine_lists.iter().map(Vec::as_slice).collect();
            let iv = tcl::Intervals::from_labels(&lists, batch.x.dim(1)?);
            let (intra, inter) = tcl::temporal_consistency(fine, &iv)?;
            intra_v = intra.to_scalar::<f32>()? as f64;
            inter_v = inter.to_scalar::<f32>()? as f64;
            Some((intra + inter)?)
        } else {
            None
        };
        total = if w.confidence_mixing {
            let w_bar = mean_confidence_weight(&out.seg, fine, batch)?;
            let aux = match &tcl {
                Some(t) => ((&f * (1.0 - w.tcl))? + (t * w.tcl)?)?,
                None => f,
            };
            ((aux * (1.0 - 1.0 / w_bar))? + (total * (1.0 / w_bar))?)?
        } else {
            let total = (total + f)?;
            match tcl {
                Some(t) => (total + (t * w.tcl)?)?,
                None => total,
            }
        };
    }
    let parts = [
        total.to_scalar::<f32>()? as f64,
        seg.to_scalar::<f32>()? as f64,
        action.to_scalar::<f32>()? as f64,
        duration.to_scalar::<f32>()? as f64,
        fine_v,
        intra_v,
        inter_v,
    ];
    Ok(Losses { total, parts })
}

/// Trains and writes `<out>/model.{safetensors,json}` and `<out>/log.jsonl`. Returns the model
/// and the per-epoch logs.
pub fn train(ds: &Dataset, cfg: &TrainConfig, dev: &Device) -> Result<(Model, Vec<EpochLog>)> {
    train_watched(ds, cfg, dev, &Unwatched)
}

/// What a caller running training on a worker thread (the viewer) sees of it, and how it stops
/// it: between batches, after which the last finished epoch's checkpoint is the run's.
pub trait Watch {
    fn epoch_done(&self, _log: &EpochLog, _epochs: usize) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// Nobody watching.
pub struct Unwatched;
impl Watch for Unwatched {}

/// [`train`], reporting each epoch to `watch` and stopping when it says so.
pub fn train_watched(
    ds: &Dataset,
    cfg: &TrainConfig,
    dev: &Device,
    watch: &dyn Watch,
) -> Result<(Model, Vec<EpochLog>)> {
    let prepared = prepare(ds, cfg)?;
    if prepared.examples.is_empty() {
        invalid!(
            "no training examples: the split's videos are too short for stride {}",
            cfg.stride
        );
    }
    let text = match (cfg.model, cfg.use_text && cfg.use_fine) {
        (ModelKind::Mmant, true) => {
            let Some(path) = cfg.text_table.as_ref() else {
                invalid!(
                    "m&m-Ant with text needs --text-table (label embeddings; see `mmant embed-labels`) or --no-text"
                )
            };
            Some(load_text_table(path, prepared.fine_classes)?)
        }
        _ => None,
    };
    let model_cfg =
        model_config(cfg, &prepared, text.as_ref().map_or(384, |t| t.dim(1).unwrap_or(384)));
    let mut varmap = VarMap::new();
    if let Some(t) = &text {
        varmap
            .data()
            .lock()
            .unwrap()
            .insert("text_table".into(), Var::from_tensor(&t.to_device(dev)?)?);
    }
    let vb = init::seeded_var_builder(&varmap, cfg.seed, dev);
    let model = checkpoint::build(&model_cfg, vb)?;
    crate::fsutil::create_output_dir(&cfg.out)
        .context_with(|| format!("creating {}", cfg.out.display()))?;
    let stem = cfg.out.join("model");
    let log_path = cfg.out.join("log.jsonl");
    let trainable = trainable_vars(&varmap);
    let mut opt = AdamW::new(
        trainable,
        ParamsAdamW { lr: cfg.lr, weight_decay: cfg.weight_decay, ..Default::default() },
    )?;
    let drop = Dropout::new(
        match &model_cfg {
            ModelConfig::Futr(c) => c.dropout,
            ModelConfig::Mmant(c) => c.dropout,
        },
        cfg.seed,
    );
    let mut start_epoch = 0;
    if cfg.resume {
        let meta = checkpoint::read_meta(&stem)?;
        if meta.model != model_cfg {
            invalid!("--resume: {} was trained with another configuration", stem.display());
        }
        resume::check_config(cfg)?;
        varmap.load(checkpoint::paths(&stem).0)?;
        start_epoch = meta.epochs;
        if resume::load_state(&cfg.out, start_epoch, &mut opt, &drop)? {
            eprintln!("resuming after epoch {start_epoch} with the saved optimizer moments");
        } else {
            eprintln!(
                "resuming after epoch {start_epoch}: no {} (a run from an older mmant), so the optimizer moments restart",
                resume::state_path(&cfg.out).display()
            );
        }
        resume::trim_log(&log_path, start_epoch)?;
    } else {
        resume::start_run(cfg)?;
    }
    let end_epoch = cfg.stop_after.map_or(cfg.epochs, |n| n.min(cfg.epochs));
    let source = match cfg.input {
        InputChoice::GtLabels => TokenSource::OneHot { classes: prepared.classes },
        InputChoice::Features => TokenSource::Features { per_video: &prepared.features },
    };
    let level = ds.level_index(&cfg.level)?;
    let meta = |epochs: usize| CheckpointMeta {
        format: checkpoint::FORMAT.into(),
        model: model_cfg.clone(),
        input: match cfg.input {
            InputChoice::GtLabels => InputKind::GtLabels { classes: prepared.classes },
            InputChoice::Features => InputKind::Features {
                dim: prepared.input_dim,
                backbone: prepared.backbone.clone(),
                feature_stride: prepared.feature_stride,
            },
        },
        dataset: ds.name.clone(),
        split: cfg.split.clone(),
        level: ds.levels[level].name.clone(),
        fine_level: cfg.fine_level.clone(),
        vocabulary: ds.levels[level].vocab.names().to_vec(),
        fine_vocabulary: match &cfg.fine_level {
            Some(f) => ds.levels[ds.level_index(f).unwrap_or(level)].vocab.names().to_vec(),
            None => ds.levels[level].vocab.names().to_vec(),
        },
        stride: cfg.stride,
        seed: cfg.seed,
        epochs,
        git_commit: checkpoint::git_commit(),
        mmant_version: env!("CARGO_PKG_VERSION").into(),
        selected: None,
    };
    let best_stem = cfg.out.join("best");
    // a resumed run keeps selecting against the best epoch it had
    let mut best = if cfg.resume && cfg.val_fraction > 0.0 {
        checkpoint::read_meta(&best_stem).ok().and_then(|m| m.selected)
    } else {
        None
    };
    eprintln!(
        "training {:?} on {} split {} ({} examples, input {:?}, seed {}), {} parameters",
        cfg.model,
        ds.name,
        cfg.split,
        prepared.examples.len(),
        cfg.input,
        cfg.seed,
        varmap
            .all_vars()
            .iter()
            .filter(|v| v.elem_count() > 0)
            .map(|v| v.elem_count())
            .sum::<usize>()
    );
    // a run on every video has nothing held out
    let held_out = if (cfg.held_out_every > 0 || cfg.val_fraction > 0.0) && cfg.split != ALL_VIDEOS
    {
        Some(HeldOut::load(ds, cfg, level)?)
    } else {
        None
    };
    let total_examples = prepared.examples.len();
    let mut logs = Vec::new();
    let mut log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(cfg.resume)
        .write(true)
        .truncate(!cfg.resume)
        .open(&log_path)
        .context_with(|| format!("opening {}", log_path.display()))?;
    let bar = indicatif::ProgressBar::new(
        (end_epoch.saturating_sub(start_epoch) * total_examples) as u64,
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} examples {per_sec} eta {eta} {msg}",
        )
        .unwrap(),
    );
    if std::env::var_os("CI").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    for epoch in start_epoch..end_epoch {
        // the shuffle of epoch e depends on the seed and e only, so a resumed run matches
        let mut epoch_rng = init::seeded_rng(cfg.seed, &format!("shuffle-{epoch}"));
        let examples = cuts_of_epoch(&prepared, cfg, epoch);
        let batches_of_epoch = length_bucketed_batches(&examples, cfg.batch_size, &mut epoch_rng);
        let lr = schedule::learning_rate(cfg.lr, epoch, cfg.warmup, cfg.epochs);
        opt.set_learning_rate(lr);
        let weights = LossWeights::of(cfg, epoch);
        let started = Instant::now();
        let mut sums = [0f64; 7];
        let mut batches = 0usize;
        for chunk in &batches_of_epoch {
            if watch.cancelled() {
                invalid!(
                    "cancelled in epoch {}; {} holds the last finished epoch's checkpoint",
                    epoch + 1,
                    cfg.out.display()
                );
            }
            let batch_examples: Vec<&Example> = chunk.iter().map(|&i| &examples[i]).collect();
            let batch = collate(&batch_examples, &source, cfg.queries, cfg.transition_weight, dev)?;
            let l = batch_losses(&model, &batch, Some(&drop), weights)?;
            if !l.parts[0].is_finite() {
                invalid!(
                    "epoch {epoch}: the loss is {} (seg {}, action {}, duration {})",
                    l.parts[0],
                    l.parts[1],
                    l.parts[2],
                    l.parts[3]
                );
            }
            opt.backward_step(&l.total)?;
            for (s, v) in sums.iter_mut().zip(l.parts) {
                *s += v;
            }
            batches += 1;
            bar.inc(chunk.len() as u64);
            bar.set_message(format!("epoch {} loss {:.3}", epoch + 1, l.parts[0]));
        }
        let secs = started.elapsed().as_secs_f64();
        let n = batches.max(1) as f64;
        let mut log = EpochLog {
            epoch: epoch + 1,
            lr,
            tcl_weight: weights.tcl,
            loss: sums[0] / n,
            seg: sums[1] / n,
            action: sums[2] / n,
            duration: sums[3] / n,
            fine: sums[4] / n,
            intra: sums[5] / n,
            inter: sums[6] / n,
            examples_per_s: examples.len() as f64 / secs,
            seconds: secs,
            held_out: None,
        };
        // the state first: a run killed between the writes then finds a state ahead of the
        // checkpoint and says so, instead of resuming new weights with an old epoch count
        resume::save_state(&cfg.out, epoch + 1, &opt, &drop)?;
        checkpoint::save(&stem, &varmap, &meta(epoch + 1))?;
        let selecting = cfg.val_fraction > 0.0;
        if let Some(h) = held_out.as_ref().filter(|_| {
            selecting
                || (cfg.held_out_every > 0
                    && ((epoch + 1) % cfg.held_out_every == 0 || epoch + 1 == cfg.epochs))
        }) {
            let score = h.score(&stem, dev)?;
            if selecting
                && let Some(moc) = score.moc
                && best.as_ref().is_none_or(|b| moc > b.val_moc)
            {
                let selection = checkpoint::Selection {
                    epoch: epoch + 1,
                    val_moc: moc,
                    val_videos: h.names(),
                    rule: format!(
                        "the highest mean MoC on the {} validation videos carved from split {}'s training videos (--val-fraction {}); the earliest epoch on a tie",
                        h.names().len(),
                        cfg.split,
                        cfg.val_fraction
                    ),
                };
                checkpoint::save(
                    &best_stem,
                    &varmap,
                    &CheckpointMeta { selected: Some(selection.clone()), ..meta(epoch + 1) },
                )?;
                best = Some(selection);
            }
            log.held_out = Some(score);
        }
        let line = serde_json::to_string(&log).expect("the epoch log serialises");
        writeln!(log_file, "{line}").context_with(|| format!("writing {}", log_path.display()))?;
        say(
            &bar,
            format!(
                "epoch {:>3}  lr {:.2e}  loss {:.4} (seg {:.4} act {:.4} dur {:.4} fine {:.4})  {:.0} ex/s",
                log.epoch,
                lr,
                log.loss,
                log.seg,
                log.action,
                log.duration,
                log.fine,
                log.examples_per_s
            ),
        );
        if let Some(h) = &log.held_out {
            say(
                &bar,
                format!(
                    "           {} videos: MoC {} (last-observed {}), first segment = action in progress {:.1}%",
                    h.videos_from,
                    h.moc.map_or("n/a".into(), |m| format!("{m:.2}")),
                    h.last_observed_moc.map_or("n/a".into(), |m| format!("{m:.2}")),
                    100.0 * h.first_is_current
                ),
            );
        }
        watch.epoch_done(&log, cfg.epochs);
        logs.push(log);
    }
    bar.finish_and_clear();
    Ok((model, logs))
}

/// A line above the progress bar, or on stderr when the bar is not drawn (output to a file, CI),
/// so a run's log always has its epoch lines.
fn say(bar: &indicatif::ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn config(random_cuts: bool) -> TrainConfig {
        TrainConfig {
            epochs: 4,
            batch_size: 2,
            warmup: 1,
            seed: 7,
            stride: 1,
            d_model: 16,
            random_cuts,
            transition_weight: 10.0,
            use_text: false,
            use_tcl: false,
            use_fine: false,
            held_out_every: 0,
            ..TrainConfig::for_dataset("breakfast", ModelKind::Futr, PathBuf::new())
        }
    }

    fn prepared(cfg: &TrainConfig) -> Prepared {
        // 200-frame videos of four 50-frame actions: every cut in [0.2, 0.5] is its own example
        let labels: Vec<(Vec<u32>, Option<Vec<u32>>)> =
            (0..5u32).map(|v| ((0..200u32).map(|t| (t / 50 + v) % 6).collect(), None)).collect();
        let examples = labels
            .iter()
            .enumerate()
            .flat_map(|(i, (l, _))| {
                cfg.alphas.iter().filter_map(move |&a| cut(i, l, None, a, 1, 8, 6))
            })
            .collect();
        Prepared {
            examples,
            labels,
            features: vec![],
            classes: 6,
            fine_classes: 6,
            input_dim: 6,
            backbone: None,
            feature_stride: None,
        }
    }

    #[test]
    fn random_cuts_are_drawn_in_the_alpha_range_per_epoch_and_reproducibly() {
        let fixed = config(false);
        let p = prepared(&fixed);
        assert_eq!(
            cuts_of_epoch(&p, &fixed, 0).as_ref(),
            cuts_of_epoch(&p, &fixed, 3).as_ref(),
            "fixed cuts are the same every epoch"
        );
        let random = config(true);
        let epoch0 = cuts_of_epoch(&p, &random, 0);
        assert_eq!(epoch0.len(), 5 * 3, "as many cuts per video as --alphas lists");
        for e in epoch0.iter() {
            assert!(
                (40..=100).contains(&e.observed),
                "cut at {} of 200 frames, outside α ∈ [0.2, 0.5]",
                e.observed
            );
        }
        let observed = |ex: &[Example]| ex.iter().map(|e| e.observed).collect::<Vec<_>>();
        assert!(
            observed(&epoch0).iter().any(|&o| ![40, 60, 100].contains(&o)),
            "random cuts should not fall only on the fixed rates"
        );
        assert_ne!(
            observed(&epoch0),
            observed(&cuts_of_epoch(&p, &random, 1)),
            "each epoch draws new cuts"
        );
        assert_eq!(
            epoch0.as_ref(),
            cuts_of_epoch(&p, &random, 0).as_ref(),
            "an epoch's cuts depend on (seed, epoch) only, so a resumed run draws them again"
        );
        let other_seed = TrainConfig { seed: 8, ..config(true) };
        assert_ne!(observed(&epoch0), observed(&cuts_of_epoch(&p, &other_seed, 0)));
    }

    #[test]
    fn the_validation_carve_is_fixed_per_split_disjoint_and_never_everything() {
        let names: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let refs: Vec<&String> = names.iter().collect();
        let (train, val) = carve_validation(&refs, 0.1, "1");
        assert_eq!((train.len(), val.len()), (36, 4));
        assert!(val.iter().all(|v| !train.contains(v)));
        assert_eq!(carve_validation(&refs, 0.1, "1"), (train.clone(), val.clone()));
        assert_ne!(carve_validation(&refs, 0.1, "2").1, val, "each split its own videos");
        // training order is kept; off and tiny inputs carve nothing or leave one to train on
        assert!(
            train.windows(2).all(
                |w| refs.iter().position(|r| r == &w[0]) < refs.iter().position(|r| r == &w[1])
            )
        );
        assert_eq!(carve_validation(&refs, 0.0, "1").1.len(), 0);
        let (t, v) = carve_validation(&refs[..2], 0.49, "1");
        assert_eq!((t.len(), v.len()), (1, 1));
        assert_eq!(carve_validation(&refs[..1], 0.3, "1").0.len(), 1);
    }

    /// The toy examples and an untrained model of `cfg`.
    fn prepared_model(cfg: &TrainConfig) -> (Prepared, Model) {
        let p = prepared(cfg);
        let varmap = VarMap::new();
        let model = checkpoint::build(
            &model_config(cfg, &p, 384),
            init::seeded_var_builder(&varmap, cfg.seed, &Device::Cpu),
        )
        .unwrap();
        (p, model)
    }

    /// A batch of the first four examples.
    fn first_batch(cfg: &TrainConfig, p: &Prepared) -> examples::Batch {
        let batch_examples: Vec<&Example> = p.examples.iter().take(4).collect();
        examples::collate(
            &batch_examples,
            &TokenSource::OneHot { classes: p.classes },
            cfg.queries,
            cfg.transition_weight,
            &Device::Cpu,
        )
        .unwrap()
    }

    #[test]
    fn confidence_mixing_weighs_the_parts_by_the_mean_token_weight() {
        let cfg =
            TrainConfig { model: ModelKind::Mmant, use_fine: true, queries: 8, ..config(false) };
        let (p, model) = prepared_model(&cfg);
        let batch_examples: Vec<&Example> = p.examples.iter().take(4).collect();
        let batch = first_batch(&cfg, &p);
        // w̄ counted here from the argmaxes, token by token
        let out = model.forward(&batch.x, Some(&batch.mask), None).unwrap();
        let argmax = |t: &Tensor| t.argmax(D::Minus1).unwrap().to_vec2::<u32>().unwrap();
        let (seg, fine) = (argmax(&out.seg), argmax(out.fine.as_ref().unwrap()));
        let (mut n, mut weight) = (0.0, 0.0);
        for (b, e) in batch_examples.iter().enumerate() {
            for t in 0..e.past.len() {
                n += 1.0;
                weight +=
                    if seg[b][t] == e.past[t] && fine[b][t] == e.past_fine[t] { 1.0 } else { 5.0 };
            }
        }
        let w_bar: f64 = weight / n;
        assert!(w_bar > 1.0, "an untrained model is wrong somewhere");
        let mixed = LossWeights { confidence_mixing: true, ..LossWeights::PLAIN };
        let parts = batch_losses(&model, &batch, None, mixed).unwrap().parts;
        let main = parts[1] + parts[2] + parts[3];
        let expected = (1.0 - 1.0 / w_bar) * parts[4] + main / w_bar;
        assert!((parts[0] - expected).abs() < 1e-4 * expected, "{} vs {expected}", parts[0]);
        let plain = batch_losses(&model, &batch, None, LossWeights::PLAIN).unwrap().parts;
        assert!((plain[0] - (main + plain[4])).abs() < 1e-4 * plain[0]);
    }

    #[test]
    fn the_duration_weight_scales_only_the_duration_loss() {
        let cfg = config(false);
        let (p, model) = prepared_model(&cfg);
        let batch = first_batch(&cfg, &p);
        let one = batch_losses(&model, &batch, None, LossWeights::PLAIN).unwrap().parts;
        let three =
            batch_losses(&model, &batch, None, LossWeights { duration: 3.0, ..LossWeights::PLAIN })
                .unwrap()
                .parts;
        assert!(one[3] > 1e-4, "an untrained model's duration loss: {}", one[3]);
        assert_eq!(one[1..], three[1..], "the parts are reported unweighted");
        assert!(
            (three[0] - one[0] - 2.0 * one[3]).abs() < 1e-5,
            "total {} → {}, duration {}",
            one[0],
            three[0],
            one[3]
        );
        // runs started before the option must still resume (their train-config.json lacks it)
        assert!(serde_json::to_value(&cfg).unwrap().get("duration_weight").is_none());
        assert_eq!(
            serde_json::to_value(TrainConfig { duration_weight: 10.0, ..config(false) }).unwrap()["duration_weight"],
            10.0
        );
    }

    #[test]
    fn random_cuts_stay_out_of_the_saved_settings_when_off() {
        // runs started before the option must still resume (their train-config.json lacks it)
        let off = serde_json::to_value(config(false)).unwrap();
        assert!(off.get("random_cuts").is_none());
        assert_eq!(serde_json::to_value(config(true)).unwrap()["random_cuts"], true);
    }
}
