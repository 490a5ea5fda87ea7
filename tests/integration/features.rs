//! Feature extraction: the shipped EfficientNet-Lite0 weights classify real photographs sensibly,
//! `mmant extract` writes C×T features with a truthful sidecar, an interrupted run writes
//! nothing, wrong weights are refused, and a checkpoint refuses another backbone's features.

use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use mmant::features::{Backbone, ExtractOptions, Network, extract_video};

/// A 320×240 video of 23 frames whose content changes every frame (a moving test pattern).
fn test_video(dir: &Path) -> PathBuf {
    let out = dir.join("pattern.mp4");
    let st = Command::new("ffmpeg")
        .args([
            "-y",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25:d=0.92",
            "-c:v",
            "libx264",
            "-g",
            "8",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg (scripts/install-deps --test installs it)");
    assert!(st.success());
    out
}

/// Random ResNet-18 weights under torchvision's tensor names, as a user's file would have them.
fn random_resnet18(dir: &Path) -> PathBuf {
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    candle_transformers::models::resnet::resnet18(1000, vb).unwrap();
    let path = dir.join("resnet18.safetensors");
    vm.save(&path).unwrap();
    path
}

fn photos() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/photos")
}

#[test]
fn efficientnet_lite0_weights_recognise_real_photographs() {
    let weights = Backbone::EfficientnetLite0.default_weights().unwrap();
    assert!(weights.exists(), "{} is missing: run scripts/fetch-models", weights.display());
    let o = mmant(&[
        "classify",
        "--json",
        photos().join("chelsea.jpg").to_str().unwrap(),
        photos().join("coffee.jpg").to_str().unwrap(),
        photos().join("rocket.jpg").to_str().unwrap(),
        // `classify assets/photos/*` meets the folder's README: skipped with a warning
        photos().join("README.md").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: skipped") && stderr(&o).contains("README.md"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3, "{v}");
    let top = |i: usize| -> Vec<String> {
        v[i]["top5"].as_array().unwrap().iter().map(|c| c[0].as_str().unwrap().to_owned()).collect()
    };
    let (cat, coffee, rocket) = (top(0), top(1), top(2));
    // a cat photo: the top class and most of the top 3 are cat breeds
    let cats = ["tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat", "lynx"];
    assert!(
        cats.contains(&cat[0].as_str()) && cat[..3].iter().all(|c| cats.contains(&c.as_str())),
        "{cat:?}"
    );
    assert_eq!(coffee[0], "espresso", "{coffee:?}");
    assert!(v[1]["top5"][0][1].as_f64().unwrap() > 0.5, "espresso should be confident: {v}");
    assert!(
        rocket[..3]
            .iter()
            .any(|c| ["missile", "projectile", "space shuttle"].contains(&c.as_str())),
        "{rocket:?}"
    );
}

#[test]
fn extract_writes_channels_first_features_and_a_truthful_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let video = test_video(dir.path());
    let weights = random_resnet18(dir.path());
    let out = dir.path().join("features");
    let o = mmant(&[
        "extract",
        video.to_str().unwrap(),
        "--backbone",
        "resnet18",
        "--weights",
        weights.to_str().unwrap(),
        "--stride",
        "4",
        "--batch",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // stderr is a pipe here, not a terminal: progress comes as lines
    assert!(stderr(&o).contains("pattern.mp4: 6 of 6 sampled frames"), "{}", stderr(&o));
    let npy = out.join("pattern.npy");
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("pattern.json")).unwrap()).unwrap();
    assert_eq!(side["backbone"], "resnet18");
    assert_eq!(side["orientation"], "CxT");
    assert_eq!(side["dim"], 512);
    assert_eq!(side["stride"], 4);
    assert_eq!(side["video_frames"], 23);
    assert_eq!(side["samples"], 6); // frames 0, 4, …, 20
    assert_eq!(
        side["weights_sha256"].as_str().unwrap(),
        mmant::features::sha256_file(&weights).unwrap()
    );
    let raw = npyz::NpyFile::new(std::fs::File::open(&npy).unwrap()).unwrap();
    assert_eq!(raw.shape(), &[512, 6]);
    // the data layer reads it back as one row per video frame
    let f = mmant::data::Features::read(&npy, None).unwrap();
    assert_eq!((f.dim, f.frames, f.backbone.as_deref()), (512, 23, Some("resnet18")));
    assert_eq!(f.row(5), f.row(7));
    assert_ne!(f.row(3), f.row(4), "different frames give different features");
    // the same frames through the network directly give the same columns
    let net = Network::load(Backbone::Resnet18, &weights, &Device::Cpu).unwrap();
    let mut vf = mmant::video::VideoFile::open(&video).unwrap();
    let (w, h) = mmant::features::preprocess::resized_size(320, 240);
    let frame = vf.frame(8, w, h).unwrap();
    let mut x = Vec::new();
    mmant::features::preprocess::push_center_crop(
        &frame.data,
        frame.width,
        frame.height,
        Backbone::Resnet18.normalization(),
        &mut x,
    );
    let x = candle_core::Tensor::from_vec(x, (1, 3, 224, 224), &Device::Cpu).unwrap();
    let direct: Vec<f32> = net.features(&x).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    let max_diff = direct.iter().zip(f.row(8)).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(max_diff < 1e-4, "batched extraction differs from a single forward pass by {max_diff}");
}

#[test]
fn interrupted_extraction_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let video = test_video(dir.path());
    let weights = random_resnet18(dir.path());
    let net = Network::load(Backbone::Resnet18, &weights, &Device::Cpu).unwrap();
    let out = dir.path().join("features");
    std::fs::create_dir_all(&out).unwrap();
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let r = extract_video(
        &net,
        &video,
        &out,
        &ExtractOptions { stride: 1, batch: 4, ..Default::default() },
        &mut |_, _| {
            calls += 1;
            cancel.store(true, Ordering::Relaxed); // as Ctrl-C after the first batch
        },
        &cancel,
    );
    assert!(matches!(r, Err(mmant::features::FeatureError::Cancelled { .. })), "{:?}", r.err());
    assert_eq!(calls, 1);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing written, no temporary file left"
    );
}

