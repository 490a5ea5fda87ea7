//! Test-time decoding of the action queries into future frames (FUTR's `predict`, model_spec §2.9).

/// One anticipated segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FutureSegment {
    /// Class id; `num_classes` stands for NONE.
    pub label: u32,
    /// Offset from the observation point, in frames, half-open.
    pub start: usize,
    pub end: usize,
    /// Softmax probability of the label for its query.
    pub confidence: f32,
}

/// Decodes one sample. `action` is M rows of C+1 logits, `duration` M logits, `future` the number
/// of full-rate frames to fill (FUTR uses ⌊0.5·N⌋). Queries before the first NONE are laid back to
/// back with lengths ⌊0.5 + F·pᵢ⌋ from the softmax over their duration logits; the last query's
/// label runs to the end. With no NONE predicted all M queries are used (FUTR's code crashes
/// there); a NONE first gives an all-NONE future.
pub fn decode(
    action: &[Vec<f32>],
    duration: &[f32],
    num_classes: usize,
    future: usize,
) -> (Vec<u32>, Vec<FutureSegment>) {
    let none = num_classes as u32;
    let argmax = |row: &[f32]| -> (u32, f32) {
        let (i, &best) = row
            .iter()
            .enumerate()
            .fold((0, &f32::NEG_INFINITY), |acc, (i, v)| if *v > *acc.1 { (i, v) } else { acc });
        let z: f32 = row.iter().map(|v| (v - best).exp()).sum();
        (i as u32, 1.0 / z)
    };
    let labels: Vec<(u32, f32)> = action.iter().map(|r| argmax(r)).collect();
    let k = labels.iter().position(|(l, _)| *l == none).unwrap_or(labels.len());
    if k == 0 || future == 0 {
        let segs = if future > 0 {
            vec![FutureSegment {
                label: none,
                start: 0,
                end: future,
                confidence: labels.first().map_or(0.0, |l| l.1),
            }]
        } else {
            vec![]
        };
        return (vec![none; future], segs);
    }
    let max = duration[..k].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = duration[..k].iter().map(|d| (d - max).exp()).collect();
    let total: f32 = exps.iter().sum();
    // FUTR's buffer default is class 1; with the last query filling the rest it is never visible
    let mut frames = vec![1u32; future];
    let mut segs = Vec::new();
    let mut start = 0usize;
    for (i, e) in exps.iter().enumerate() {
        if start >= future {
            break;
        }
        let len = (0.5 + future as f32 * e / total).floor() as usize;
        let end = if i == k - 1 { future } else { (start + len).min(future) };
        if end > start {
            frames[start..end].fill(labels[i].0);
            segs.push(FutureSegment { label: labels[i].0, start, end, confidence: labels[i].1 });
        }
        start = end;
    }
    (frames, segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onehot(c: usize, n: usize) -> Vec<f32> {
        (0..n).map(|i| if i == c { 5.0 } else { 0.0 }).collect()
    }

    #[test]
    fn lays_segments_back_to_back_until_none() {
        // C = 3, NONE = 3; queries: 2, 0, NONE, 1
        let action = vec![onehot(2, 4), onehot(0, 4), onehot(3, 4), onehot(1, 4)];
        // durations: softmax over the first two only: ln(3) vs 0 → 3/4 and 1/4
        let dur = vec![3f32.ln(), 0.0, 9.0, 9.0];
        let (frames, segs) = decode(&action, &dur, 3, 10);
        // 0.5 + 7.5 → 8 frames of 2, then the last query fills the remaining 2
        assert_eq!(frames, vec![2, 2, 2, 2, 2, 2, 2, 2, 0, 0]);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[1].start, segs[1].end), (8, 10));
    }

    #[test]
    fn no_none_uses_all_queries_and_none_first_is_all_none() {
        let action = vec![onehot(1, 3), onehot(0, 3)];
        let (frames, _) = decode(&action, &[0.0, 0.0], 2, 4);
        assert_eq!(frames, vec![1, 1, 0, 0]);
        let action = vec![onehot(2, 3), onehot(0, 3)];
        assert_eq!(decode(&action, &[0.0, 0.0], 2, 3).0, vec![2, 2, 2]);
        assert!(decode(&action, &[0.0, 0.0], 2, 0).0.is_empty());
    }
}
