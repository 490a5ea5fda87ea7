//! FUTR checkpoints of the official PyTorch code (github.com/gongda0e/FUTR) → our FUTR.
//!
//! The official model is saved through `nn.DataParallel` (every name starts with `module.`),
//! its DETR-style transformer sits under `transformer.`, and it keeps an unused sinusoid buffer
//! (`pos_enc.pos_table`, 3 000 rows). Below those, its layers carry the names ours carry (packed
//! `in_proj_weight`, `linear1`, `norm1`, …), so the import is a rename, a check of every name and
//! shape against our model built from the inferred configuration, and nothing else. A model
//! trained on ground-truth labels (`--input_type gt`) embeds them with `gt_emb` (C + 3 rows);
//! ours takes one-hot rows through `input_embed`, so `gt_emb`'s first C rows become its weight.
//!
//! What the shapes do not say: the number of heads (the official scripts always use 8).

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::futr;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("expected an official FUTR state dict: {0}")]
    Shape(String),
    #[error("the state dict does not match FUTR with the inferred configuration: {0}")]
    Mismatch(String),
    #[error("{0}")]
    Candle(#[from] candle_core::Error),
}

/// What the imported model observes.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportedInput {
    Features { dim: usize },
    GtLabels { classes: usize },
}

/// An official checkpoint in our names, with its inferred configuration.
pub struct Imported {
    pub config: futr::Config,
    pub input: ImportedInput,
    pub tensors: BTreeMap<String, Tensor>,
    /// Official tensors not carried over, and why.
    pub dropped: Vec<String>,
}

fn dims<const N: usize>(
    t: &BTreeMap<String, Tensor>,
    name: &str,
) -> Result<[usize; N], ImportError> {
    let tensor = t.get(name).ok_or_else(|| ImportError::Shape(format!("no tensor {name:?}")))?;
    tensor.dims().try_into().map_err(|_| {
        ImportError::Shape(format!(
            "{name}: expected {N} dimensions, found shape {:?}",
            tensor.dims()
        ))
    })
}