#[test]
fn weights_of_another_network_or_format_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let weights = random_resnet18(dir.path());
    let err = Network::load(Backbone::Resnet50, &weights, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("resnet18.safetensors") && err.contains("not resnet50 weights"), "{err}");
    let garbage = dir.path().join("garbage.pth");
    std::fs::write(&garbage, b"this is not a state dict at all").unwrap();
    let err = Network::load(Backbone::Resnet18, &garbage, &Device::Cpu).err().unwrap().to_string();
    assert!(
        err.contains("garbage.pth") && err.contains("expected a .safetensors or .pth"),
        "{err}"
    );
    let legacy = dir.path().join("legacy.pth");
    std::fs::write(&legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]).unwrap();
    let err = Network::load(Backbone::EfficientnetLite0, &legacy, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("legacy") && err.contains("scripts/pth-to-safetensors"), "{err}");
    let o = mmant(&[
        "extract",
        "x.mp4",
        "--backbone",
        "resnet50",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("resnet50 needs --weights"),
        "{}",
        stderr(&o)
    );
}

/// A tiny dataset whose "features" are one-hot labels written as extractor output of `backbone`.
fn feature_dataset(dir: &Path, backbone: &str) {
    std::fs::create_dir_all(dir.join("groundTruth")).unwrap();
    std::fs::create_dir_all(dir.join("features")).unwrap();
    std::fs::create_dir_all(dir.join("splits")).unwrap();
    std::fs::write(dir.join("mapping.txt"), "0 a\n1 b\n2 c\n").unwrap();
    let mut names = Vec::new();
    for v in 0..6usize {
        let labels: Vec<usize> =
            [0usize, 1, 2].iter().flat_map(|&l| std::iter::repeat_n(l, 12 + v)).collect();
        let text: String = labels.iter().map(|&l| format!("{}\n", ["a", "b", "c"][l])).collect();
        let name = format!("v{v}");
        std::fs::write(dir.join(format!("groundTruth/{name}.txt")), text).unwrap();
        let mut cxt = vec![0f32; 4 * labels.len()];
        for (t, &l) in labels.iter().enumerate() {
            cxt[l * labels.len() + t] = 1.0;
        }
        mmant::data::features::write_npy_f32(
            &dir.join(format!("features/{name}.npy")),
            [4, labels.len()],
            &cxt,
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("features/{name}.json")),
            format!(r#"{{"orientation": "CxT", "dim": 4, "backbone": "{backbone}"}}"#),
        )
        .unwrap();
        names.push(name);
    }
    let bundle = |vs: &[String]| vs.iter().map(|v| format!("{v}.txt\n")).collect::<String>();
    std::fs::write(dir.join("splits/train.split1.bundle"), bundle(&names[..4])).unwrap();
    std::fs::write(dir.join("splits/test.split1.bundle"), bundle(&names[4..])).unwrap();
}

