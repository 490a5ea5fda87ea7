//! Building the viewer from the files the user gives (the `view` command, the demo, the benches).

use std::path::Path;

use super::{ViewerApp, ViewerError, ViewerState};
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
    let vocab = match (mapping, checkpoint) {
        (Some(m), _) => Vocabulary::read(m)?,
        (None, Some(c)) => {
            Vocabulary::from_names(crate::model::checkpoint::read_meta(c)?.vocabulary)
                .with_origin("the checkpoint's vocabulary")
        }
        (None, None) if labels.is_some() => {
            return Err(ViewerError::Usage(
                "--labels needs --mapping (or a --checkpoint, whose vocabulary is used)",
            ));
        }
        (None, None) => Vocabulary::default(),
    };
    let (name, gt) = match labels {
        Some(p) => {
            let ids = FrameLabels::read(p)?.encode_strict(&vocab)?;
            (p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(), Some(ids))
        }
        None => (
            video
                .and_then(|v| v.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into()),
            None,
        ),
    };
    let frames = match (&gt, video) {
        (Some(g), _) => g.len(),
        (None, Some(v)) => crate::video::VideoFile::open(v)?.metadata.frames,
        (None, None) => {
            return Err(ViewerError::Usage("nothing to show: give a video or --labels"));
        }
    };
    let state = ViewerState::new(name, vocab, frames, fps.unwrap_or(15.0), gt);
    let mut app =
        ViewerApp::new(state, checkpoint.map(Path::to_path_buf), video.map(Path::to_path_buf));
    if let Some(p) = labels {
        // the labels are edited in place; a journal left by a crash is replayed here. A label
        // file that cannot be journaled (a read-only folder) is shown, not edited.
        if let Err(e) = app.attach_annotation(p) {
            app.state.status = format!("editing is off: {e}");
        }
    }
    Ok(app)
}

/// The viewer on the demo compiled into the binary, playing and following the playhead.
pub fn demo_app(demo: &crate::demo::DemoFiles) -> Result<ViewerApp, ViewerError> {
    let mut app = viewer_app(
        Some(&demo.labels),
        Some(&demo.mapping),
        Some(&demo.model),
        Some(&demo.video),
        Some(15.0),
    )?;
    app.window_title = "mmant demo — the video is a rendering of Breakfast's P06_cam01_P06_friedegg labels, not the real video".into();
    app.demo = true;
    app.state.playing = true;
    app.state.follow_playhead = true;
    Ok(app)
}
