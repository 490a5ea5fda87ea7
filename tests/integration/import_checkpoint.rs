//! A FUTR checkpoint saved as the official PyTorch code saves one (fixture made by
//! scripts/reference/official_futr_fixture.py from our PyTorch reference FUTR) imports, and the
//! imported model's outputs equal the reference's on the same input.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use mmant::model::checkpoint::Checkpoint;

use crate::common::{mmant, stderr, stdout};

fn matrix(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect()
}

#[test]
fn an_official_futr_checkpoint_imports_and_reproduces_the_reference() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/futr_official");
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    std::fs::create_dir_all(ds.join("groundTruth")).unwrap();
    std::fs::create_dir_all(ds.join("splits")).unwrap();
    std::fs::write(ds.join("mapping.txt"), "0 a\n1 b\n2 c\n3 d\n").unwrap();
    std::fs::write(ds.join("groundTruth/v.txt"), "a\nb\n").unwrap();
    std::fs::write(ds.join("splits/train.split1.bundle"), "v.txt\n").unwrap();
    std::fs::write(ds.join("splits/test.split1.bundle"), "v.txt\n").unwrap();
    let out = dir.path().join("imported");
    let ckpt = fixtures.join("futr_official.ckpt");
    let args = [
        "import-checkpoint",
        "--model",
        "futr",
        ckpt.to_str().unwrap(),
        "--dataset",
        ds.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = mmant(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("2 encoder / 2 decoder layers, 5 queries, 4 classes, 40 positions"),
        "{}",
        stdout(&o)
    );

    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("expected.json")).unwrap())
            .unwrap();
    let input = matrix(&expected["input"]);
    let (s, f) = (input.len(), input[0].len());
    let x = Tensor::from_vec(input.concat(), (1, s, f), &Device::Cpu).unwrap();
    let ck = Checkpoint::load(&out.join("model"), &Device::Cpu).unwrap();
    let y = ck.model.forward(&x, None, None).unwrap();
    let close = |name: &str, got: &Tensor, want: Vec<f32>| {
        let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{name}: worst difference {worst}");
    };
    close("seg", &y.seg, matrix(&expected["seg"]).concat());
    close("action", &y.action, matrix(&expected["action"]).concat());
    let duration: Vec<f32> = expected["duration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    close("duration", &y.duration, duration);

    // a model of another dataset's classes is refused
    std::fs::write(ds.join("mapping.txt"), "0 a\n1 b\n2 c\n").unwrap();
    std::fs::write(ds.join("groundTruth/v.txt"), "a\nb\n").unwrap();
    let o = mmant(&args);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has 4 classes") && stderr(&o).contains("mapping.txt 3"),
        "{}",
        stderr(&o)
    );
}
