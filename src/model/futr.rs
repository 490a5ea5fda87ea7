//! FUTR (Gong et al., CVPR 2022), the baseline of m&m-Ant: a transformer encoder over the observed
//! tokens with a segmentation head, and a decoder whose M learned queries predict the future
//! actions (with a NONE class) and their relative durations. See ../shared/docs/model_spec.md §2.

use candle_core::{DType, Result, Tensor};
use candle_nn::{Embedding, Init, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::Output;
use super::blocks::{
    DecoderLayer, Dropout, EncoderLayer, LayerNorm, Linear, SegmentationQueries, linear_xavier,
    valid_lengths,
};
use super::init::xavier_uniform;

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
    /// Variant, not FUTR's: number the positions from the end of each example's observation
    /// (the last observed token gets P[0]) instead of from its start. FUTR's positions say how
    /// far a token is from the start, so a query has to learn which of them is the last, the one
    /// that says what is in progress (docs/results/anticipation-breakfast.md).
    #[serde(default)]
    pub end_relative_positions: bool,
    /// Variant, not FUTR's: the decoder's queries start from the segmentation head's reading of
    /// the last observed token instead of from zeros (blocks::SegmentationQueries).
    #[serde(default)]
    pub queries_from_segmentation: bool,
}

impl Config {
    /// FUTR's Breakfast settings (D 128, 2 encoder layers, 1 decoder layer, M 8).
    pub fn breakfast(input_dim: usize, num_classes: usize) -> Self {
        Config {
            input_dim,
            num_classes,
            d_model: 128,
            heads: 8,
            encoder_layers: 2,
            decoder_layers: 1,
            queries: 8,
            ffn_mult: 4,
            dropout: 0.1,
            max_pos_len: 2000,
            end_relative_positions: false,
            queries_from_segmentation: false,
        }
    }

