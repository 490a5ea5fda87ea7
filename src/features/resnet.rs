//! ResNet-18/34/50 bodies (torchvision's architecture and tensor names, classifier excluded) for
//! CPU inference on [`super::nhwc`]: NHWC activations, batch-norm folded into each convolution,
//! bias, residual and ReLU in the convolution's output pass. A candle `Module` like candle's
//! `resnet*_no_final_layer`, which stays the reference in the tests and the path on a GPU.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::nhwc::{Activation, BatchNorm, FoldedConv, Nhwc, Padding};

#[derive(Debug, Clone)]
enum Block {
    /// ResNet-18/34: 3×3, 3×3.
    Basic { conv1: FoldedConv, conv2: FoldedConv, downsample: Option<FoldedConv> },
    /// ResNet-50 (v1.5, the stride on the 3×3): 1×1, 3×3, 1×1.
    Bottleneck {
        conv1: FoldedConv,
        conv2: FoldedConv,
        conv3: FoldedConv,
        downsample: Option<FoldedConv>,
    },
}

/// The pooled features [n, dim] of images [n, 3, h, w].
#[derive(Debug, Clone)]
pub struct ResNetBody {
    stem: FoldedConv,
    blocks: Vec<Block>,
}

/// `name.weight` [cout, cin, k, k] followed by batch-norm `bn`, folded.
fn conv_bn(
    vb: &VarBuilder,
    conv: &str,
    bn: &str,
    (cout, cin, k): (usize, usize, usize),
    stride: usize,
) -> Result<FoldedConv> {
    let w = vb.get((cout, cin, k, k), &format!("{conv}.weight"))?;
    let b = vb.pp(bn);
    let (gamma, beta) = (b.get(cout, "weight")?, b.get(cout, "bias")?);
    let (mean, var) = (b.get(cout, "running_mean")?, b.get(cout, "running_var")?);
    // torchvision's BatchNorm2d default ε, as candle's resnet uses
    let bn = BatchNorm { gamma: &gamma, beta: &beta, mean: &mean, var: &var, eps: 1e-5 };
    FoldedConv::fold(&w, &bn, stride, Padding::Symmetric(k / 2))
}

impl ResNetBody {
    /// `layers` blocks per stage ([2, 2, 2, 2] ResNet-18, [3, 4, 6, 3] ResNet-34/50);
    /// `bottleneck` for ResNet-50.
    pub fn new(layers: [usize; 4], bottleneck: bool, vb: VarBuilder) -> Result<Self> {
        let stem = conv_bn(&vb, "conv1", "bn1", (64, 3, 7), 2)?;
        let expansion = if bottleneck { 4 } else { 1 };
        let mut cin = 64;
        let mut blocks = Vec::new();
        for (stage, &count) in layers.iter().enumerate() {
            let planes = 64 << stage;
            for i in 0..count {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                let b = vb.pp(format!("layer{}.{i}", stage + 1));
                let cout = planes * expansion;
                let downsample = (stride != 1 || cin != cout)
                    .then(|| conv_bn(&b, "downsample.0", "downsample.1", (cout, cin, 1), stride))
                    .transpose()?;
                blocks.push(if bottleneck {
                    Block::Bottleneck {
                        conv1: conv_bn(&b, "conv1", "bn1", (planes, cin, 1), 1)?,
                        conv2: conv_bn(&b, "conv2", "bn2", (planes, planes, 3), stride)?,
                        conv3: conv_bn(&b, "conv3", "bn3", (cout, planes, 1), 1)?,
                        downsample,
                    }
                } else {
                    Block::Basic {
                        conv1: conv_bn(&b, "conv1", "bn1", (planes, cin, 3), stride)?,
                        conv2: conv_bn(&b, "conv2", "bn2", (planes, planes, 3), 1)?,
                        downsample,
                    }
                });
                cin = cout;
            }
        }
        Ok(ResNetBody { stem, blocks })
    }

    pub fn resnet18(vb: VarBuilder) -> Result<Self> {
        Self::new([2, 2, 2, 2], false, vb)
    }

    pub fn resnet34(vb: VarBuilder) -> Result<Self> {
        Self::new([3, 4, 6, 3], false, vb)
    }

