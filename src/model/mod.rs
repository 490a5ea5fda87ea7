//! Models (FUTR and m&m-Ant, one file each in candle's style), their shared blocks, the fused
//! attention, decoding of predictions, and checkpoints.

pub mod anticipate;
pub mod attention;
pub mod attention_kernel;
pub mod blocks;
pub mod checkpoint;
pub mod decode;
pub mod futr;
pub mod futr_import;
pub mod init;
pub mod layer_norm;
pub mod mmant;
pub mod oracle;
pub mod recognize;
pub mod relu;
pub mod remaining_duration;

use candle_core::{Result, Tensor};

pub use attention::{AttentionImpl, attention, attention_explicit, attention_explicit_inference};

/// What both models predict for a batch.
#[derive(Debug, Clone)]
pub struct Output {
    /// Per-token coarse segmentation logits [B,S,C].
    pub seg: Tensor,
    /// Future action logits per query [B,M,C+1] (the last class is NONE).
    pub action: Tensor,
    /// Future duration logits per query [B,M].
    pub duration: Tensor,
    /// Per-token fine-label logits [B,S,K] (m&m-Ant's fine generator).
    pub fine: Option<Tensor>,
}

/// Either model, behind one forward.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one model is built per run or viewer, never stored in bulk
pub enum Model {
    Futr(futr::Futr),
    MmAnt(mmant::MmAnt),
}

impl Model {
    pub fn forward(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        drop: Option<&blocks::Dropout>,
    ) -> Result<Output> {
        match self {
            Model::Futr(m) => m.forward(x, mask, drop),
            Model::MmAnt(m) => m.forward(x, mask, drop),
        }
    }

    pub fn num_classes(&self) -> usize {
        match self {
            Model::Futr(m) => m.cfg.num_classes,
            Model::MmAnt(m) => m.cfg.num_classes,
        }
    }

    /// Switches every attention of the model between the fused kernel and the explicit ops.
    pub fn set_attention(&mut self, how: AttentionImpl) {
        match self {
            Model::Futr(m) => m.set_attention(how),
            Model::MmAnt(m) => m.set_attention(how),
        }
    }
}

/// Checks that hold for both models, called from each model's tests.
#[cfg(test)]
pub(crate) mod testing {
    use candle_core::{DType, Device, Tensor};

    use super::Model;
    use super::blocks::Dropout;

    /// A short example padded to a longer one's length is anticipated as it is alone.
    pub fn a_padded_example_is_anticipated_as_it_is_alone(m: &Model, input_dim: usize) {
        let dev = Device::Cpu;
        let short = Tensor::randn(0f32, 1.0, (1, 3, input_dim), &dev).unwrap();
        let alone = m.forward(&short, None, None).unwrap().action.to_vec3::<f32>().unwrap();
        let long = Tensor::randn(0f32, 1.0, (1, 5, input_dim), &dev).unwrap();
        let padded =
            Tensor::cat(&[&short, &Tensor::zeros((1, 2, input_dim), DType::F32, &dev).unwrap()], 1)
                .unwrap();
        let x = Tensor::cat(&[&padded, &long], 0).unwrap();
        let mask = Tensor::new(&[[0u8, 0, 0, 1, 1], [0, 0, 0, 0, 0]], &dev).unwrap();
        let batch = m.forward(&x, Some(&mask), None).unwrap().action.to_vec3::<f32>().unwrap();
        for (a, b) in alone[0].iter().flatten().zip(batch[0].iter().flatten()) {
            assert!((a - b).abs() < 1e-5, "{a} against {b}");
        }
    }

    /// `build(on)` makes the model with the variant on or off, and its variables.
    pub fn queries_from_segmentation_read_the_segmentation_head_without_training_it(
        input_dim: usize,
        build: impl Fn(bool) -> (Model, candle_nn::VarMap),
    ) {
        let x = Tensor::randn(0f32, 1.0, (2, 4, input_dim), &Device::Cpu).unwrap();
        for on in [false, true] {
            let (m, varmap) = build(on);
            let var = |name: &str| varmap.data().lock().unwrap()[name].clone();
            let action = |m: &Model| {
                m.forward(&x, None, None)
                    .unwrap()
                    .action
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            };
            let before = action(&m);
            // the anticipation depends on the segmentation head only through the variant ...
            let fc_seg = var("fc_seg.weight");
            fc_seg.set(&(fc_seg.as_tensor() * 3.0).unwrap()).unwrap();
            let after = action(&m);
            let moved = before.iter().zip(&after).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert_eq!(moved > 1e-4, on, "variant {on}: the actions moved by {moved}");
            // ... and L_act's gradient never reaches it: the reading is L_seg's alone (a training
            // forward, as inference attaches no backward; p = 0 keeps it deterministic)
            let train = m.forward(&x, None, Some(&Dropout::new(0.0, 1))).unwrap();
            let grads = train.action.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            assert!(
                grads.get(var("input_embed.weight").as_tensor()).is_some(),
                "L_act trains the encoder"
            );
            assert!(grads.get(var("fc_seg.weight").as_tensor()).is_none());
            assert_eq!(varmap.data().lock().unwrap().contains_key("seg_to_query.weight"), on);
        }
    }
}
