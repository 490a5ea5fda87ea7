//! FUTR (Gong et al., CVPR 2022), the baseline of m&m-Ant: a transformer encoder over the observed
//! tokens with a segmentation head, and a decoder whose M learned queries predict the future
//! actions (with a NONE class) and their relative durations. See ../shared/docs/model_spec.md §2.

use candle_core::{DType, Result, Tensor};
use candle_nn::{Embedding, Init, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::blocks::{DecoderLayer, Dropout, EncoderLayer, LayerNorm, Linear, linear_xavier};
use super::init::xavier_uniform;
use super::Output;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Dimension of an input token (feature dimension, or the number of classes for one-hot labels).
    pub input_dim: usize,
    /// Action classes C (the NONE class is C).
    pub num_classes: usize,
    pub d_model: usize,
    pub heads: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    /// Number of action queries M.
    pub queries: usize,
    pub ffn_mult: usize,
    pub dropout: f32,
    pub max_pos_len: usize,
}

impl Config {
    /// FUTR's Breakfast settings (D 128, 2 encoder layers, 1 decoder layer, M 8).
    pub fn breakfast(input_dim: usize, num_classes: usize) -> Self {
        Config { input_dim, num_classes, d_model: 128, heads: 8, encoder_layers: 2, decoder_layers: 1, queries: 8, ffn_mult: 4, dropout: 0.1, max_pos_len: 2000 }
    }

    /// FUTR's 50 Salads settings (D 512, 2 decoder layers, M 20, max_pos_len 3100).
    pub fn salads(input_dim: usize, num_classes: usize) -> Self {
        Config { d_model: 512, decoder_layers: 2, queries: 20, max_pos_len: 3100, ..Self::breakfast(input_dim, num_classes) }
    }
}

#[derive(Debug, Clone)]
pub struct Futr {
    pub cfg: Config,
    input_embed: Linear,
    pos_embedding: Tensor,
    encoder: Vec<EncoderLayer>,
    query_embed: Embedding,
    decoder: Vec<DecoderLayer>,
    decoder_norm: LayerNorm,
    fc_seg: Linear,
    fc: Linear,
    fc_len: Linear,
}

impl Futr {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let ffn = d * cfg.ffn_mult;
        let pos_shape = [1, cfg.max_pos_len, d];
        let query = vb.pp("query_embed").get_with_hints((cfg.queries, d), "weight", Init::Randn { mean: 0.0, stdev: 1.0 })?;
        Ok(Futr {
            input_embed: linear_xavier(cfg.input_dim, d, false, vb.pp("input_embed"))?,
            pos_embedding: vb.get_with_hints(pos_shape.as_slice(), "pos_embedding", xavier_uniform(&pos_shape))?,
            encoder: (0..cfg.encoder_layers).map(|i| EncoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("encoder.layers.{i}")))).collect::<Result<_>>()?,
            query_embed: Embedding::new(query, d),
            decoder: (0..cfg.decoder_layers).map(|i| DecoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("decoder.layers.{i}")))).collect::<Result<_>>()?,
            decoder_norm: LayerNorm::new(d, vb.pp("decoder.norm"))?,
            fc_seg: linear_xavier(d, cfg.num_classes, false, vb.pp("fc_seg"))?,
            fc: linear_xavier(d, cfg.num_classes + 1, false, vb.pp("fc"))?,
            fc_len: linear_xavier(d, 1, false, vb.pp("fc_len"))?,
            cfg: cfg.clone(),
        })
    }

    pub fn set_attention(&mut self, how: super::AttentionImpl) {
        self.encoder.iter_mut().for_each(|l| l.set_attention(how));
        self.decoder.iter_mut().for_each(|l| l.set_attention(how));
    }

    /// x [B,S,input_dim]; mask [B,S] u8 (1 = padding). `drop` Some = training.
    pub fn forward(&self, x: &Tensor, mask: Option<&Tensor>, drop: Option<&Dropout>) -> Result<Output> {
        let (b, s, _) = x.dims3()?;
        if s > self.cfg.max_pos_len {
            candle_core::bail!("{s} observed tokens exceed the model's {} positions", self.cfg.max_pos_len);
        }
        let pos = self.pos_embedding.narrow(1, 0, s)?;
        let mut h = self.input_embed.forward(x)?.relu()?;
        for layer in &self.encoder {
            h = layer.forward(&h, &pos, mask, drop)?;
        }
        let seg = self.fc_seg.forward(&h)?;
        let d = self.cfg.d_model;
        let m = self.cfg.queries;
        let qe = self.query_embed.embeddings().unsqueeze(0)?.broadcast_as((b, m, d))?.contiguous()?;
        let mut y = Tensor::zeros((b, m, d), DType::F32, x.device())?;
        for layer in &self.decoder {
            y = layer.forward(&y, &qe, &h, &pos, mask, drop)?;
        }
        let y = self.decoder_norm.forward_t(&y, drop.is_some())?;
        Ok(Output { seg, action: self.fc.forward(&y)?, duration: self.fc_len.forward(&y)?.squeeze(2)?, fine: None })
    }
}