/// Trains a D = 16 FUTR on [`feature_dataset`]'s 4-d features into `ckpt`.
fn train_small_futr_on_features(data: &Path, ckpt: &Path, epochs: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "futr",
        "--input",
        "features",
        "--feature-dim",
        "4",
        "--epochs",
        epochs,
        "--warmup",
        "1",
        "--batch-size",
        "4",
        "--stride",
        "2",
        "--d-model",
        "16",
        "--out",
        ckpt.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = mmant(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `eval --recognition` scores the segmentation head's labels of the observed frames: a model
/// trained on features that say the label reads them back; one trained for a single step does not.
#[test]
fn recognition_of_the_observed_frames_is_scored_per_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    feature_dataset(&data, "resnet18");
    let accuracy = |epochs: &str| {
        let ckpt = dir.path().join(format!("ckpt-{epochs}"));
        train_small_futr_on_features(
            &data,
            &ckpt,
            epochs,
            &["--lr", "0.01", "--held-out-every", "0"],
        );
        let o = mmant(&[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--checkpoint",
            ckpt.join("model").to_str().unwrap(),
            "--recognition",
            "--alphas",
            "0.3,0.5",
            "--json",
            "--out",
            dir.path().join("results").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let report = &v[0][1];
        assert_eq!(report["videos"], 2, "{v}");
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{v}");
        assert_eq!(rows[1][0], 0.5, "{v}");
        rows.iter().map(|r| r[1]["accuracy"].as_f64().unwrap()).collect::<Vec<_>>()
    };
    let trained = accuracy("40");
    let barely = accuracy("1");
    // half the video holds two of the three classes (training cuts observe at most half, so the
    // third is never an observed class): read back, far above a guess
    assert!(trained[1] > 90.0, "trained {trained:?}, one epoch {barely:?}");
    assert!(barely[1] < trained[1] - 20.0, "trained {trained:?}, one epoch {barely:?}");
}

#[test]
fn a_checkpoint_refuses_features_of_another_backbone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    feature_dataset(&data, "resnet18");
    let ckpt = dir.path().join("ckpt");
    train_small_futr_on_features(&data, &ckpt, "1", &[]);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ckpt.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta["input"]["backbone"], "resnet18", "{meta}");
    // every frame had a sample: the viewer extracts a new video the same way
    assert_eq!(meta["input"]["feature_stride"], 1, "{meta}");
    let eval = |data: &Path| {
        mmant(&[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--checkpoint",
            ckpt.join("model").to_str().unwrap(),
            "--alphas",
            "0.3",
        ])
    };
    let o = eval(&data);
    assert!(o.status.success(), "{}", stderr(&o));
    let other = dir.path().join("other");
    feature_dataset(&other, "efficientnet-lite0");
    let o = eval(&other);
    let err = stderr(&o);
    assert!(
        !o.status.success()
            && err.contains("trained on resnet18 features")
            && err.contains("efficientnet-lite0"),
        "{err}"
    );
}

#[test]
fn sample_count_follows_the_stride_and_extraction_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let video = test_video(dir.path()); // 23 frames
    let weights = random_resnet18(dir.path());
    let net = Network::load(Backbone::Resnet18, &weights, &Device::Cpu).unwrap();
    let never = AtomicBool::new(false);
    for (stride, samples) in [(5usize, 5usize), (7, 4), (23, 1), (30, 1)] {
        let out = dir.path().join(format!("s{stride}"));
        let r = extract_video(
            &net,
            &video,
            &out,
            &ExtractOptions { stride, batch: 4, ..Default::default() },
            &mut |_, _| {},
            &never,
        )
        .unwrap();
        assert_eq!((r.sidecar.samples, r.sidecar.stride), (samples, stride));
        let raw = npyz::NpyFile::new(std::fs::File::open(&r.npy).unwrap()).unwrap();
        assert_eq!(raw.shape(), &[512, samples as u64], "stride {stride}");
    }
    // the same video twice, with other batch sizes: identical bytes
    let again = dir.path().join("again");
    extract_video(
        &net,
        &video,
        &again,
        &ExtractOptions { stride: 5, batch: 2, ..Default::default() },
        &mut |_, _| {},
        &never,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(again.join("pattern.npy")).unwrap(),
        std::fs::read(dir.path().join("s5/pattern.npy")).unwrap()
    );
}

