//! EfficientNet-Lite0 (Tan & Le 2019; the "lite" variant of the TensorFlow TPU repository:
//! ReLU6, no squeeze-and-excitation, fixed stem and head), as ported to PyTorch by
//! `efficientnet_lite_pytorch`, whose tensor names (`_conv_stem`, `_blocks.N._depthwise_conv`, …)
//! the weights keep. Convolutions pad like TensorFlow's "SAME" (asymmetric for stride 2).
//!
//! Inference only: batch norm is folded into the convolutions when the weights are loaded, and the
//! depthwise convolutions run in a small CPU kernel (candle splits a grouped convolution into one
//! convolution per channel, which is two orders of magnitude slower for 1 152 channels).

use candle_core::{CpuStorage, CustomOp3, Layout, Module, Result, Shape, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::nhwc::{Activation, FoldedConv, FoldedDepthwise, Nhwc, Padding};
use crate::custom_op::f32_slice;

/// One stage of MBConv blocks: `repeats` blocks, the first with `stride`, the rest with stride 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageConfig {
    pub repeats: usize,
    pub kernel: usize,
    pub stride: usize,
    pub expand: usize,
    pub c_in: usize,
    pub c_out: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub stages: Vec<StageConfig>,
    pub stem_channels: usize,
    pub head_channels: usize,
    pub num_classes: usize,
    pub bn_eps: f64,
}

impl Config {
    /// EfficientNet-Lite0: width and depth multipliers 1.0, 224×224 input, 1 280-d features.
    pub fn lite0() -> Self {
        let s = |repeats, kernel, stride, expand, c_in, c_out| StageConfig {
            repeats,
            kernel,
            stride,
            expand,
            c_in,
            c_out,
        };
        Config {
            stages: vec![
                s(1, 3, 1, 1, 32, 16),
                s(2, 3, 2, 6, 16, 24),
                s(2, 5, 2, 6, 24, 40),
                s(3, 3, 2, 6, 40, 80),
                s(3, 5, 1, 6, 80, 112),
                s(4, 5, 2, 6, 112, 192),
                s(1, 3, 1, 6, 192, 320),
            ],
            stem_channels: 32,
            head_channels: 1280,
            num_classes: 1000,
            bn_eps: 1e-3,
        }
    }
}

impl Config {
    /// Multiply-adds of one forward pass on a `size`×`size` image (convolutions and the
    /// classifier), for benchmarks that put throughput beside the work done.
    pub fn macs(&self, size: usize) -> u64 {
        let mut hw = size.div_ceil(2);
        let mut macs = (hw * hw * self.stem_channels * 3 * 9) as u64;
        for stage in &self.stages {
            for r in 0..stage.repeats {
                let (c_in, stride) =
                    if r == 0 { (stage.c_in, stage.stride) } else { (stage.c_out, 1) };
                let mid = c_in * stage.expand;
                if stage.expand != 1 {
                    macs += (hw * hw * mid * c_in) as u64;
                }
                hw = hw.div_ceil(stride);
                macs += (hw * hw * mid * stage.kernel * stage.kernel) as u64;
                macs += (hw * hw * stage.c_out * mid) as u64;
            }
        }
        let last = self.stages.last().map_or(self.stem_channels, |s| s.c_out);
        macs + (hw * hw * self.head_channels * last) as u64
            + (self.head_channels * self.num_classes) as u64
    }
}

