//! Parity of the candle backbones with PyTorch on the same weights and inputs, and both timings.
//! Ignored by default: it needs the files `scripts/reference/backbone_parity.py OUT` writes; run
//! `MMANT_PARITY_DIR=OUT cargo test --release --test integration backbone_parity:: -- --ignored --nocapture`.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{Device, Tensor};
use mmant::features::{Backbone, Network};

fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let d = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    d / b.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap().max(1e-12)
}

#[test]
#[ignore]
fn candle_backbones_equal_pytorch() {
    let dir = PathBuf::from(
        std::env::var("MMANT_PARITY_DIR")
            .expect("MMANT_PARITY_DIR: the folder backbone_parity.py wrote"),
    );
    let mut checked = 0;
    for backbone in Backbone::ALL {
        let io = dir.join(format!("{}.io.safetensors", backbone.name()));
        if !io.exists() {
            println!("{backbone}: no reference outputs, skipped");
            continue;
        }
        let t = candle_core::safetensors::load(&io, &Device::Cpu).unwrap();
        let net = Network::load(
            backbone,
            &dir.join(format!("{}.weights.safetensors", backbone.name())),
            &Device::Cpu,
        )
        .unwrap();
        let features = net.features(&t["input"]).unwrap();
        let logits = net.classify(&t["input"]).unwrap().unwrap();
        let (df, dl) = (rel_diff(&features, &t["features"]), rel_diff(&logits, &t["logits"]));
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            net.features(&t["input"]).unwrap();
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        let torch_ms = t["torch_ms"].to_vec1::<f32>().unwrap()[0] as f64;
        println!(
            "{backbone}: features max rel diff {df:.2e}, logits {dl:.2e}; candle {best:.1} ms, torch {torch_ms:.1} ms per batch of {} (candle/torch {:.2})",
            t["input"].dim(0).unwrap(),
            best / torch_ms
        );
        assert!(df < 1e-4 && dl < 1e-4, "{backbone}: outputs differ from PyTorch");
        checked += 1;
    }
    assert!(checked > 0, "no reference outputs in {}", dir.display());
}