    /// FUTR's 50 Salads settings (D 512, 2 decoder layers, M 20, max_pos_len 3100).
    pub fn salads(input_dim: usize, num_classes: usize) -> Self {
        Config {
            d_model: 512,
            decoder_layers: 2,
            queries: 20,
            max_pos_len: 3100,
            ..Self::breakfast(input_dim, num_classes)
        }
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
    seg_to_query: Option<SegmentationQueries>,
}

impl Futr {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let ffn = d * cfg.ffn_mult;
        let pos_shape = [1, cfg.max_pos_len, d];
        let query = vb.pp("query_embed").get_with_hints(
            (cfg.queries, d),
            "weight",
            Init::Randn { mean: 0.0, stdev: 1.0 },
        )?;
        Ok(Futr {
            input_embed: linear_xavier(cfg.input_dim, d, false, vb.pp("input_embed"))?,
            pos_embedding: vb.get_with_hints(
                pos_shape.as_slice(),
                "pos_embedding",
                xavier_uniform(&pos_shape),
            )?,
            encoder: (0..cfg.encoder_layers)
                .map(|i| EncoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("encoder.layers.{i}"))))
                .collect::<Result<_>>()?,
            query_embed: Embedding::new(query, d),
            decoder: (0..cfg.decoder_layers)
                .map(|i| DecoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("decoder.layers.{i}"))))
                .collect::<Result<_>>()?,
            decoder_norm: LayerNorm::new(d, vb.pp("decoder.norm"))?,
            fc_seg: linear_xavier(d, cfg.num_classes, false, vb.pp("fc_seg"))?,
            fc: linear_xavier(d, cfg.num_classes + 1, false, vb.pp("fc"))?,
            fc_len: linear_xavier(d, 1, false, vb.pp("fc_len"))?,
            seg_to_query: cfg
                .queries_from_segmentation
                .then(|| SegmentationQueries::new(cfg.num_classes, d, vb.pp("seg_to_query")))
                .transpose()?,
            cfg: cfg.clone(),
        })
    }

    pub fn set_attention(&mut self, how: super::AttentionImpl) {
        self.encoder.iter_mut().for_each(|l| l.set_attention(how));
        self.decoder.iter_mut().for_each(|l| l.set_attention(how));
    }

    /// The positional embedding of each token, [1,S,D] from the start (FUTR) or [B,S,D] from
    /// the end of each example's valid tokens (padding follows them and gets P[0]: it is masked).
    fn positions(&self, b: usize, s: usize, mask: Option<&Tensor>) -> Result<Tensor> {
        if !self.cfg.end_relative_positions {
            return self.pos_embedding.narrow(1, 0, s);
        }
        let valid = valid_lengths(mask, b, s)?;
        let index: Vec<u32> = valid
            .iter()
            .flat_map(|&n| (0..s).map(move |k| n.saturating_sub(k + 1) as u32))
            .collect();
        let index = Tensor::from_vec(index, b * s, self.pos_embedding.device())?;
        self.pos_embedding.squeeze(0)?.index_select(&index, 0)?.reshape((b, s, self.cfg.d_model))
    }

    /// x [B,S,input_dim]; mask [B,S] u8 (1 = padding). `drop` Some = training.
    pub fn forward(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        drop: Option<&Dropout>,
    ) -> Result<Output> {
        let (b, s, _) = x.dims3()?;
        if s > self.cfg.max_pos_len {
            candle_core::bail!(
                "{s} observed tokens exceed the model's {} positions",
                self.cfg.max_pos_len
            );
        }
        let pos = self.positions(b, s, mask)?;
        let mut h = super::relu::relu_dropout(&self.input_embed.forward(x)?, None)?;
        for layer in &self.encoder {
            h = layer.forward(&h, &pos, mask, drop)?;
        }
        let seg = self.fc_seg.forward(&h)?;
        let d = self.cfg.d_model;
        let m = self.cfg.queries;
        let qe =
            self.query_embed.embeddings().unsqueeze(0)?.broadcast_as((b, m, d))?.contiguous()?;
        let mut y = match &self.seg_to_query {
            None => Tensor::zeros((b, m, d), DType::F32, x.device())?,
            Some(from_seg) => from_seg.forward(&seg, &valid_lengths(mask, b, s)?, m)?,
        };
        for layer in &self.decoder {
            y = layer.forward(&y, &qe, &h, &pos, mask, drop)?;
        }
        let y = self.decoder_norm.forward_t(&y, drop.is_some())?;
        Ok(Output {
            seg,
            action: self.fc.forward(&y)?,
            duration: self.fc_len.forward(&y)?.squeeze(2)?,
            fine: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing;
    use candle_core::Device;

    fn model(end_relative: bool) -> (Futr, candle_nn::VarMap) {
        model_with(|c| c.end_relative_positions = end_relative)
    }

    fn model_with(variant: impl Fn(&mut Config)) -> (Futr, candle_nn::VarMap) {
        let mut cfg = Config::breakfast(5, 5);
        cfg.d_model = 16;
        cfg.max_pos_len = 32;
        variant(&mut cfg);
        let varmap = candle_nn::VarMap::new();
        let m =
            Futr::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        (m, varmap)
    }

    #[test]
    fn end_relative_positions_count_back_from_each_examples_last_token() {
        let (m, _) = model(true);
        let mask = Tensor::new(&[[0u8, 0, 0, 1, 1], [0, 0, 0, 0, 0]], &Device::Cpu).unwrap();
        let pos = m.positions(2, 5, Some(&mask)).unwrap().to_vec3::<f32>().unwrap();
        let table = m.pos_embedding.squeeze(0).unwrap().to_vec2::<f32>().unwrap();
        let rows = |ex: &Vec<Vec<f32>>| {
            ex.iter().map(|p| table.iter().position(|t| t == p).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(rows(&pos[0]), vec![2, 1, 0, 0, 0]);
        assert_eq!(rows(&pos[1]), vec![4, 3, 2, 1, 0]);
        // FUTR's own numbering, from the start
        let (futr, _) = model(false);
        assert_eq!(futr.positions(2, 5, Some(&mask)).unwrap().dims(), [1, 5, 16]);
    }

    #[test]
    fn a_padded_example_is_anticipated_as_it_is_alone() {
        // counting back from the batch's length instead of the example's would break this, and
        // so would reading the segmentation at the batch's last token instead of the example's
        let futr = |m: (Futr, _)| crate::model::Model::Futr(m.0);
        testing::a_padded_example_is_anticipated_as_it_is_alone(&futr(model(true)), 5);
        testing::a_padded_example_is_anticipated_as_it_is_alone(
            &futr(model_with(|c| c.queries_from_segmentation = true)),
            5,
        );
    }

    #[test]
    fn checkpoints_from_before_the_variants_load_as_futr() {
        let cfg = Config::breakfast(5, 5);
        let mut old = serde_json::to_value(&cfg).unwrap();
        old.as_object_mut().unwrap().remove("end_relative_positions");
        old.as_object_mut().unwrap().remove("queries_from_segmentation");
        assert_eq!(serde_json::from_value::<Config>(old).unwrap(), cfg);
    }

    #[test]
    fn queries_from_segmentation_read_the_segmentation_head_without_training_it() {
        testing::queries_from_segmentation_read_the_segmentation_head_without_training_it(
            5,
            |on| {
                let (m, varmap) = model_with(|c| c.queries_from_segmentation = on);
                (crate::model::Model::Futr(m), varmap)
            },
        );
    }
}
