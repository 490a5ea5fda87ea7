//! What `--resume` needs beyond the checkpoint: the optimizer's moments, the dropout generator's
//! position and the run's configuration, so that a run stopped after epoch E and resumed ends
//! with the weights an uninterrupted run would have (on the CPU; on a GPU the device generator's
//! dropout stream is not saved).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{Context, TrainError, invalid};
use candle_core::{Device, Tensor};

use super::TrainConfig;
use super::optim::AdamW;
use crate::model::blocks::Dropout;

type Result<T> = std::result::Result<T, TrainError>;

pub fn state_path(out: &Path) -> PathBuf {
    out.join("train-state.safetensors")
}

pub fn config_path(out: &Path) -> PathBuf {
    out.join("train-config.json")
}

const EPOCH: &str = "epoch";
const DROPOUT: &str = "dropout.words";

/// Writes the state after `epoch` epochs (temp file + rename).
pub fn save_state(out: &Path, epoch: usize, opt: &AdamW, drop: &Dropout) -> Result<()> {
    let mut tensors = opt.state()?;
    tensors.insert(EPOCH.into(), Tensor::new(&[epoch as i64], &Device::Cpu)?);
    let words = i64::try_from(drop.position()).map_err(|e| {
        TrainError::Invalid(format!("the dropout generator's position does not fit 63 bits: {e}"))
    })?;
    tensors.insert(DROPOUT.into(), Tensor::new(&[words], &Device::Cpu)?);
    let path = state_path(out);
    let tmp = path.with_extension("safetensors.tmp");
    candle_core::safetensors::save(&tensors, &tmp)
        .context_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)
        .context_with(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

fn scalar(path: &Path, tensors: &HashMap<String, Tensor>, key: &str) -> Result<i64> {
    let Some(t) = tensors.get(key) else {
        invalid!("{}: expected a tensor '{key}', found none", path.display())
    };
    t.flatten_all()?.to_vec1::<i64>().ok().and_then(|v| v.first().copied()).ok_or_else(|| {
        TrainError::Invalid(format!(
            "{}: expected '{key}' to hold one integer, found {:?} {:?}",
            path.display(),
            t.dtype(),
            t.dims()
        ))
    })
}

/// Restores the optimizer and the dropout generator from the state saved with the checkpoint of
/// `epoch` epochs. Returns false (and changes nothing) when the run has no state file: runs from
/// before it existed resume with fresh moments, as they used to.
pub fn load_state(out: &Path, epoch: usize, opt: &mut AdamW, drop: &Dropout) -> Result<bool> {
    let path = state_path(out);
    if !path.exists() {
        return Ok(false);
    }
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu)
        .context_with(|| format!("reading {}", path.display()))?;
    let saved_epoch = scalar(&path, &tensors, EPOCH)?;
    if saved_epoch != epoch as i64 {
        invalid!(
            "{}: expected the state after epoch {epoch} (the checkpoint's), found the state after epoch {saved_epoch}: the run stopped while writing them; resuming would not continue it exactly (delete {} to resume with fresh optimizer moments)",
            path.display(),
            path.display()
        );
    }
    opt.restore(&tensors).map_err(|e| {
        TrainError::Invalid(format!(
            "{}: the optimizer state does not fit this model: {e}",
            path.display()
        ))
    })?;
    drop.set_position(scalar(&path, &tensors, DROPOUT)? as u128);
    Ok(true)
}

/// The settings that decide a run's trajectory: every field of the configuration but where it
/// writes, how often it is scored, and where this invocation stops.
fn trajectory(cfg: &TrainConfig) -> serde_json::Map<String, serde_json::Value> {
    let serde_json::Value::Object(mut m) =
        serde_json::to_value(cfg).expect("the configuration serialises")
    else {
        unreachable!("a struct serialises to an object")
    };
    for k in ["out", "resume", "held_out_every", "stop_after"] {
        m.remove(k);
    }
    m
}

/// A fresh run in `cfg.out`: records its settings and removes an earlier run's state, which would
/// otherwise pair with this run's settings if it stopped before its first epoch was saved.
pub fn start_run(cfg: &TrainConfig) -> Result<()> {
    let stale = state_path(&cfg.out);
    if stale.exists() {
        std::fs::remove_file(&stale)
            .context_with(|| format!("removing an earlier run's {}", stale.display()))?;
    }
    let path = config_path(&cfg.out);
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(trajectory(cfg)))
        .expect("a JSON object serialises");
    crate::fsutil::write_atomic(&path, text.as_bytes())
        .context_with(|| format!("writing {}", path.display()))
}

/// Refuses to resume with settings that would make the rest of the run another run (a different
/// schedule length, batch size, seed…). Runs from before the file existed pass unchecked.
pub fn check_config(cfg: &TrainConfig) -> Result<()> {
    let path = config_path(&cfg.out);
    let Ok(bytes) = std::fs::read(&path) else { return Ok(()) };
    let saved: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| {
            TrainError::Invalid(format!(
                "{}: expected the run's configuration as a JSON object: {e}",
                path.display()
            ))
        })?;
    let now = trajectory(cfg);
    let differences: Vec<String> = now
        .iter()
        .filter(|(k, v)| saved.get(*k) != Some(*v))
        .map(|(k, v)| {
            format!(
                "{k}: the run has {}, this command {v}",
                saved.get(k).map_or("nothing".into(), |s| s.to_string())
            )
        })
        .collect();
    if !differences.is_empty() {
        invalid!(
            "--resume: {} was started with other settings ({}); resume with the run's settings, or start a new run in another folder",
            cfg.out.display(),
            differences.join("; ")
        );
    }
    Ok(())
}

/// Keeps the log lines of the epochs the checkpoint has: a run stopped after writing a
/// checkpoint but before its log line, or resumed from an older copy, logs each epoch once.
pub fn trim_log(log: &Path, epochs: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(log) else { return Ok(()) };
    let mut kept = String::new();
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            TrainError::Invalid(format!(
                "{} line {}: expected a JSON epoch record: {e}",
                log.display(),
                i + 1
            ))
        })?;
        if v["epoch"].as_u64().is_some_and(|e| e as usize <= epochs) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    crate::fsutil::write_atomic(log, kept.as_bytes())
        .context_with(|| format!("writing {}", log.display()))
}
