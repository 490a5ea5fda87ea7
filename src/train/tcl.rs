//! The temporal consistency loss of m&m-Ant's fine-grained generator, vectorised:
//! L_tcl = λ1·L_intra + λ2·L_inter over the maximal runs ("intervals") of equal fine labels.
//!
//! - Segment ids come from label changes (computed once per batch on the host); centroids are
//!   scatter-added means (`index_add`) of the per-token logits.
//! - L_intra: the mean over intervals of the mean squared deviation of their tokens from the
//!   centroid (over tokens and classes).
//! - L_inter: over every pair of intervals of the same sample, 1/(ε + ‖μᵢ − μⱼ‖₂) with ε = 1e-2,
//!   averaged over pairs; the pairwise distances come from one [G,G] Gram-matrix operation.
//!   The bound ε keeps the term ≤ 100 where the official code's 1e-5 allows 1e5 at start-up.
//!
//! Padding tokens take no part (the official code counts the padding run as an interval).

use candle_core::{D, DType, Result, Tensor};

pub const INTER_EPS: f64 = 1e-2;

/// Host-side structure of the intervals of a batch.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// Flat index (b·S + t) of every valid token.
    pub token_index: Vec<u32>,
    /// Interval id of every valid token, ids numbered over the whole batch.
    pub interval_of_token: Vec<u32>,
    /// Tokens per interval.
    pub counts: Vec<f32>,
    /// Sample of each interval.
    pub sample_of_interval: Vec<usize>,
}

impl Intervals {
    /// `labels[b]` holds the valid tokens' fine labels of sample b (padding excluded); `s` is the
    /// padded length of the batch.
    pub fn from_labels(labels: &[&[u32]], s: usize) -> Self {
        let mut iv = Intervals {
            token_index: vec![],
            interval_of_token: vec![],
            counts: vec![],
            sample_of_interval: vec![],
        };
        for (b, l) in labels.iter().enumerate() {
            for (t, &label) in l.iter().enumerate() {
                if t == 0 || label != l[t - 1] {
                    iv.counts.push(0.0);
                    iv.sample_of_interval.push(b);
                }
                let id = iv.counts.len() - 1;
                iv.counts[id] += 1.0;
                iv.token_index.push((b * s + t) as u32);
                iv.interval_of_token.push(id as u32);
            }
        }
        iv
    }
}

