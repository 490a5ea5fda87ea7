//! The sentence encoder on the real all-MiniLM-L6-v2 weights (fetched by scripts/fetch-models,
//! which scripts/test runs first).

use candle_core::Device;
use mmant::text::{SentenceEncoder, default_model_dir};

fn cos(e: &candle_core::Tensor, i: usize, j: usize) -> f32 {
    (e.get(i).unwrap() * e.get(j).unwrap()).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn related_label_names_are_closer_and_runs_are_identical() {
    let dir = default_model_dir();
    assert!(
        dir.join("model.safetensors").exists(),
        "{} is missing: run scripts/fetch-models",
        dir.display()
    );
    let enc = SentenceEncoder::load(&dir, &Device::Cpu).unwrap();
    let s: Vec<String> = ["pour milk", "pour cereals", "cut tomato", "take cup", "take bowl"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let e = enc.embed(&s).unwrap();
    assert_eq!(e.dims(), &[5, 384]);
    for i in 0..5 {
        assert!((cos(&e, i, i) - 1.0).abs() < 1e-5, "not normalised");
    }
    assert!(
        cos(&e, 0, 1) > cos(&e, 0, 2) + 0.1,
        "pour milk~pour cereals {} vs pour milk~cut tomato {}",
        cos(&e, 0, 1),
        cos(&e, 0, 2)
    );
    assert!(cos(&e, 3, 4) > cos(&e, 3, 2) + 0.1);
    let again = enc.embed(&s).unwrap();
    assert_eq!(
        e.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        again.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    );
    // one sentence alone embeds exactly as within a list (no padding, no batch effects)
    let alone = enc.embed(&s[2..3]).unwrap();
    assert_eq!(
        alone.get(0).unwrap().to_vec1::<f32>().unwrap(),
        e.get(2).unwrap().to_vec1::<f32>().unwrap()
    );
}

#[test]
fn a_missing_model_says_how_to_get_it() {
    let err = SentenceEncoder::load(std::path::Path::new("/nonexistent/minilm"), &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("/nonexistent/minilm/config.json") && err.contains("scripts/fetch-models"),
        "{err}"
    );
}
