//! The vendored candle-core (vendor/README.md) stores the first gradient of a node as it is
//! instead of adding it into fresh zeros. These tests check the gradients of the graph shapes
//! that change touches — fan-in (a node used several times), subtraction and division on the
//! right, broadcasts, transposes, ReLU, reductions — against f64 central differences.

use candle_core::{D, Device, Tensor, Var};

fn values(n: usize, seed: u32) -> Vec<f32> {
    // a fixed, irregular sequence in (-1.5, 1.5), away from ReLU's kink at 0
    (0..n)
        .map(|i| {
            let v = ((i as u32).wrapping_mul(2654435761).wrapping_add(seed * 40503) % 1000) as f32;
            let x = v / 1000.0 * 3.0 - 1.5;
            if x.abs() < 0.05 { x + 0.2 } else { x }
        })
        .collect()
}

/// L(a, b) for a [3, 4], b [4]: every accumulation path of candle's backward at least once.
fn loss(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let fan_in = ((a * a)? + a)?; // a used three times
    let sub = (fan_in.broadcast_sub(b)? - a)?; // right-hand side of a subtraction, broadcast b
    let div = sub.broadcast_div(&(b.sqr()? + 1.0)?)?; // right-hand side of a division
    let t = div.t()?.matmul(&a.relu()?)?; // transpose, matmul, ReLU: [4, 4]
    let m = t.mean_keepdim(D::Minus1)?.broadcast_mul(&b.unsqueeze(1)?)?; // [4, 1] · [4, 1]
    (m.sum_all()? + t.sqr()?.sum_all()?.affine(0.1, 0.0)?)? - b.neg()?.exp()?.sum_all()?
}

fn loss_at(a: &[f32], b: &[f32]) -> f64 {
    let dev = Device::Cpu;
    let a =
        Tensor::from_vec(a.iter().map(|&x| x as f64).collect::<Vec<_>>(), (3, 4), &dev).unwrap();
    let b = Tensor::from_vec(b.iter().map(|&x| x as f64).collect::<Vec<_>>(), 4, &dev).unwrap();
    loss(&a, &b).unwrap().to_scalar::<f64>().unwrap()
}

#[test]
fn gradients_with_fan_in_subtraction_division_and_broadcasts_match_central_differences() {
    let (a0, b0) = (values(12, 1), values(4, 2));
    let dev = Device::Cpu;
    let a = Var::from_vec(a0.clone(), (3, 4), &dev).unwrap();
    let b = Var::from_vec(b0.clone(), 4, &dev).unwrap();
    let grads = loss(a.as_tensor(), b.as_tensor()).unwrap().backward().unwrap();
    let ga = grads.get(a.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let gb = grads.get(b.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
    let h = 1e-4f32;
    for (i, &g) in ga.iter().enumerate() {
        let (mut p, mut m) = (a0.clone(), a0.clone());
        p[i] += h;
        m[i] -= h;
        let n = (loss_at(&p, &b0) - loss_at(&m, &b0)) / (2.0 * h as f64);
        assert!((g as f64 - n).abs() <= 2e-3 * (1.0 + n.abs()), "dL/da[{i}]: {g} vs {n}");
    }
    for (i, &g) in gb.iter().enumerate() {
        let (mut p, mut m) = (b0.clone(), b0.clone());
        p[i] += h;
        m[i] -= h;
        let n = (loss_at(&a0, &p) - loss_at(&a0, &m)) / (2.0 * h as f64);
        assert!((g as f64 - n).abs() <= 2e-3 * (1.0 + n.abs()), "dL/db[{i}]: {g} vs {n}");
    }
}

/// A gradient stored as it first arrives must not alias a tensor that a later accumulation
/// changes: the same upstream gradient reaches both sides of `x + x` and `y = x; y + x`.
#[test]
fn a_gradient_shared_by_two_inputs_is_summed_not_aliased() {
    let x = Var::from_vec(vec![1f32, 2.0, 3.0], 3, &Device::Cpu).unwrap();
    let l = ((x.as_tensor() + x.as_tensor()).unwrap() * 3.0).unwrap().sum_all().unwrap();
    let g = l.backward().unwrap();
    assert_eq!(g.get(x.as_tensor()).unwrap().to_vec1::<f32>().unwrap(), vec![6.0, 6.0, 6.0]);
    // every Var gradient is contiguous (the optimizer's fast path)
    let w = Var::from_vec(vec![1f32, 2.0, 3.0, 4.0], (2, 2), &Device::Cpu).unwrap();
    let v = Tensor::new(&[[1f32, 0.5], [0.25, 2.0]], &Device::Cpu).unwrap();
    let g = v.matmul(&w.as_tensor().t().unwrap()).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(g.get(w.as_tensor()).unwrap().is_contiguous());
}

/// The vendored matmul no longer zero-fills its output before gemm writes it (vendor/README.md).
/// Every output element must still be written: each product here follows a dropped buffer of
/// NaNs of the same size, which the allocator hands back, so an element gemm skipped would show
/// as NaN or as a wrong value against the f64 reference.
#[test]
fn products_write_every_output_element_without_a_zero_fill() {
    let dev = Device::Cpu;
    // (batch, m, k, n, rhs shared by the batch, lhs transposed)
    let cases = [
        (1, 37, 19, 23, false, false),
        (3, 16, 8, 33, false, false),
        (3, 16, 8, 33, true, false), // batches folded into one product's rows
        (2, 40, 64, 17, false, true),
        (1, 1, 5, 9, false, false), // a row vector: gemm's gemv path
        (2, 7, 0, 5, false, false), // k = 0: all zeros
    ];
    for (case, &(b, m, k, n, shared, transposed)) in cases.iter().enumerate() {
        let lhs_v = values(b * m * k, 10 + case as u32);
        let rhs_n = if shared { k * n } else { b * k * n };
        let rhs_v = values(rhs_n, 20 + case as u32);
        let lhs = if transposed {
            Tensor::from_vec(lhs_v.clone(), (b, k, m), &dev).unwrap().transpose(1, 2).unwrap()
        } else {
            Tensor::from_vec(lhs_v.clone(), (b, m, k), &dev).unwrap()
        };
        let rhs = if shared {
            Tensor::from_vec(rhs_v.clone(), (1, k, n), &dev)
                .unwrap()
                .broadcast_as((b, k, n))
                .unwrap()
        } else {
            Tensor::from_vec(rhs_v.clone(), (b, k, n), &dev).unwrap()
        };
        drop(vec![f32::NAN; b * m * n]);
        let got = lhs.matmul(&rhs).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(got.len(), b * m * n);
        for bi in 0..b {
            for i in 0..m {
                for j in 0..n {
                    let mut want = 0f64;
                    for c in 0..k {
                        let l = if transposed {
                            lhs_v[bi * k * m + c * m + i]
                        } else {
                            lhs_v[bi * m * k + i * k + c]
                        };
                        let r = rhs_v[if shared { 0 } else { bi * k * n } + c * n + j];
                        want += l as f64 * r as f64;
                    }
                    let g = got[bi * m * n + i * n + j] as f64;
                    assert!(
                        (g - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "case {case}: [{bi},{i},{j}] = {g}, want {want}"
                    );
                }
            }
        }
    }
}
