//! Building the viewer from the files the user gives (the `view` command, the demo, the benches).

use std::path::Path;

use super::{ViewerApp, ViewerError, ViewerState};
use crate::annotation::Clock;
use crate::annotation::formats::{self, Format, ReadOptions};
use crate::data::{FrameLabels, Vocabulary};

/// Builds the viewer's state from a label file and a vocabulary (a mapping file, or the
/// checkpoint's).
pub fn viewer_app(
    labels: Option<&Path>,
    mapping: Option<&Path>,
    checkpoint: Option<&Path>,
    video: Option<&Path>,
    fps: Option<f64>,
) -> Result<ViewerApp, ViewerError> {
    // label files of segments (.csv, .eaf, .json) carry their vocabulary; per-frame ones need one
    let segment_file =
        labels.is_some_and(|p| !matches!(Format::detect(p, b""), Format::MsTcn | Format::Darai));
    let vocab = match (mapping, checkpoint) {
        (Some(m), _) => Vocabulary::read(m)?,
        (None, Some(c)) => {
            Vocabulary::from_names(crate::model::checkpoint::read_meta(c)?.vocabulary)
                .with_origin("the checkpoint's vocabulary")
        }
        (None, None) if labels.is_some() && !segment_file => {
            return Err(ViewerError::Usage(
                "--labels needs --mapping (or a --checkpoint, whose vocabulary is used)",
            ));
        }
        (None, None) => Vocabulary::default(),
    };
    // a variable-frame-rate video's frame times place ELAN's milliseconds on its frames
    let frame_times = match (labels, video) {
        (Some(p), Some(v)) if Format::detect(p, b"") == Format::Eaf => {
            let m = crate::video::VideoFile::open(v)?.metadata;
            m.frame_times.is_some().then(|| Clock::of_video(&m))
        }
        _ => None,
    };
    let fps = fps.unwrap_or(15.0);
    let (name, gt, vocab, level) = match labels {
        Some(p) if segment_file => {
            let bytes = std::fs::read(p).map_err(|e| crate::data::DataError::io(p, e))?;
            let given = [("action".to_owned(), vocab.clone())];
            let opts = ReadOptions {
                vocabularies: if vocab.is_empty() { &[] } else { &given },
                strict: !vocab.is_empty(),
                clock: Some(frame_times.clone().unwrap_or(Clock::Fps(fps))),
                ..Default::default()
            };
            let doc = formats::read_with(p, &bytes, &opts)?;
            let first = &doc.levels[0];
            let vocab = if vocab.is_empty() { first.vocabulary() } else { vocab };
            (doc.video.clone(), Some(first.track.labels()), vocab, first.name.clone())
        }
        Some(p) => {
            let ids = FrameLabels::read(p)?.encode_strict(&vocab)?;
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (name, Some(ids), vocab, "action".to_owned())
        }
        None => (
            video
                .and_then(|v| v.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into()),
            None,
            vocab,
            "action".to_owned(),
        ),
    };
    let frames = match (&gt, video) {
        (Some(g), _) => g.len(),
        (None, Some(v)) => crate::video::VideoFile::open(v)?.metadata.frames,
        (None, None) => {
            return Err(ViewerError::Usage("nothing to show: give a video or --labels"));
        }
    };
    let mut state = ViewerState::new(name, vocab, frames, fps, gt);
    state.level = level;
    let mut app =
        ViewerApp::new(state, checkpoint.map(Path::to_path_buf), video.map(Path::to_path_buf));
    app.frame_times = frame_times;
    if let Some(p) = labels {
        // the labels are edited in place; a journal left by a crash is replayed here. A label
        // file that cannot be journaled (a read-only folder) is shown, not edited.
        if let Err(e) = app.attach_annotation(p) {
            app.state.status = format!("editing is off: {e}");
        }
    }
    Ok(app)
}

/// The viewer on the demo compiled into the binary, playing and following the playhead. Its
/// model observes the video's pixels (features extracted in the background on first open) when
/// EfficientNet-Lite0's weights are installed, and the labels otherwise; the ground truth is
/// shown either way, for comparison.
pub fn demo_app(demo: &crate::demo::DemoFiles) -> Result<ViewerApp, ViewerError> {
    let from_pixels =
        crate::features::Backbone::EfficientnetLite0.default_weights().is_some_and(|w| w.exists());
    let model = if from_pixels { &demo.pixels_model } else { &demo.model };
    let mut app = viewer_app(
        Some(&demo.labels),
        Some(&demo.mapping),
        Some(model),
        Some(&demo.video),
        Some(15.0),
    )?;
    app.window_title = if from_pixels {
        "mmant demo — recognising and anticipating from the video's pixels; the video is a rendering of Breakfast's P06_cam01_P06_friedegg labels, not the real video"
    } else {
        "mmant demo — the model observes the labels; the video is a rendering of Breakfast's P06_cam01_P06_friedegg labels, not the real video"
    }
    .into();
    if !from_pixels {
        app.state.status = "EfficientNet-Lite0's weights are not installed (scripts/fetch-models): the demo's model observes the labels, not the pixels".into();
    }
    app.demo = true;
    app.state.playing = true;
    app.state.follow_playhead = true;
    Ok(app)
}
