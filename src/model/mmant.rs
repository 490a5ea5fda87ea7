//! m&m-Ant (ICIP 2025): FUTR's encoder as the video segmentation module (coarse labels per frame),
//! a fine-grained label generator (attention from the segmentation output to the input tokens,
//! per-frame fine logits, trained with cross-entropy and the temporal consistency loss), a text
//! modality (frozen sentence embeddings of the predicted fine labels' names), and a multi-modal
//! anticipation module (visual and text tokens concatenated → self-attention → pooled to M
//! queries → cross-attention to the segmentation module's output). This is the recommended design
//! of ../shared/docs/model_spec.md §3 [rec]; the official code does not run.

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::{Embedding, Init, Module, VarBuilder};
use serde::{Deserialize, Serialize};

use super::Output;
use super::blocks::{
    DecoderLayer, Dropout, EncoderLayer, LayerNorm, Linear, MultiHeadAttention,
    SegmentationQueries, linear_xavier, sinusoidal_table, valid_lengths,
};
use super::init::xavier_uniform;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub input_dim: usize,
    /// Coarse (anticipated) classes C; NONE is C.
    pub num_classes: usize,
    /// Fine classes K (= C where the dataset has no fine level).
    pub fine_classes: usize,
    /// Dimension of the label-name sentence embeddings (384 for all-MiniLM-L6-v2).
    pub text_dim: usize,
    pub d_model: usize,
    pub heads: usize,
    /// Layers of the video segmentation module (L_seg).
    pub seg_layers: usize,
    /// Decoder layers of the anticipation module (L_ant).
    pub ant_layers: usize,
    pub queries: usize,
    pub ffn_mult: usize,
    pub dropout: f32,
    pub max_pos_len: usize,
    /// Ablation: the text modality.
    pub use_text: bool,
    /// Ablation: the fine-grained generator; off = FUTR's learned queries.
    pub use_fine: bool,
    /// Variant, not in the paper: add FUTR's learned per-slot query embeddings to the pooled
    /// fused tokens. Pooled bin i summarises the i-th M-th of the observation, so without this
    /// no query knows which future segment it stands for (docs/results/query-ablation.md).
    #[serde(default)]
    pub query_slots: bool,
    /// Add the sinusoidal position table to the input tokens, as the m&m-Ant code does (FUTR
    /// does not). Off is an ablation: with one-hot label inputs the table (rms 0.71) is several
    /// times louder than the embedded labels (about 0.1–0.2); taking it away did not lift the
    /// anticipation (docs/results/query-ablation.md).
    #[serde(default = "default_true")]
    pub input_sinusoid: bool,
    /// Variant, not in the paper: the decoder's queries start from the segmentation module's
    /// reading of the last observed token instead of from zeros (blocks::SegmentationQueries);
    /// the pooled fused tokens stay their positional part.
    #[serde(default)]
    pub queries_from_segmentation: bool,
    /// Variant, not in the paper: pooled bin i covers the i-th M-th of the observation counted
    /// from its end, so the first query summarises the most recent tokens (the paper's pool,
    /// an adaptive average pool, puts the oldest first).
    #[serde(default)]
    pub pool_recent_first: bool,
    /// Variant from a commented-out line of the official code: add the sinusoidal table to the
    /// fused tokens before pooling, so that each pooled query carries its bin's position.
    #[serde(default)]
    pub pool_sinusoid: bool,
    /// Variant, not in the paper: scale the embedded inputs by √D before the sinusoidal table
    /// is added (as the transformer tutorial the official `position.py` comes from does): the
    /// class-dependent part of ReLU(W·onehot) is otherwise 6–12 times quieter than the table.
    #[serde(default)]
    pub embed_scale: bool,
}

fn default_true() -> bool {
    true
}

impl Config {
    /// Floating-point operations of the attention products (Q·Kᵀ and P·V) in one forward pass
    /// at `s` observed tokens: the encoder's self-attention, the fine generator's attention, the
    /// fusion layer's self-attention over 2s tokens (visual and text) and the decoder's cross-
    /// attention. The part of the forward that grows with s².
    pub fn attention_flops(&self, s: usize) -> f64 {
        let (s, d, m) = (s as f64, self.d_model as f64, self.queries as f64);
        let unit = 4.0 * s * s * d; // two products of s × s × d multiply-adds
        let mut flops = self.seg_layers as f64 * unit;
        if self.use_fine {
            flops += unit; // the fine generator
            flops += if self.use_text { 4.0 * unit } else { unit }; // fusion over 2s (or s) tokens
        }
        flops + self.ant_layers as f64 * (4.0 * m * s * d + 4.0 * m * m * d)
    }