    pub fn resnet50(vb: VarBuilder) -> Result<Self> {
        Self::new([3, 4, 6, 3], true, vb)
    }
}

impl Module for ResNetBody {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let threads = candle_core::utils::get_num_threads();
        if images.dims().len() != 4 || images.dim(1)? != 3 {
            candle_core::bail!("expected images [n, 3, h, w], got {:?}", images.dims());
        }
        let x = Nhwc::from_nchw(images)?;
        let mut x = self.stem.forward(&x, None, Activation::Relu, threads).max_pool(3, 2, 1);
        for block in &self.blocks {
            let (Block::Basic { downsample, .. } | Block::Bottleneck { downsample, .. }) = block;
            let shortcut =
                downsample.as_ref().map(|d| d.forward(&x, None, Activation::None, threads));
            let residual = Some(shortcut.as_ref().unwrap_or(&x));
            x = match block {
                Block::Basic { conv1, conv2, .. } => {
                    let y = conv1.forward(&x, None, Activation::Relu, threads);
                    conv2.forward(&y, residual, Activation::Relu, threads)
                }
                Block::Bottleneck { conv1, conv2, conv3, .. } => {
                    let y = conv1.forward(&x, None, Activation::Relu, threads);
                    let y = conv2.forward(&y, None, Activation::Relu, threads);
                    conv3.forward(&y, residual, Activation::Relu, threads)
                }
            };
        }
        Tensor::from_vec(x.global_average(), (x.n, x.c), images.device())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    /// The whole body against candle's resnet on the same weights, with batch-norm statistics
    /// that are not the identity (a fold that ignored them would pass on fresh weights).
    #[test]
    fn the_bodies_match_candles_resnets_on_the_same_weights() {
        use candle_transformers::models::resnet;
        let d = &Device::Cpu;
        for name in ["resnet18", "resnet50"] {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, d);
            match name {
                "resnet18" => drop(resnet::resnet18(10, vb).unwrap()),
                _ => drop(resnet::resnet50(10, vb).unwrap()),
            }
            for (key, var) in vm.data().lock().unwrap().iter() {
                let shape = var.shape().clone();
                let (lo, hi) = if key.ends_with("running_mean") || key.ends_with("bn1.bias") {
                    (-0.2, 0.2)
                } else if key.ends_with("running_var")
                    || key.contains("bn") && key.ends_with("weight")
                {
                    (0.5, 1.5)
                } else {
                    continue;
                };
                var.set(&Tensor::rand(lo as f32, hi as f32, shape, d).unwrap()).unwrap();
            }
            let vb = VarBuilder::from_varmap(&vm, DType::F32, d);
            let reference = match name {
                "resnet18" => resnet::resnet18_no_final_layer(vb.clone()).unwrap(),
                _ => resnet::resnet50_no_final_layer(vb.clone()).unwrap(),
            };
            let ours = match name {
                "resnet18" => ResNetBody::resnet18(vb).unwrap(),
                _ => ResNetBody::resnet50(vb).unwrap(),
            };
            // not 224: an odd size checks every padding and stride on its edges
            let x = Tensor::randn(0f32, 1.0, (2, 3, 97, 83), d).unwrap();
            let want = reference.forward(&x).unwrap();
            let got = ours.forward(&x).unwrap();
            assert_eq!(got.dims(), want.dims(), "{name}");
            let (diff, scale) = crate::features::nhwc::max_diff_and_scale(&got, &want);
            assert!(scale > 1e-3, "{name}: features vanished ({scale})");
            assert!(diff <= 1e-4 * scale, "{name}: max difference {diff}, largest feature {scale}");
        }
    }

    #[test]
    fn images_without_three_channels_are_an_error_not_a_panic() {
        let d = &Device::Cpu;
        let vm = VarMap::new();
        let net = ResNetBody::resnet18(VarBuilder::from_varmap(&vm, DType::F32, d)).unwrap();
        for shape in [&[1, 4, 32, 32][..], &[3, 32, 32]] {
            let err = net.forward(&Tensor::zeros(shape, DType::F32, d).unwrap()).unwrap_err();
            assert!(err.to_string().contains("expected images [n, 3, h, w]"), "{err}");
        }
    }
}