fn layer_count(t: &BTreeMap<String, Tensor>, stack: &str) -> usize {
    let prefix = format!("{stack}.layers.");
    t.keys()
        .filter_map(|k| k.strip_prefix(&prefix)?.split('.').next()?.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

/// Renames, infers the configuration and checks every tensor against our FUTR.
pub fn futr_from_official(
    state: Vec<(String, Tensor)>,
    heads: usize,
) -> Result<Imported, ImportError> {
    let mut t = BTreeMap::new();
    let mut dropped = Vec::new();
    for (name, tensor) in state {
        let ours = name.strip_prefix("module.").unwrap_or(&name);
        let ours = ours.strip_prefix("transformer.").unwrap_or(ours).to_owned();
        if ours == "pos_enc.pos_table" {
            dropped.push(format!("{name} (a sinusoid buffer the official forward never uses)"));
            continue;
        }
        if t.insert(ours.clone(), tensor.to_dtype(DType::F32)?).is_some() {
            return Err(ImportError::Shape(format!("two tensors are named {ours:?} once renamed")));
        }
    }
    if !t.contains_key("fc_seg.weight") {
        return Err(ImportError::Shape(
            "no fc_seg: the model was trained without --seg, and ours always has a segmentation head".into(),
        ));
    }
    if !t.contains_key("fc.weight") || !t.contains_key("query_embed.weight") {
        return Err(ImportError::Shape(
            "no fc or query_embed: the model was trained without --anticipate".into(),
        ));
    }
    if !t.contains_key("pos_embedding") {
        return Err(ImportError::Shape(
            "no pos_embedding: the model was trained without --pos_emb, which our FUTR always has"
                .into(),
        ));
    }
    let [classes, d] = dims::<2>(&t, "fc_seg.weight")?;
    let input = if let Some(gt) = t.remove("gt_emb.weight") {
        // one-hot(k) · Wᵀ + 0 = gt_emb[k]: the first C rows, transposed (NONE, SOS, pad dropped)
        if gt.dims() != [classes + 3, d] {
            return Err(ImportError::Shape(format!(
                "gt_emb.weight: expected [{}, {d}] (C + 3 rows), found {:?}",
                classes + 3,
                gt.dims()
            )));
        }
        t.insert("input_embed.weight".into(), gt.narrow(0, 0, classes)?.t()?.contiguous()?);
        t.insert("input_embed.bias".into(), Tensor::zeros(d, DType::F32, &Device::Cpu)?);
        dropped.push("input_embed.* (untrained beside gt_emb, which replaces it)".into());
        dropped.push(format!("gt_emb.weight rows {classes}.. (NONE, start and padding tokens)"));
        ImportedInput::GtLabels { classes }
    } else {
        let [_, input_dim] = dims::<2>(&t, "input_embed.weight")?;
        ImportedInput::Features { dim: input_dim }
    };
    let [queries, _] = dims::<2>(&t, "query_embed.weight")?;
    let [_, max_pos_len, _] = dims::<3>(&t, "pos_embedding")?;
    let [ffn, _] = dims::<2>(&t, "encoder.layers.0.linear1.weight")?;
    if heads == 0 || d % heads != 0 {
        return Err(ImportError::Shape(format!("D = {d} is not divisible by {heads} heads")));
    }
    if ffn % d != 0 {
        return Err(ImportError::Shape(format!(
            "feed-forward width {ffn} is not a multiple of D = {d}"
        )));
    }
    let config = futr::Config {
        input_dim: match input {
            ImportedInput::Features { dim } => dim,
            ImportedInput::GtLabels { classes } => classes,
        },
        num_classes: classes,
        d_model: d,
        heads,
        encoder_layers: layer_count(&t, "encoder"),
        decoder_layers: layer_count(&t, "decoder"),
        queries,
        ffn_mult: ffn / d,
        dropout: 0.1,
        max_pos_len,
        end_relative_positions: false,
        queries_from_segmentation: false,
    };
    // our model built from that configuration names every tensor it needs, with its shape
    let schema = VarMap::new();
    futr::Futr::new(&config, VarBuilder::from_varmap(&schema, DType::F32, &Device::Cpu))?;
    let want: BTreeMap<String, Vec<usize>> = schema
        .data()
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect();
    let mut problems = Vec::new();
    for (k, shape) in &want {
        match t.get(k) {
            None => problems.push(format!("missing {k} {shape:?}")),
            Some(x) if x.dims() != shape.as_slice() => {
                problems.push(format!("{k}: expected {shape:?}, found {:?}", x.dims()))
            }
            Some(_) => {}
        }
    }
    for k in t.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("unexpected {k} {:?}", t[k].dims()));
    }
    if !problems.is_empty() {
        return Err(ImportError::Mismatch(problems.join("; ")));
    }
    Ok(Imported { config, input, tensors: t, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Module;

    /// Our FUTR's own tensors under the official names.
    fn official_state(cfg: &futr::Config) -> Vec<(String, Tensor)> {
        let vm = VarMap::new();
        futr::Futr::new(cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).unwrap();
        let data = vm.data().lock().unwrap();
        let mut out: Vec<(String, Tensor)> = data
            .iter()
            .map(|(k, v)| {
                let k = if k.starts_with("encoder.") || k.starts_with("decoder.") {
                    format!("transformer.{k}")
                } else {
                    k.clone()
                };
                (format!("module.{k}"), v.as_tensor().clone())
            })
            .collect();
        out.push((
            "module.pos_enc.pos_table".into(),
            Tensor::zeros((1, 3000, cfg.d_model), DType::F32, &Device::Cpu).unwrap(),
        ));
        out
    }

    fn cfg() -> futr::Config {
        let mut c = futr::Config::breakfast(6, 4);
        c.d_model = 16;
        c.max_pos_len = 30;
        c.decoder_layers = 2;
        c
    }

    #[test]
    fn the_configuration_is_read_from_the_shapes() {
        let imported = futr_from_official(official_state(&cfg()), 8).unwrap();
        assert_eq!(imported.config, cfg());
        assert_eq!(imported.input, ImportedInput::Features { dim: 6 });
        assert_eq!(imported.dropped.len(), 1);
    }

    #[test]
    fn what_does_not_fit_is_refused_with_the_names() {
        let mut state = official_state(&cfg());
        state.retain(|(k, _)| k != "module.transformer.decoder.norm.bias");
        state.push((
            "module.extra.weight".into(),
            Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
        ));
        let e = futr_from_official(state, 8).err().unwrap().to_string();
        assert!(
            e.contains("missing decoder.norm.bias [16]")
                && e.contains("unexpected extra.weight [3]"),
            "{e}"
        );
        let e = futr_from_official(official_state(&cfg()), 5).err().unwrap().to_string();
        assert!(e.contains("D = 16 is not divisible by 5 heads"), "{e}");
        let mut state = official_state(&cfg());
        state.retain(|(k, _)| !k.contains("fc_seg"));
        let e = futr_from_official(state, 8).err().unwrap().to_string();
        assert!(e.contains("trained without --seg"), "{e}");
    }

    #[test]
    fn a_ground_truth_model_embeds_one_hot_rows_as_its_gt_emb() {
        let mut state = official_state(&cfg());
        let gt = Tensor::randn(0f32, 1.0, (4 + 3, 16), &Device::Cpu).unwrap();
        state.push(("module.gt_emb.weight".into(), gt.clone()));
        let imported = futr_from_official(state, 8).unwrap();
        assert_eq!(imported.input, ImportedInput::GtLabels { classes: 4 });
        assert_eq!(imported.config.input_dim, 4);
        let w = &imported.tensors["input_embed.weight"];
        let b = &imported.tensors["input_embed.bias"];
        let lin = candle_nn::Linear::new(w.clone(), Some(b.clone()));
        let onehot = Tensor::eye(4, DType::F32, &Device::Cpu).unwrap();
        let got = lin.forward(&onehot).unwrap();
        let want = gt.narrow(0, 0, 4).unwrap();
        let diff =
            (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-6, "{diff}");
    }
}
