//! AdamW whose state can be saved and restored, so that `mmant train --resume` continues a run
//! where it stopped instead of restarting the moments (candle_nn::AdamW keeps them private).
//! The update is candle_nn::AdamW's, operation for operation, so switching changed no number.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use candle_nn::ParamsAdamW;

struct Slot {
    name: String,
    var: Var,
    first_moment: Var,
    second_moment: Var,
}

pub struct AdamW {
    slots: Vec<Slot>,
    step_t: usize,
    params: ParamsAdamW,
}

/// Why saved optimizer state does not fit the model being trained.
#[derive(Debug, thiserror::Error)]
pub enum StateMismatch {
    #[error("no moments for parameter '{0}'")]
    Missing(String),
    #[error("moments of '{name}' have shape {found:?}, the parameter {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("'{0}' holds no step count")]
    Step(String),
    #[error("moments for '{0}', which the model does not have")]
    Extra(String),
    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
}

const STEP: &str = "adamw.step";

impl AdamW {
    /// `vars` named as in the VarMap, so that saved moments find their parameter again.
    pub fn new(vars: Vec<(String, Var)>, params: ParamsAdamW) -> Result<Self> {
        let slots = vars
            .into_iter()
            .filter(|(_, v)| v.dtype().is_float())
            .map(|(name, var)| {
                let (shape, dtype, dev) = (var.shape(), var.dtype(), var.device());
                Ok(Slot {
                    first_moment: Var::zeros(shape, dtype, dev)?,
                    second_moment: Var::zeros(shape, dtype, dev)?,
                    name,
                    var,
                })
            })
            .collect::<Result<_>>()?;
        Ok(AdamW { slots, step_t: 0, params })
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        self.params.lr = lr;
    }

    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_t += 1;
        let ParamsAdamW { lr, beta1, beta2, eps, weight_decay } = self.params;
        let scale_m = 1f64 / (1f64 - beta1.powi(self.step_t as i32));
        let scale_v = 1f64 / (1f64 - beta2.powi(self.step_t as i32));
        for s in &self.slots {
            let Some(g) = grads.get(&s.var) else { continue };
            let next_m = ((s.first_moment.as_tensor() * beta1)? + (g * (1.0 - beta1))?)?;
            let next_v = ((s.second_moment.as_tensor() * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
            let m_hat = (&next_m * scale_m)?;
            let v_hat = (&next_v * scale_v)?;
            let decayed = (s.var.as_tensor() * (1f64 - lr * weight_decay))?;
            let adjusted_grad = (m_hat / (v_hat.sqrt()? + eps)?)?;
            let next_theta = (decayed - (adjusted_grad * lr)?)?;
            s.first_moment.set(&next_m)?;
            s.second_moment.set(&next_v)?;
            s.var.set(&next_theta)?;
        }
        Ok(())
    }

    /// The state as named tensors: `adamw.m.<param>`, `adamw.v.<param>` and the step count.
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for s in &self.slots {
            out.insert(format!("adamw.m.{}", s.name), s.first_moment.as_tensor().clone());
            out.insert(format!("adamw.v.{}", s.name), s.second_moment.as_tensor().clone());
        }
        out.insert(STEP.into(), Tensor::new(&[self.step_t as i64], &candle_core::Device::Cpu)?);
        Ok(out)
    }