/// TensorFlow "SAME" padding of one spatial axis: (before, after).
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// A convolution followed by batch norm, folded into one weight and bias.
#[derive(Debug, Clone)]
struct ConvBn {
    /// [c_out, c_in / groups, k, k]
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
    depthwise: bool,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)] // the layer's hyper-parameters, as the reference names them
    fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        depthwise: bool,
        eps: f64,
        conv: VarBuilder,
        bn: VarBuilder,
    ) -> Result<Self> {
        let per_group = if depthwise { 1 } else { c_in };
        let weight = conv.get((c_out, per_group, kernel, kernel), "weight")?;
        let gamma = bn.get(c_out, "weight")?;
        let beta = bn.get(c_out, "bias")?;
        let mean = bn.get(c_out, "running_mean")?;
        let var = bn.get(c_out, "running_var")?;
        let scale = gamma.broadcast_div(&(var + eps)?.sqrt()?)?;
        let weight = weight.broadcast_mul(&scale.reshape((c_out, 1, 1, 1))?)?;
        let bias = (beta - mean.mul(&scale)?)?;
        Ok(ConvBn { weight, bias, kernel, stride, depthwise })
    }

    fn forward(&self, x: &Tensor, relu6: bool) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let c_out = self.weight.dim(0)?;
        let y = if self.depthwise && x.device().is_cpu() {
            let op = Depthwise { kernel: self.kernel, stride: self.stride, relu6 };
            return x.contiguous()?.apply_op3(&self.weight, &self.bias, op);
        } else if self.kernel == 1 && self.stride == 1 {
            // a 1×1 convolution is a matrix product over the pixels
            let y = self.weight.reshape((1, c_out, c))?.broadcast_matmul(&x.reshape((
                b,
                c,
                h * w,
            ))?)?;
            y.reshape((b, c_out, h, w))?
        } else {
            let (top, bottom) = same_padding(h, self.kernel, self.stride);
            let (left, right) = same_padding(w, self.kernel, self.stride);
            let x = x.pad_with_zeros(2, top, bottom)?.pad_with_zeros(3, left, right)?;
            let groups = if self.depthwise { c } else { 1 };
            x.conv2d(&self.weight, 0, self.stride, 1, groups)?
        };
        let y = y.broadcast_add(&self.bias.reshape((1, c_out, 1, 1))?)?;
        if relu6 { y.clamp(0f32, 6f32) } else { Ok(y) }
    }
}

/// Depthwise k×k convolution with SAME padding, bias and optional ReLU6, on the CPU.
struct Depthwise {
    kernel: usize,
    stride: usize,
    relu6: bool,
}

impl CustomOp3 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise-conv2d-same"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let op = "depthwise convolution";
        let (x, w, bias) = (
            f32_slice(s1, l1, op, "input")?,
            f32_slice(s2, l2, op, "weight")?,
            f32_slice(s3, l3, op, "bias")?,
        );
        let (b, c, h, wd) = l1.shape().dims4()?;
        let (k, s) = (self.kernel, self.stride);
        let (oh, ow) = (h.div_ceil(s), wd.div_ceil(s));
        let (top, _) = same_padding(h, k, s);
        let (left, _) = same_padding(wd, k, s);
        let mut out = vec![0f32; b * c * oh * ow];
        out.par_chunks_mut(oh * ow).enumerate().for_each(|(plane, o)| {
            let ch = plane % c;
            let input = &x[plane * h * wd..(plane + 1) * h * wd];
            o.fill(bias[ch]);
            for ky in 0..k {
                for kx in 0..k {
                    let wv = w[ch * k * k + ky * k + kx];
                    // output columns whose input column ox·s + kx − left lies inside the image
                    let ox_lo = left.saturating_sub(kx).div_ceil(s);
                    let ox_hi = ((wd + left).saturating_sub(kx)).div_ceil(s).min(ow);
                    if ox_lo >= ox_hi {
                        continue;
                    }
                    for oy in 0..oh {
                        let iy = (oy * s + ky) as isize - top as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        let row = &input[iy as usize * wd..(iy as usize + 1) * wd];
                        let orow = &mut o[oy * ow..(oy + 1) * ow];
                        let first = ox_lo * s + kx - left;
                        if s == 1 {
                            let n = ox_hi - ox_lo;
                            for (dst, src) in
                                orow[ox_lo..ox_hi].iter_mut().zip(&row[first..first + n])
                            {
                                *dst += wv * src;
                            }
                        } else {
                            for (i, dst) in orow[ox_lo..ox_hi].iter_mut().enumerate() {
                                *dst += wv * row[first + i * s];
                            }
                        }
                    }
                }
            }
            if self.relu6 {
                o.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0));
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((b, c, oh, ow))))
    }
}

