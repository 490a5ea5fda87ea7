//! Seeded parameter initialisation. candle's CPU random generator cannot be seeded, so a
//! `VarBuilder` backed by [`SeededVarMap`] draws every parameter from its own generator, seeded
//! by the run's seed and the parameter's name: the same seed gives the same model, whatever the
//! order in which layers are built.

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

#[derive(Clone)]
pub struct SeededVarMap {
    pub varmap: VarMap,
    pub seed: u64,
}

/// FNV-1a: a stable hash of a parameter name (std's hasher is randomised per process).
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// rand's StdRng is this generator; naming it gives access to its stream position.
pub type SeededRng = rand_chacha::ChaCha12Rng;

pub fn seeded_rng(seed: u64, stream: &str) -> SeededRng {
    SeededRng::seed_from_u64(seed ^ name_hash(stream))
}

/// Draws a tensor of `shape` from `init` with a generator seeded by (seed, name).
pub fn draw(shape: &Shape, init: Init, seed: u64, name: &str, dev: &Device) -> Result<Tensor> {
    let n = shape.elem_count();
    let mut rng = seeded_rng(seed, name);
    let data: Vec<f32> = match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Uniform { lo, up } => {
            (0..n).map(|_| rng.random_range(lo..up.max(lo + f64::EPSILON)) as f32).collect()
        }
        Init::Randn { mean, stdev } => {
            let d = Normal::new(mean, stdev).map_err(candle_core::Error::wrap)?;
            (0..n).map(|_| d.sample(&mut rng) as f32).collect()
        }
        Init::Kaiming { dist, fan, non_linearity } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                candle_nn::init::NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    (0..n).map(|_| rng.random_range(-bound..bound) as f32).collect()
                }
                candle_nn::init::NormalOrUniform::Normal => {
                    let d = Normal::new(0.0, std).map_err(candle_core::Error::wrap)?;
                    (0..n).map(|_| d.sample(&mut rng) as f32).collect()
                }
            }
        }
    };
    Tensor::from_vec(data, shape, dev)
}

/// A tensor of values uniform in [lo, hi) from a generator seeded by `seed` (tests and benchmarks).
pub fn uniform_tensor(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Result<Tensor> {
    draw(&Shape::from(shape), Init::Uniform { lo, up: hi }, seed, "uniform", &Device::Cpu)
}

/// Xavier (Glorot) uniform bounds for a weight of `shape`, as torch computes fans for ≥ 2-D tensors.
pub fn xavier_uniform(shape: &[usize]) -> Init {
    let receptive: usize = shape.iter().skip(2).product::<usize>().max(1);
    let fan_in = shape.get(1).copied().unwrap_or(1) * receptive;
    let fan_out = shape.first().copied().unwrap_or(1) * receptive;
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    Init::Uniform { lo: -bound, up: bound }
}

impl candle_nn::var_builder::SimpleBackend for SeededVarMap {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut data = self.varmap.data().lock().unwrap();
        if let Some(var) = data.get(name) {
            if var.shape() != &s {
                candle_core::bail!("parameter {name}: shape {:?}, asked for {:?}", var.shape(), s);
            }
            return Ok(var.as_tensor().clone());
        }
        let var = Var::from_tensor(&draw(&s, h, self.seed, name, dev)?.to_dtype(dtype)?)?;
        let t = var.as_tensor().clone();
        data.insert(name.to_owned(), var);
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        match self.varmap.data().lock().unwrap().get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no parameter {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap.data().lock().unwrap().contains_key(name)
    }
}

/// A trainable VarBuilder whose fresh parameters are seeded.
pub fn seeded_var_builder(varmap: &VarMap, seed: u64, dev: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(
        Box::new(SeededVarMap { varmap: varmap.clone(), seed }),
        DType::F32,
        dev.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_rng_is_stdrngs_stream() {
        // checkpoints trained before the generator was named must still be reproducible
        let mut ours = seeded_rng(13452, "dropout");
        let mut std = rand::rngs::StdRng::seed_from_u64(13452 ^ name_hash("dropout"));
        let a: Vec<u32> = (0..64).map(|_| ours.random()).collect();
        let b: Vec<u32> = (0..64).map(|_| std.random()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn same_seed_same_parameters_any_order() {
        let dev = Device::Cpu;
        let build = |order: &[&str]| {
            let vm = VarMap::new();
            let vb = seeded_var_builder(&vm, 7, &dev);
            for name in order {
                vb.get_with_hints((3, 4), name, Init::Randn { mean: 0.0, stdev: 1.0 }).unwrap();
            }
            vm.data().lock().unwrap().get("a").unwrap().as_tensor().to_vec2::<f32>().unwrap()
        };
        assert_eq!(build(&["a", "b"]), build(&["b", "a"]));
        let other = {
            let vm = VarMap::new();
            let vb = seeded_var_builder(&vm, 8, &dev);
            vb.get_with_hints((3, 4), "a", Init::Randn { mean: 0.0, stdev: 1.0 })
                .unwrap()
                .to_vec2::<f32>()
                .unwrap()
        };
        assert_ne!(build(&["a"]), other);
    }

    #[test]
    fn xavier_bounds_follow_torch_fans() {
        // [1, L, D] positional table: fan_in = L·D, fan_out = D
        let Init::Uniform { up, .. } = xavier_uniform(&[1, 2000, 128]) else { panic!() };
        assert!((up - (6.0f64 / (2000.0 * 128.0 + 128.0)).sqrt()).abs() < 1e-12);
    }
}
