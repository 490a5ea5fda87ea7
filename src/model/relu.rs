//! ReLU, and ReLU followed by a dropout mask, as one candle op each with its own backward pass
//! (CPU f32).
//!
//! Composed, the feed-forward block's `dropout(relu(x))` is a ReLU pass, a mask multiply and,
//! backward, candle's `x ≥ 0` compare, a cast to f32 and two multiplies: five passes over the
//! widest activations of the model ([B, S, 4D]) where one does. The values are the composed
//! ops' exactly, gradients included: candle's ReLU passes the gradient where x ≥ 0, and
//! `g · mask · 1` is `g · mask`.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;

use super::blocks::Dropout;
use crate::custom_op::{f32_slice, with_f32};

/// Elements per parallel chunk: large enough that the work outweighs a task.
const CHUNK: usize = 1 << 15;

/// `dropout(relu(x))`, fused where it can be (f32 on the CPU), composed elsewhere.
pub fn relu_dropout(x: &Tensor, drop: Option<&Dropout>) -> Result<Tensor> {
    if !x.device().is_cpu() || x.dtype() != DType::F32 {
        return super::blocks::dropout(&x.relu()?, drop);
    }
    let x = x.contiguous()?;
    match drop.and_then(|d| d.cpu_mask(&x).transpose()).transpose()? {
        Some(mask) => x.apply_op2(&mask, ReluMask),
        None => x.apply_op1(Relu),
    }
}

struct Relu;

struct ReluMask;

fn relu_forward(x: &[f32], mask: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        let x = &x[c * CHUNK..c * CHUNK + out.len()];
        match mask {
            Some(m) => {
                let m = &m[c * CHUNK..c * CHUNK + out.len()];
                for ((o, &v), &k) in out.iter_mut().zip(x).zip(m) {
                    *o = v.max(0.0) * k;
                }
            }
            None => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = v.max(0.0);
                }
            }
        }
    });
    out
}

/// dx = g (· mask) where x ≥ 0, else 0: candle's ReLU gradient.
fn relu_backward(x: &[f32], g: &[f32], mask: Option<&[f32]>) -> Vec<f32> {
    let mut dx = vec![0f32; x.len()];
    dx.par_chunks_mut(CHUNK).enumerate().for_each(|(c, dx)| {
        let range = c * CHUNK..c * CHUNK + dx.len();
        let (x, g) = (&x[range.clone()], &g[range.clone()]);
        match mask {
            Some(m) => {
                for (((d, &v), &gv), &k) in dx.iter_mut().zip(x).zip(g).zip(&m[range]) {
                    *d = if v >= 0.0 { gv * k } else { 0.0 };
                }
            }
            None => {
                for ((d, &v), &gv) in dx.iter_mut().zip(x).zip(g) {
                    *d = if v >= 0.0 { gv } else { 0.0 };
                }
            }
        }
    });
    dx
}

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "mmant-relu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, "relu", "the input")?;
        Ok((CpuStorage::F32(relu_forward(x, None)), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let dx = with_f32(x, "relu", "the input", |xs| {
            with_f32(grad_res, "relu", "the output gradient", |gs| Ok(relu_backward(xs, gs, None)))
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

impl CustomOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "mmant-relu-dropout"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1, "relu", "the input")?;
        let mask = f32_slice(s2, l2, "relu", "the dropout mask")?;
        if x.len() != mask.len() {
            bail!("relu: {} inputs, {} mask elements", x.len(), mask.len());
        }
        Ok((CpuStorage::F32(relu_forward(x, Some(mask))), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        mask: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = with_f32(x, "relu", "the input", |xs| {
            with_f32(mask, "relu", "the dropout mask", |ms| {
                with_f32(grad_res, "relu", "the output gradient", |gs| {
                    Ok(relu_backward(xs, gs, Some(ms)))
                })
            })
        })?;
        // the mask is drawn, not learned
        Ok((Some(Tensor::from_vec(dx, x.shape(), x.device())?), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Values and gradients of `dropout(relu(x))` fused and composed from the same generator
    /// position, at sizes below, at and across the parallel chunk, with exact zeros in x.
    #[test]
    fn fused_relu_dropout_equals_the_composed_ops_exactly() {
        for (n, p) in [(7usize, 0.1f32), (CHUNK, 0.1), (3 * CHUNK + 5, 0.3), (1000, 0.0)] {
            let mut v = crate::model::init::uniform_tensor(&[n], -1.0, 1.0, n as u64)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            v[0] = 0.0;
            v[n / 2] = -0.0;
            let x = Var::from_vec(v, (n,), &Device::Cpu).unwrap();
            let g = crate::model::init::uniform_tensor(&[n], -2.0, 2.0, 7 + n as u64).unwrap();
            let run = |fused: bool| {
                let drop = Dropout::new(p, 3);
                let y = if fused {
                    relu_dropout(x.as_tensor(), Some(&drop)).unwrap()
                } else {
                    crate::model::blocks::dropout(&x.as_tensor().relu().unwrap(), Some(&drop))
                        .unwrap()
                };
                let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
                let dx = grads.get(x.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
                (y.to_vec1::<f32>().unwrap(), dx, drop.position())
            };
            assert_eq!(run(true), run(false), "n = {n}, p = {p}");
        }
    }

    #[test]
    fn fused_relu_without_dropout_equals_candles_relu_and_takes_batches() {
        let x = Var::from_tensor(
            &crate::model::init::uniform_tensor(&[2, 5, 3], -1.0, 1.0, 11).unwrap(),
        )
        .unwrap();
        let g = crate::model::init::uniform_tensor(&[2, 5, 3], -1.0, 1.0, 12).unwrap();
        let run = |y: Tensor| {
            let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
            (
                y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                grads.get(x.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            )
        };
        assert_eq!(
            run(relu_dropout(x.as_tensor(), None).unwrap()),
            run(x.as_tensor().relu().unwrap())
        );
        // a transposed (non-contiguous) input is copied first
        let t = x.as_tensor().transpose(1, 2).unwrap();
        assert_eq!(
            relu_dropout(&t, None).unwrap().to_vec3::<f32>().unwrap(),
            t.relu().unwrap().to_vec3::<f32>().unwrap()
        );
    }
}