#[derive(Debug, Clone)]
struct MbConv {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

impl MbConv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = match &self.expand {
            Some(e) => e.forward(x, true)?,
            None => x.clone(),
        };
        y = self.depthwise.forward(&y, true)?;
        y = self.project.forward(&y, false)?;
        if self.residual { y + x } else { Ok(y) }
    }
}

#[derive(Debug, Clone)]
pub struct EfficientNetLite {
    stem: ConvBn,
    blocks: Vec<MbConv>,
    head: ConvBn,
    fc: candle_nn::Linear,
    /// The same layers in NHWC for the CPU ([`super::nhwc`]); candle's path stays the reference
    /// and runs on other devices.
    cpu: Option<LiteNhwc>,
}

#[derive(Debug, Clone)]
struct LiteNhwc {
    stem: FoldedConv,
    /// (expand, depthwise, project, residual)
    blocks: Vec<(Option<FoldedConv>, FoldedDepthwise, FoldedConv, bool)>,
    head: FoldedConv,
}

impl ConvBn {
    fn bias_values(&self) -> Result<Vec<f32>> {
        self.bias.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()
    }

    fn nhwc(&self) -> Result<FoldedConv> {
        FoldedConv::new(&self.weight, None, self.bias_values()?, self.stride, Padding::Same)
    }

    fn nhwc_depthwise(&self) -> Result<FoldedDepthwise> {
        FoldedDepthwise::new(&self.weight, None, self.bias_values()?, self.stride, Padding::Same)
    }
}