    /// Restores what [`AdamW::state`] saved; every parameter must find moments of its shape.
    pub fn restore(
        &mut self,
        state: &HashMap<String, Tensor>,
    ) -> std::result::Result<(), StateMismatch> {
        for s in &self.slots {
            for (key, moment) in [
                (format!("adamw.m.{}", s.name), &s.first_moment),
                (format!("adamw.v.{}", s.name), &s.second_moment),
            ] {
                let t = state.get(&key).ok_or_else(|| StateMismatch::Missing(s.name.clone()))?;
                if t.dims() != s.var.dims() {
                    return Err(StateMismatch::Shape {
                        name: s.name.clone(),
                        expected: s.var.dims().to_vec(),
                        found: t.dims().to_vec(),
                    });
                }
                moment.set(&t.to_device(s.var.device())?.to_dtype(s.var.dtype())?)?;
            }
        }
        let known: std::collections::HashSet<&str> =
            self.slots.iter().map(|s| s.name.as_str()).collect();
        if let Some(extra) =
            state.keys().filter_map(|k| k.strip_prefix("adamw.m.")).find(|n| !known.contains(n))
        {
            return Err(StateMismatch::Extra(extra.to_owned()));
        }
        let step = state.get(STEP).ok_or_else(|| StateMismatch::Step(STEP.into()))?;
        self.step_t = step
            .flatten_all()?
            .to_vec1::<i64>()
            .ok()
            .and_then(|v| v.first().copied())
            .ok_or_else(|| StateMismatch::Step(STEP.into()))? as usize;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::Optimizer as _;

    fn params() -> ParamsAdamW {
        ParamsAdamW { lr: 1e-2, weight_decay: 5e-3, ..Default::default() }
    }

    fn loss(w: &Var, b: &Var, x: &Tensor) -> Result<Tensor> {
        x.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?.tanh()?.sqr()?.sum_all()
    }

    fn vars(dev: &Device) -> Result<(Var, Var, Tensor)> {
        let w =
            Var::from_tensor(&Tensor::arange(0f32, 12., dev)?.reshape((4, 3))?.affine(0.1, -0.5)?)?;
        let b = Var::from_tensor(&Tensor::new(&[0.3f32, -0.2, 0.1], dev)?)?;
        let x = Tensor::arange(0f32, 8., dev)?.reshape((2, 4))?.cos()?;
        Ok((w, b, x))
    }

    #[test]
    fn same_updates_as_candles_adamw() -> Result<()> {
        let dev = Device::Cpu;
        let (w1, b1, x) = vars(&dev)?;
        let (w2, b2, _) = vars(&dev)?;
        let mut ours =
            AdamW::new(vec![("w".into(), w1.clone()), ("b".into(), b1.clone())], params())?;
        let mut theirs = candle_nn::AdamW::new(vec![w2.clone(), b2.clone()], params())?;
        for step in 0..5 {
            ours.set_learning_rate(1e-2 / (step + 1) as f64);
            theirs.set_learning_rate(1e-2 / (step + 1) as f64);
            ours.backward_step(&loss(&w1, &b1, &x)?)?;
            theirs.backward_step(&loss(&w2, &b2, &x)?)?;
        }
        // bit for bit: the same operations in the same order
        assert_eq!(w1.flatten_all()?.to_vec1::<f32>()?, w2.flatten_all()?.to_vec1::<f32>()?);
        assert_eq!(b1.to_vec1::<f32>()?, b2.to_vec1::<f32>()?);
        assert_ne!(
            w1.flatten_all()?.to_vec1::<f32>()?,
            vars(&dev)?.0.flatten_all()?.to_vec1::<f32>()?,
            "nothing was trained"
        );
        Ok(())
    }

    #[test]
    fn restored_state_continues_the_run_exactly() -> Result<()> {
        let dev = Device::Cpu;
        let (w, b, x) = vars(&dev)?;
        let mut straight =
            AdamW::new(vec![("w".into(), w.clone()), ("b".into(), b.clone())], params())?;
        for _ in 0..6 {
            straight.backward_step(&loss(&w, &b, &x)?)?;
        }
        // three steps, save, then a fresh optimizer on copies of the weights takes the last three
        let (w2, b2, _) = vars(&dev)?;
        let mut first =
            AdamW::new(vec![("w".into(), w2.clone()), ("b".into(), b2.clone())], params())?;
        for _ in 0..3 {
            first.backward_step(&loss(&w2, &b2, &x)?)?;
        }
        let saved = first.state()?;
        let (w3, b3) = (
            Var::from_tensor(&w2.as_tensor().copy()?)?,
            Var::from_tensor(&b2.as_tensor().copy()?)?,
        );
        let mut resumed =
            AdamW::new(vec![("w".into(), w3.clone()), ("b".into(), b3.clone())], params())?;
        resumed.restore(&saved).unwrap();
        for _ in 0..3 {
            resumed.backward_step(&loss(&w3, &b3, &x)?)?;
        }
        assert_eq!(w.flatten_all()?.to_vec1::<f32>()?, w3.flatten_all()?.to_vec1::<f32>()?);
        assert_eq!(b.to_vec1::<f32>()?, b3.to_vec1::<f32>()?);
        // without the moments and the step count, the continuation differs
        let (w4, b4) = (
            Var::from_tensor(&w2.as_tensor().copy()?)?,
            Var::from_tensor(&b2.as_tensor().copy()?)?,
        );
        let mut fresh =
            AdamW::new(vec![("w".into(), w4.clone()), ("b".into(), b4.clone())], params())?;
        for _ in 0..3 {
            fresh.backward_step(&loss(&w4, &b4, &x)?)?;
        }
        assert_ne!(w.flatten_all()?.to_vec1::<f32>()?, w4.flatten_all()?.to_vec1::<f32>()?);
        Ok(())
    }

    #[test]
    fn state_of_another_model_is_refused() -> Result<()> {
        let dev = Device::Cpu;
        let (w, b, _) = vars(&dev)?;
        let saved = AdamW::new(vec![("w".into(), w.clone()), ("b".into(), b.clone())], params())?
            .state()?;
        let other = Var::zeros((3, 4), DType::F32, &dev)?;
        let err = AdamW::new(vec![("w".into(), other), ("b".into(), b.clone())], params())?
            .restore(&saved)
            .unwrap_err();
        assert!(err.to_string().contains("'w' have shape [4, 3], the parameter [3, 4]"), "{err}");
        let err = AdamW::new(vec![("w".into(), w.clone()), ("c".into(), b.clone())], params())?
            .restore(&saved)
            .unwrap_err();
        assert!(err.to_string().contains("no moments for parameter 'c'"), "{err}");
        let err = AdamW::new(vec![("w".into(), w)], params())?.restore(&saved).unwrap_err();
        assert!(
            err.to_string().contains("moments for 'b', which the model does not have"),
            "{err}"
        );
        Ok(())
    }
}