#[test]
fn a_truncated_video_stops_at_the_first_bad_frame_or_continues_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let clip = std::fs::read(shared_data("..").join("video/v_GGSY1Qvo990.mp4")).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &clip[..clip.len() / 3]).unwrap();
    let weights = random_resnet18(dir.path());
    let net = Network::load(Backbone::Resnet18, &weights, &Device::Cpu).unwrap();
    let never = AtomicBool::new(false);
    let out = dir.path().join("stop");
    let opts = ExtractOptions { stride: 10, batch: 8, ..Default::default() };
    let err = extract_video(&net, &cut, &out, &opts, &mut |_, _| {}, &never)
        .err()
        .expect("the stream is cut")
        .to_string();
    assert!(err.contains("cut.mp4: frame "), "{err}");
    assert!(
        err.contains("the file ends early: ")
            && err.contains("frames its container declares, stopping at "),
        "{err}"
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().count() == 0, "nothing written");
    let first_bad: usize =
        err.split("frame ").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    let opts = ExtractOptions { on_bad_frame: mmant::features::BadFramePolicy::Continue, ..opts };
    let r = extract_video(&net, &cut, &dir.path().join("continue"), &opts, &mut |_, _| {}, &never)
        .unwrap();
    assert_eq!(r.sidecar.bad_frames.first(), Some(&first_bad));
    assert_eq!(r.sidecar.samples, r.sidecar.video_frames.div_ceil(10));
    let early = r.sidecar.ends_early.as_ref().expect("the sidecar marks the early end");
    assert_eq!(early.frames, r.sidecar.video_frames);
    let whole = mmant::video::VideoFile::open(&shared_data("..").join("video/v_GGSY1Qvo990.mp4"))
        .unwrap()
        .metadata;
    assert_eq!(early.declared_frames, whole.frames, "the declared length is the uncut file's");
    assert!(whole.ends_early().is_none(), "a whole file is not reported");
    let f = mmant::data::Features::read(&r.npy, None).unwrap();
    // a bad frame repeats the last good sampled frame's features
    let last_good = (first_bad / 10 - 1) * 10;
    assert_eq!(f.row(first_bad), f.row(last_good));
}