impl LiteNhwc {
    fn new(net: &EfficientNetLite) -> Result<Self> {
        let blocks = net
            .blocks
            .iter()
            .map(|b| {
                Ok((
                    b.expand.as_ref().map(ConvBn::nhwc).transpose()?,
                    b.depthwise.nhwc_depthwise()?,
                    b.project.nhwc()?,
                    b.residual,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(LiteNhwc { stem: net.stem.nhwc()?, blocks, head: net.head.nhwc()? })
    }

    fn forward_features(&self, x: &Tensor) -> Result<Tensor> {
        let threads = candle_core::utils::get_num_threads();
        if x.dims().len() != 4 || x.dim(1)? != 3 {
            candle_core::bail!("expected images [n, 3, h, w], got {:?}", x.dims());
        }
        let x = Nhwc::from_nchw(x)?;
        let mut y = self.stem.forward(&x, None, Activation::Relu6, threads);
        for (expand, depthwise, project, residual) in &self.blocks {
            let e = expand.as_ref().map(|e| e.forward(&y, None, Activation::Relu6, threads));
            let d = depthwise.forward(e.as_ref().unwrap_or(&y), Activation::Relu6, threads);
            y = project.forward(&d, residual.then_some(&y), Activation::None, threads);
        }
        let y = self.head.forward(&y, None, Activation::Relu6, threads);
        Tensor::from_vec(y.global_average(), (y.n, y.c), &candle_core::Device::Cpu)
    }
}

impl EfficientNetLite {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let eps = cfg.bn_eps;
        let stem = ConvBn::new(
            3,
            cfg.stem_channels,
            3,
            2,
            false,
            eps,
            vb.pp("_conv_stem"),
            vb.pp("_bn0"),
        )?;
        let mut blocks = Vec::new();
        for stage in &cfg.stages {
            for r in 0..stage.repeats {
                let vb = vb.pp(format!("_blocks.{}", blocks.len()));
                let (c_in, stride) =
                    if r == 0 { (stage.c_in, stage.stride) } else { (stage.c_out, 1) };
                let mid = c_in * stage.expand;
                let expand = if stage.expand != 1 {
                    Some(ConvBn::new(
                        c_in,
                        mid,
                        1,
                        1,
                        false,
                        eps,
                        vb.pp("_expand_conv"),
                        vb.pp("_bn0"),
                    )?)
                } else {
                    None
                };
                let depthwise = ConvBn::new(
                    mid,
                    mid,
                    stage.kernel,
                    stride,
                    true,
                    eps,
                    vb.pp("_depthwise_conv"),
                    vb.pp("_bn1"),
                )?;
                let project = ConvBn::new(
                    mid,
                    stage.c_out,
                    1,
                    1,
                    false,
                    eps,
                    vb.pp("_project_conv"),
                    vb.pp("_bn2"),
                )?;
                blocks.push(MbConv {
                    expand,
                    depthwise,
                    project,
                    residual: stride == 1 && c_in == stage.c_out,
                });
            }
        }
        let last = cfg.stages.last().map(|s| s.c_out).unwrap_or(cfg.stem_channels);
        let head = ConvBn::new(
            last,
            cfg.head_channels,
            1,
            1,
            false,
            eps,
            vb.pp("_conv_head"),
            vb.pp("_bn1"),
        )?;
        let fc = candle_nn::linear(cfg.head_channels, cfg.num_classes, vb.pp("_fc"))?;
        let mut net = EfficientNetLite { stem, blocks, head, fc, cpu: None };
        if vb.device().is_cpu() {
            net.cpu = Some(LiteNhwc::new(&net)?);
        }
        Ok(net)
    }

    /// Global-average-pooled features [B, 1280] of images [B, 3, H, W].
    pub fn forward_features(&self, x: &Tensor) -> Result<Tensor> {
        match &self.cpu {
            Some(cpu) if x.device().is_cpu() => cpu.forward_features(x),
            _ => self.forward_features_candle(x),
        }
    }

    /// [`Self::forward_features`] through candle's operations (the reference on the CPU).
    pub fn forward_features_candle(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = self.stem.forward(x, true)?;
        for block in &self.blocks {
            y = block.forward(&y)?;
        }
        self.head.forward(&y, true)?.mean((2, 3))
    }

    /// ImageNet logits [B, 1000].
    pub fn classify(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(&self.forward_features(x)?)
    }
}

impl Module for EfficientNetLite {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_features(x)
    }
}

/// A depthwise convolution through candle's grouped convolution, for testing the kernel.
#[cfg(test)]
fn depthwise_reference(
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    k: usize,
    s: usize,
) -> Result<Tensor> {
    let (_, c, h, wd) = x.dims4()?;
    let (top, bottom) = same_padding(h, k, s);
    let (left, right) = same_padding(wd, k, s);
    let x = x.pad_with_zeros(2, top, bottom)?.pad_with_zeros(3, left, right)?;
    x.conv2d(w, 0, s, 1, c)?.broadcast_add(&bias.reshape((1, c, 1, 1))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn lite0_work_per_frame_matches_a_count_over_the_reference_implementation() {
        // forward hooks on efficientnet_lite_pytorch's Conv2d/Linear modules at 224×224 count
        // 385 187 552 multiply-adds
        assert_eq!(Config::lite0().macs(224), 385_187_552);
    }

    #[test]
    fn same_padding_matches_tensorflow() {
        // stride 1 pads k−1 evenly; stride 2 on even sizes pads one less before than after
        assert_eq!(same_padding(224, 3, 1), (1, 1));
        assert_eq!(same_padding(224, 3, 2), (0, 1));
        assert_eq!(same_padding(28, 5, 2), (1, 2));
        assert_eq!(same_padding(7, 5, 1), (2, 2));
        assert_eq!(same_padding(7, 3, 2), (1, 1));
    }

    #[test]
    fn depthwise_kernel_equals_grouped_convolution() {
        let dev = Device::Cpu;
        for &(c, h, w, k, s) in &[
            (3, 7, 9, 3, 1),
            (5, 8, 8, 5, 2),
            (4, 13, 6, 3, 2),
            (2, 1, 1, 3, 1),
            (6, 15, 16, 5, 1),
            (3, 2, 3, 5, 2),
        ] {
            let x = Tensor::randn(0f32, 1., (2, c, h, w), &dev).unwrap();
            let wt = Tensor::randn(0f32, 1., (c, 1, k, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 1., c, &dev).unwrap();
            let expected = depthwise_reference(&x, &wt, &b, k, s).unwrap();
            for relu6 in [false, true] {
                let got = x.apply_op3(&wt, &b, Depthwise { kernel: k, stride: s, relu6 }).unwrap();
                let want =
                    if relu6 { expected.clamp(0f32, 6f32).unwrap() } else { expected.clone() };
                assert_eq!(got.dims(), want.dims(), "c{c} {h}x{w} k{k} s{s}");
                let diff = (got - &want)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                assert!(diff < 1e-4, "c{c} {h}x{w} k{k} s{s} relu6 {relu6}: max diff {diff}");
            }
        }
    }

    #[test]
    fn folded_batch_norm_equals_conv_then_batch_norm() {
        let dev = Device::Cpu;
        let t = |shape: &[usize], lo: f32| Tensor::rand(lo, lo + 1.0, shape, &dev).unwrap();
        let tensors: std::collections::HashMap<String, Tensor> = [
            ("c.weight", t(&[6, 4, 3, 3], -0.5)),
            ("bn.weight", t(&[6], 0.5)),
            ("bn.bias", t(&[6], -0.5)),
            ("bn.running_mean", t(&[6], -0.5)),
            ("bn.running_var", t(&[6], 0.5)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &dev);
        let conv = ConvBn::new(4, 6, 3, 2, false, 1e-3, vb.pp("c"), vb.pp("bn")).unwrap();
        let x = Tensor::randn(0f32, 1., (1, 4, 9, 10), &dev).unwrap();
        let got = conv.forward(&x, false).unwrap();
        let (top, bottom) = same_padding(9, 3, 2);
        let (left, right) = same_padding(10, 3, 2);
        let xp = x.pad_with_zeros(2, top, bottom).unwrap().pad_with_zeros(3, left, right).unwrap();
        let raw = xp.conv2d(&tensors["c.weight"], 0, 2, 1, 1).unwrap();
        let r = |n: &str| tensors[n].reshape((1, 6, 1, 1)).unwrap();
        let want = raw
            .broadcast_sub(&r("bn.running_mean"))
            .unwrap()
            .broadcast_div(&(r("bn.running_var") + 1e-3).unwrap().sqrt().unwrap())
            .unwrap()
            .broadcast_mul(&r("bn.weight"))
            .unwrap()
            .broadcast_add(&r("bn.bias"))
            .unwrap();
        let diff =
            (got - want).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-4, "max diff {diff}");
    }

    /// The NHWC path against candle's on the same weights (batch-norm statistics that are not
    /// the identity), on an odd input size so that SAME padding is asymmetric.
    #[test]
    fn the_nhwc_path_matches_candles() {
        let dev = Device::Cpu;
        let vm = candle_nn::VarMap::new();
        EfficientNetLite::new(&Config::lite0(), VarBuilder::from_varmap(&vm, DType::F32, &dev))
            .unwrap();
        for (key, var) in vm.data().lock().unwrap().iter() {
            let (lo, hi) = if key.ends_with("running_mean")
                || key.contains("_bn") && key.ends_with("bias")
            {
                (-0.2f32, 0.2)
            } else if key.ends_with("running_var") || key.contains("_bn") && key.ends_with("weight")
            {
                (0.5, 1.5)
            } else {
                continue;
            };
            var.set(&Tensor::rand(lo, hi, var.shape(), &dev).unwrap()).unwrap();
        }
        let net =
            EfficientNetLite::new(&Config::lite0(), VarBuilder::from_varmap(&vm, DType::F32, &dev))
                .unwrap();
        assert!(net.cpu.is_some());
        let x = Tensor::randn(0f32, 1., (2, 3, 67, 59), &dev).unwrap();
        let want = net.forward_features_candle(&x).unwrap();
        let got = net.forward_features(&x).unwrap();
        assert_eq!(got.dims(), want.dims());
        let (diff, scale) = crate::features::nhwc::max_diff_and_scale(&got, &want);
        assert!(scale > 1e-3, "features vanished ({scale})");
        assert!(diff <= 1e-4 * scale, "max difference {diff}, largest feature {scale}");
    }
}
