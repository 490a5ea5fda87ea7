//! The desktop viewer: a video panel, the α slider and a timeline of ground truth, the model's
//! observed-part labels and the anticipated future, with CSV export. State (`state`) is kept
//! apart from drawing (`app`, `timeline`); decoding and inference run on worker threads.

pub mod app;
pub mod inference;
pub mod open;
pub mod palette;
pub mod plots;
pub mod state;
pub mod timeline;

pub use app::{Settings, ViewerApp};
pub use open::{demo_app, viewer_app};
pub use state::{UiCommand, ViewerState};

/// Why the viewer could not open.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Checkpoint(#[from] crate::model::checkpoint::CheckpointError),
    #[error(transparent)]
    Video(#[from] crate::video::VideoError),
    #[error(transparent)]
    Labels(#[from] crate::annotation::formats::FormatError),
    /// The files given do not make a viewer (e.g. labels without a vocabulary).
    #[error("{0}")]
    Usage(&'static str),
    #[error("opening the window: {0}")]
    Window(String),
}

/// Opens the native window with wgpu; when wgpu finds no adapter it falls back to OpenGL (glow)
/// and says so in the status bar, as it does when the adapter is a software rasteriser.
pub fn run(app: ViewerApp) -> Result<(), ViewerError> {
    let title = app.window_title.clone();
    let mut app = Some(app);
    let mut wgpu_error = None;
    for renderer in [eframe::Renderer::Wgpu, eframe::Renderer::Glow] {
        let options = eframe::NativeOptions {
            viewport: egui::ViewportBuilder::default()
                .with_inner_size([1280.0, 800.0])
                .with_app_id("mmant"),
            renderer,
            ..Default::default()
        };
        let fallback_note = wgpu_error.clone();
        let result = eframe::run_native(
            &title,
            options,
            Box::new(|cc| {
                let mut app = app.take().expect("the window is created once");
                if let Some(storage) = cc.storage
                    && let Some(settings) = eframe::get_value::<Settings>(storage, eframe::APP_KEY)
                {
                    app = app.with_settings(settings);
                }
                app.renderer_note = match (&cc.wgpu_render_state, fallback_note) {
                    (Some(rs), _) => {
                        let info = rs.adapter.get_info();
                        Some(if info.device_type == wgpu::DeviceType::Cpu {
                            format!("software rendering ({}): expect a slower window", info.name)
                        } else {
                            format!("wgpu: {} ({:?})", info.name, info.backend)
                        })
                    }
                    (None, Some(e)) => {
                        Some(format!("no wgpu adapter ({e}): drawing with OpenGL (glow)"))
                    }
                    (None, None) => Some("OpenGL (glow)".into()),
                };
                if let Some(note) =
                    app.renderer_note.as_ref().filter(|_| cc.wgpu_render_state.is_none())
                {
                    eprintln!("mmant: {note}");
                }
                Ok(Box::new(app))
            }),
        );
        match result {
            Ok(()) => return Ok(()),
            // the app was never created: wgpu could not start; try glow with the same app
            Err(e) if app.is_some() && renderer == eframe::Renderer::Wgpu => {
                wgpu_error = Some(e.to_string())
            }
            Err(e) => return Err(ViewerError::Window(e.to_string())),
        }
    }
    Err(ViewerError::Window(wgpu_error.unwrap_or_default()))
}