    /// The paper's settings: D 128 (512 for 50 Salads), L_seg 2, L_ant 1, M 8.
    pub fn paper(
        input_dim: usize,
        num_classes: usize,
        fine_classes: usize,
        text_dim: usize,
        d_model: usize,
    ) -> Self {
        Config {
            input_dim,
            num_classes,
            fine_classes,
            text_dim,
            d_model,
            heads: 8,
            seg_layers: 2,
            ant_layers: 1,
            queries: 8,
            ffn_mult: 4,
            dropout: 0.1,
            max_pos_len: 4000,
            use_text: true,
            use_fine: true,
            query_slots: false,
            input_sinusoid: true,
            queries_from_segmentation: false,
            pool_recent_first: false,
            pool_sinusoid: false,
            embed_scale: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MmAnt {
    pub cfg: Config,
    input_embed: Linear,
    pos_embedding: Tensor,
    sinusoid: Option<Tensor>,
    encoder: Vec<EncoderLayer>,
    fc_seg: Linear,
    fine_attn: Option<MultiHeadAttention>,
    fc_fine: Option<Linear>,
    /// Frozen [K, text_dim] label-name embeddings.
    text_table: Option<Tensor>,
    text_proj: Option<Linear>,
    modality: Option<Tensor>,
    fusion: Option<EncoderLayer>,
    query_embed: Option<Embedding>,
    decoder: Vec<DecoderLayer>,
    decoder_norm: LayerNorm,
    fc: Linear,
    fc_len: Linear,
    seg_to_query: Option<SegmentationQueries>,
}

/// The masked adaptive average pool as a matrix: row i of sample b averages the valid tokens
/// [⌊i·L/M⌋, ⌈(i+1)·L/M⌉) where L is the sample's valid length; with `recent_first` the rows
/// come in the opposite order (row 0 averages the last bin). Returns [B, M, S].
pub fn pool_matrix(
    lengths: &[usize],
    s: usize,
    m: usize,
    recent_first: bool,
    dev: &Device,
) -> Result<Tensor> {
    let mut w = vec![0f32; lengths.len() * m * s];
    for (b, &len) in lengths.iter().enumerate() {
        if len == 0 {
            continue;
        }
        for i in 0..m {
            let lo = (i * len) / m;
            let hi = ((i + 1) * len).div_ceil(m).min(len).max(lo + 1);
            let n = (hi - lo) as f32;
            let row = if recent_first { m - 1 - i } else { i };
            for t in lo..hi {
                w[(b * m + row) * s + t] = 1.0 / n;
            }
        }
    }
    Tensor::from_vec(w, (lengths.len(), m, s), dev)
}

impl MmAnt {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let d = cfg.d_model;
        let ffn = d * cfg.ffn_mult;
        let pos_shape = [1, cfg.max_pos_len, d];
        let fine = cfg.use_fine;
        let text = fine && cfg.use_text;
        Ok(MmAnt {
            input_embed: linear_xavier(cfg.input_dim, d, false, vb.pp("input_embed"))?,
            pos_embedding: vb.get_with_hints(
                pos_shape.as_slice(),
                "pos_embedding",
                xavier_uniform(&pos_shape),
            )?,
            sinusoid: (cfg.input_sinusoid || cfg.pool_sinusoid)
                .then(|| sinusoidal_table(cfg.max_pos_len, d, vb.device()))
                .transpose()?,
            encoder: (0..cfg.seg_layers)
                .map(|i| EncoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("encoder.layers.{i}"))))
                .collect::<Result<_>>()?,
            fc_seg: linear_xavier(d, cfg.num_classes, false, vb.pp("fc_seg"))?,
            fine_attn: fine
                .then(|| MultiHeadAttention::new(d, cfg.heads, vb.pp("fine_attn")))
                .transpose()?,
            fc_fine: fine
                .then(|| linear_xavier(d, cfg.fine_classes, false, vb.pp("fc_fine")))
                .transpose()?,
            text_table: text
                .then(|| {
                    vb.get_with_hints(
                        (cfg.fine_classes, cfg.text_dim),
                        "text_table",
                        Init::Const(0.0),
                    )
                })
                .transpose()?,
            text_proj: text
                .then(|| linear_xavier(cfg.text_dim, d, false, vb.pp("text_proj")))
                .transpose()?,
            modality: fine
                .then(|| {
                    vb.get_with_hints(
                        (2, d),
                        "modality_embed",
                        Init::Randn { mean: 0.0, stdev: 0.02 },
                    )
                })
                .transpose()?,
            fusion: fine
                .then(|| EncoderLayer::new(d, cfg.heads, ffn, vb.pp("fusion")))
                .transpose()?,
            query_embed: (!fine || cfg.query_slots)
                .then(|| {
                    vb.pp("query_embed")
                        .get_with_hints(
                            (cfg.queries, d),
                            "weight",
                            Init::Randn { mean: 0.0, stdev: 1.0 },
                        )
                        .map(|w| Embedding::new(w, d))
                })
                .transpose()?,
            decoder: (0..cfg.ant_layers)
                .map(|i| DecoderLayer::new(d, cfg.heads, ffn, vb.pp(format!("decoder.layers.{i}"))))
                .collect::<Result<_>>()?,
            decoder_norm: LayerNorm::new(d, vb.pp("decoder.norm"))?,
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
        self.fusion.iter_mut().for_each(|l| l.set_attention(how));
        if let Some(a) = &mut self.fine_attn {
            a.how = how;
        }
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
        let (d, m) = (self.cfg.d_model, self.cfg.queries);
        let pos = self.pos_embedding.narrow(1, 0, s)?;
        let x0 = super::relu::relu_dropout(&self.input_embed.forward(x)?, None)?;
        let x0 = if self.cfg.embed_scale { (x0 * (d as f64).sqrt())? } else { x0 };
        let table = self.sinusoid.as_ref().map(|t| t.narrow(0, 0, s)).transpose()?;
        let x0 = match &table {
            Some(table) if self.cfg.input_sinusoid => x0.broadcast_add(table)?,
            _ => x0,
        };
        let mut h = x0.clone();
        for layer in &self.encoder {
            h = layer.forward(&h, &pos, mask, drop)?;
        }
        let seg = self.fc_seg.forward(&h)?;
        let lengths = valid_lengths(mask, b, s)?;

        let (query_pos, fine) = match (&self.fine_attn, &self.fc_fine, &self.modality, &self.fusion)
        {
            (Some(fine_attn), Some(fc_fine), Some(modality), Some(fusion)) => {
                let g = fine_attn.forward(&h, &x0, &x0, mask)?;
                let fine = fc_fine.forward(&g)?;
                let vis = g.broadcast_add(&modality.get(0)?)?;
                let z = match (&self.text_table, &self.text_proj) {
                    (Some(table), Some(proj)) => {
                        // the predicted fine label of each token, as text (no gradient through argmax)
                        let idx = fine.argmax(D::Minus1)?.flatten_all()?;
                        let txt = proj.forward(&table.index_select(&idx, 0)?.reshape((
                            b,
                            s,
                            self.cfg.text_dim,
                        ))?)?;
                        let txt = txt.broadcast_add(&modality.get(1)?)?;
                        let z = Tensor::cat(&[&vis, &txt], 1)?;
                        let zmask = mask.map(|m| Tensor::cat(&[m, m], 1)).transpose()?;
                        let zpos = Tensor::cat(&[&pos, &pos], 1)?;
                        let z = fusion.forward(&z, &zpos, zmask.as_ref(), drop)?;
                        // average the two modalities' tokens of the same time step
                        ((z.narrow(1, 0, s)? + z.narrow(1, s, s)?)? * 0.5)?
                    }
                    _ => fusion.forward(&vis, &pos, mask, drop)?,
                };
                let z = match &table {
                    Some(table) if self.cfg.pool_sinusoid => z.broadcast_add(table)?,
                    _ => z,
                };
                let pool = pool_matrix(&lengths, s, m, self.cfg.pool_recent_first, x.device())?;
                let pooled = pool.matmul(&z)?;
                let query_pos = match &self.query_embed {
                    Some(slots) => pooled.broadcast_add(&slots.embeddings().unsqueeze(0)?)?,
                    None => pooled,
                };
                (query_pos, Some(fine))
            }
            _ => {
                let qe =
                    self.query_embed.as_ref().expect("queries exist without the fine generator");
                (qe.embeddings().unsqueeze(0)?.broadcast_as((b, m, d))?.contiguous()?, None)
            }
        };
        let mut y = match &self.seg_to_query {
            None => Tensor::zeros((b, m, d), DType::F32, x.device())?,
            Some(from_seg) => from_seg.forward(&seg, &lengths, m)?,
        };
        for layer in &self.decoder {
            y = layer.forward(&y, &query_pos, &h, &pos, mask, drop)?;
        }
        let y = self.decoder_norm.forward_t(&y, drop.is_some())?;
        Ok(Output {
            seg,
            action: self.fc.forward(&y)?,
            duration: self.fc_len.forward(&y)?.squeeze(2)?,
            fine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, testing};

    fn model_with(variant: impl Fn(&mut Config)) -> (Model, candle_nn::VarMap) {
        let mut cfg = Config::paper(5, 5, 5, 3, 16);
        cfg.max_pos_len = 32;
        variant(&mut cfg);
        let varmap = candle_nn::VarMap::new();
        let m =
            MmAnt::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        // a text table of zeros would hide the text path's padding
        varmap.data().lock().unwrap()["text_table"]
            .set(&Tensor::randn(0f32, 1.0, (5, 3), &Device::Cpu).unwrap())
            .unwrap();
        (Model::MmAnt(m), varmap)
    }

    #[test]
    fn a_padded_example_is_anticipated_as_it_is_alone() {
        testing::a_padded_example_is_anticipated_as_it_is_alone(&model_with(|_| {}).0, 5);
        testing::a_padded_example_is_anticipated_as_it_is_alone(
            &model_with(|c| c.queries_from_segmentation = true).0,
            5,
        );
    }

    #[test]
    fn queries_from_segmentation_read_the_segmentation_head_without_training_it() {
        testing::queries_from_segmentation_read_the_segmentation_head_without_training_it(
            5,
            |on| model_with(|c| c.queries_from_segmentation = on),
        );
        // checkpoints written before the switch existed load without it
        let cfg = Config::paper(5, 5, 5, 3, 16);
        let mut old = serde_json::to_value(&cfg).unwrap();
        old.as_object_mut().unwrap().remove("queries_from_segmentation");
        assert_eq!(serde_json::from_value::<Config>(old).unwrap(), cfg);
    }

    #[test]
    fn pool_bins_cover_valid_tokens() {
        let w =
            pool_matrix(&[4, 2, 0], 4, 2, false, &Device::Cpu).unwrap().to_vec3::<f32>().unwrap();
        assert_eq!(w[0], vec![vec![0.5, 0.5, 0.0, 0.0], vec![0.0, 0.0, 0.5, 0.5]]);
        assert_eq!(w[1], vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]]);
        assert!(w[2].iter().flatten().all(|v| *v == 0.0));
        // most recent first: the same bins, the rows reversed
        let r =
            pool_matrix(&[4, 2, 0], 4, 2, true, &Device::Cpu).unwrap().to_vec3::<f32>().unwrap();
        for b in 0..3 {
            assert_eq!(r[b], w[b].iter().rev().cloned().collect::<Vec<_>>());
        }
        // fewer tokens than queries: every bin still has a token
        let w = pool_matrix(&[3], 3, 8, false, &Device::Cpu).unwrap().to_vec3::<f32>().unwrap();
        assert!(w[0].iter().all(|row| (row.iter().sum::<f32>() - 1.0).abs() < 1e-6));
    }

    #[test]
    fn query_slots_reach_the_anticipation_and_are_off_by_default() {
        let dev = Device::Cpu;
        let mut cfg = Config::paper(5, 5, 5, 3, 16);
        cfg.max_pos_len = 32;
        assert!(!cfg.query_slots);
        // checkpoints written before the switch existed load as the paper's model
        let mut old = serde_json::to_value(&cfg).unwrap();
        old.as_object_mut().unwrap().remove("query_slots");
        assert_eq!(serde_json::from_value::<Config>(old).unwrap(), cfg);

        cfg.query_slots = true;
        let varmap = candle_nn::VarMap::new();
        let model = MmAnt::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let x = Tensor::randn(0f32, 1.0, (2, 12, 5), &dev).unwrap();
        let before = model.forward(&x, None, None).unwrap().action.to_vec3::<f32>().unwrap();
        let slots = varmap
            .data()
            .lock()
            .unwrap()
            .get("query_embed.weight")
            .cloned()
            .expect("slot embeddings exist");
        assert_eq!(slots.dims(), [cfg.queries, cfg.d_model]);
        slots.set(&slots.zeros_like().unwrap()).unwrap();
        let after = model.forward(&x, None, None).unwrap().action.to_vec3::<f32>().unwrap();
        assert_ne!(before, after, "the slot embeddings must change the anticipation");
    }

    #[test]
    fn input_sinusoid_is_on_by_default_and_switchable() {
        let dev = Device::Cpu;
        let mut cfg = Config::paper(5, 5, 5, 3, 16);
        cfg.max_pos_len = 32;
        assert!(cfg.input_sinusoid);
        // checkpoints written before the switch existed load with the table, as they were trained
        let mut old = serde_json::to_value(&cfg).unwrap();
        old.as_object_mut().unwrap().remove("input_sinusoid");
        assert_eq!(serde_json::from_value::<Config>(old).unwrap(), cfg);

        // the same weights with and without the table
        let varmap = candle_nn::VarMap::new();
        let with = MmAnt::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let vars = varmap.all_vars().len();
        cfg.input_sinusoid = false;
        let without = MmAnt::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        assert_eq!(varmap.all_vars().len(), vars, "the table is not a parameter");
        let x = Tensor::randn(0f32, 1.0, (1, 12, 5), &dev).unwrap();
        let a = with.forward(&x, None, None).unwrap().seg.to_vec3::<f32>().unwrap();
        let b = without.forward(&x, None, None).unwrap().seg.to_vec3::<f32>().unwrap();
        assert_ne!(a, b, "the table must reach the segmentation");
    }

    #[test]
    fn pool_and_embedding_variants_are_off_by_default_change_the_output_and_add_no_parameters() {
        let dev = Device::Cpu;
        let mut cfg = Config::paper(5, 5, 5, 3, 16);
        cfg.max_pos_len = 32;
        // checkpoints written before the switches existed load as the paper's model
        let mut old = serde_json::to_value(&cfg).unwrap();
        for k in ["pool_recent_first", "pool_sinusoid", "embed_scale"] {
            assert_eq!(old[k], serde_json::Value::Bool(false), "{k}");
            old.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(serde_json::from_value::<Config>(old).unwrap(), cfg);

        let varmap = candle_nn::VarMap::new();
        let paper = MmAnt::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
        let vars = varmap.all_vars().len();
        let x = Tensor::randn(0f32, 1.0, (2, 12, 5), &dev).unwrap();
        let out = |m: &MmAnt| m.forward(&x, None, None).unwrap().action.to_vec3::<f32>().unwrap();
        let base = out(&paper);
        let variants: [fn(&mut Config); 4] = [
            |c| c.pool_recent_first = true,
            |c| c.pool_sinusoid = true,
            |c| c.embed_scale = true,
            |c| {
                c.input_sinusoid = false;
                c.pool_sinusoid = true;
            },
        ];
        for (i, variant) in variants.iter().enumerate() {
            let mut c = cfg.clone();
            variant(&mut c);
            let m = MmAnt::new(&c, VarBuilder::from_varmap(&varmap, DType::F32, &dev)).unwrap();
            assert_eq!(varmap.all_vars().len(), vars, "variant {i} adds no parameter");
            assert_ne!(out(&m), base, "variant {i} must change the anticipation");
        }
        // recent-first pooling and padding: a padded example is anticipated as it is alone
        testing::a_padded_example_is_anticipated_as_it_is_alone(
            &model_with(|c| {
                c.pool_recent_first = true;
                c.pool_sinusoid = true;
                c.embed_scale = true;
            })
            .0,
            5,
        );
    }
}
