//! Models (FUTR and m&m-Ant, one file each in candle's style), their shared blocks, the fused
//! attention, decoding of predictions, and checkpoints.

pub mod anticipate;
pub mod attention;
pub mod attention_kernel;
pub mod blocks;
pub mod checkpoint;
pub mod decode;
pub mod futr;
pub mod init;
pub mod mmant;

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
pub enum Model {
    Futr(futr::Futr),
    MmAnt(mmant::MmAnt),
}

impl Model {
    pub fn forward(&self, x: &Tensor, mask: Option<&Tensor>, drop: Option<&blocks::Dropout>) -> Result<Output> {
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