/// (L_intra, L_inter) of logits `z` [B,S,K].
pub fn temporal_consistency(z: &Tensor, iv: &Intervals) -> Result<(Tensor, Tensor)> {
    let dev = z.device();
    let (b, s, k) = z.dims3()?;
    let g = iv.counts.len();
    if g == 0 {
        let zero = Tensor::zeros((), DType::F32, dev)?;
        return Ok((zero.clone(), zero));
    }
    let tokens = Tensor::from_slice(&iv.token_index, iv.token_index.len(), dev)?;
    let ids = Tensor::from_slice(&iv.interval_of_token, iv.interval_of_token.len(), dev)?;
    let counts = Tensor::from_slice(&iv.counts, (g, 1), dev)?;
    let zv = z.reshape((b * s, k))?.index_select(&tokens, 0)?; // [N,K]
    let centroids =
        Tensor::zeros((g, k), DType::F32, dev)?.index_add(&ids, &zv, 0)?.broadcast_div(&counts)?; // [G,K]

    // intra: per interval, mean over its tokens and classes of the squared deviation
    let dev_sq = (&zv - centroids.index_select(&ids, 0)?)?.sqr()?.mean_keepdim(D::Minus1)?; // [N,1]
    let per_interval = Tensor::zeros((g, 1), DType::F32, dev)?
        .index_add(&ids, &dev_sq, 0)?
        .broadcast_div(&counts)?;
    let intra = per_interval.mean_all()?;

    // inter: all same-sample pairs i < j at once
    let mut pair_mask = vec![0f32; g * g];
    let mut pairs = 0usize;
    for i in 0..g {
        for j in i + 1..g {
            if iv.sample_of_interval[i] == iv.sample_of_interval[j] {
                pair_mask[i * g + j] = 1.0;
                pairs += 1;
            }
        }
    }
    if pairs == 0 {
        return Ok((intra, Tensor::zeros((), DType::F32, dev)?));
    }
    let pair_mask = Tensor::from_vec(pair_mask, (g, g), dev)?;
    let sq = centroids.sqr()?.sum_keepdim(1)?; // [G,1]
    let gram = centroids.matmul(&centroids.t()?)?;
    let d2 = (sq.broadcast_add(&sq.t()?)? - (gram * 2.0)?)?.relu()?;
    let dist = (d2 + 1e-12)?.sqrt()?;
    let inv = (dist + INTER_EPS)?.recip()?;
    let inter = ((inv * pair_mask)?.sum_all()? / pairs as f64)?;
    Ok((intra, inter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The straightforward loop version, in f64.
    fn reference(z: &[Vec<Vec<f64>>], labels: &[Vec<u32>]) -> (f64, f64) {
        let mut intra = vec![];
        let mut pair_terms = vec![];
        for (zb, lb) in z.iter().zip(labels) {
            let mut runs: Vec<(usize, usize)> = vec![];
            for t in 0..lb.len() {
                if t == 0 || lb[t] != lb[t - 1] {
                    runs.push((t, t + 1));
                } else {
                    runs.last_mut().unwrap().1 = t + 1;
                }
            }
            let k = zb[0].len();
            let mut means = vec![];
            for &(a, e) in &runs {
                let mu: Vec<f64> = (0..k)
                    .map(|c| (a..e).map(|t| zb[t][c]).sum::<f64>() / (e - a) as f64)
                    .collect();
                let dev: f64 = (a..e)
                    .map(|t| (0..k).map(|c| (zb[t][c] - mu[c]).powi(2)).sum::<f64>())
                    .sum::<f64>()
                    / ((e - a) * k) as f64;
                intra.push(dev);
                means.push(mu);
            }
            for i in 0..means.len() {
                for j in i + 1..means.len() {
                    let d = means[i]
                        .iter()
                        .zip(&means[j])
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    pair_terms.push(1.0 / (INTER_EPS + d));
                }
            }
        }
        let mean =
            |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        (mean(&intra), mean(&pair_terms))
    }

    #[test]
    fn matches_the_loop_version_on_random_inputs() {
        let mut rng = crate::model::init::seeded_rng(5, "tcl-test");
        use rand::Rng;
        for trial in 0..20 {
            let (b, s, k) = (1 + trial % 3, 3 + trial * 2, 2 + trial % 5);
            let lengths: Vec<usize> =
                (0..b).map(|i| if i == 0 { s } else { 1 + rng.random_range(0..s) }).collect();
            let labels: Vec<Vec<u32>> = lengths
                .iter()
                .map(|&n| (0..n).map(|_| rng.random_range(0..3u32)).collect())
                .collect();
            let z: Vec<Vec<Vec<f64>>> = (0..b)
                .map(|_| {
                    (0..s).map(|_| (0..k).map(|_| rng.random_range(-3.0..3.0)).collect()).collect()
                })
                .collect();
            let flat: Vec<f32> = z.iter().flatten().flatten().map(|&v| v as f32).collect();
            let zt = Tensor::from_vec(flat, (b, s, k), &Device::Cpu).unwrap();
            let refs: Vec<&[u32]> = labels.iter().map(Vec::as_slice).collect();
            let (intra, inter) =
                temporal_consistency(&zt, &Intervals::from_labels(&refs, s)).unwrap();
            let zv: Vec<Vec<Vec<f64>>> =
                z.iter().zip(&lengths).map(|(zb, &n)| zb[..n].to_vec()).collect();
            let (ri, re) = reference(&zv, &labels);
            let (gi, ge) = (
                intra.to_scalar::<f32>().unwrap() as f64,
                inter.to_scalar::<f32>().unwrap() as f64,
            );
            assert!((gi - ri).abs() < 1e-4 * (1.0 + ri), "trial {trial}: intra {gi} vs {ri}");
            assert!((ge - re).abs() < 1e-3 * (1.0 + re), "trial {trial}: inter {ge} vs {re}");
        }
    }

    #[test]
    fn gradients_flow_and_coincident_centroids_stay_finite() {
        let z = candle_core::Var::from_tensor(
            &Tensor::zeros((1, 4, 3), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        let iv = Intervals::from_labels(&[&[0, 0, 1, 1]], 4);
        let (intra, inter) = temporal_consistency(z.as_tensor(), &iv).unwrap();
        assert!((inter.to_scalar::<f32>().unwrap() - 1.0 / (INTER_EPS as f32 + 1e-6)).abs() < 1.0);
        let g = (intra + inter).unwrap().backward().unwrap();
        let grad = g.get(z.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(grad.iter().all(|v| v.is_finite()));
    }
}
