//! Parity of mmant's m&m-Ant or FUTR forward with an independent PyTorch implementation on the same
//! checkpoint and inputs, and both timings. Ignored by default: it needs the files
//! `scripts/reference/model_parity.py CHECKPOINT OUT` writes (the script runs this test itself).

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use mmant::model::checkpoint::Checkpoint;

fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let d = (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    d / b
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
        .max(1e-12)
}

#[test]
#[ignore]
fn forward_equals_pytorch() {
    let dir = PathBuf::from(
        std::env::var("MMANT_PARITY_DIR")
            .expect("MMANT_PARITY_DIR: the folder model_parity.py wrote"),
    );
    let stem =
        PathBuf::from(std::env::var("MMANT_PARITY_CHECKPOINT").expect("MMANT_PARITY_CHECKPOINT"));
    let ckpt = Checkpoint::load(&stem, &Device::Cpu).unwrap();
    let mut checked = 0;
    for s in [250, 1000, 2000] {
        let path = dir.join(format!("s{s}.safetensors"));
        if !path.exists() {
            continue;
        }
        let t = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
        let out = ckpt.model.forward(&t["input"], None, None).unwrap();
        let mut diffs = vec![("seg", rel_diff(&out.seg, &t["seg"]))];
        // FUTR has no fine generator; an m&m-Ant reference must have compared it
        if let Some(fine) = &out.fine {
            diffs.push(("fine", rel_diff(fine, &t["fine"])));
        }
        diffs.push(("action", rel_diff(&out.action, &t["action"])));
        diffs.push(("duration", rel_diff(&out.duration, &t["duration"])));
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            ckpt.model.forward(&t["input"], None, None).unwrap();
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        let torch_ms = t["torch_ms"].to_vec1::<f32>().unwrap()[0] as f64;
        let text: Vec<String> = diffs.iter().map(|(n, d)| format!("{n} {d:.1e}")).collect();
        println!(
            "S={s}: max rel diff {}; candle {best:.1} ms, torch {torch_ms:.1} ms (candle/torch {:.2})",
            text.join(", "),
            best / torch_ms
        );
        for (n, d) in diffs {
            assert!(d < 1e-4, "S={s}: {n} differs from PyTorch by {d}");
        }
        checked += 1;
    }
    assert!(checked > 0, "no reference outputs in {}", dir.display());
}
