//! The desktop viewer: a video panel, the α slider and a timeline of ground truth, the model's
//! observed-part labels and the anticipated future, with CSV export. State (`state`) is kept
//! apart from drawing (`app`, `timeline`); decoding and inference run on worker threads.

pub mod app;
pub mod inference;
pub mod state;
pub mod timeline;

pub use app::ViewerApp;
pub use state::{Command, ViewerState};

/// Opens the native window (wgpu, falling back to glow when no adapter is found).
pub fn run(app: ViewerApp) -> anyhow::Result<()> {
    let title = format!("mmant — {}", app.state.video_name);
    let options = eframe::NativeOptions { viewport: egui::ViewportBuilder::default().with_inner_size([1100.0, 720.0]), ..Default::default() };
    let mut app = Some(app);
    let result = eframe::run_native(&title, options, Box::new(|_cc| Ok(Box::new(app.take().expect("created once")))));
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("opening the window: {e}")),
    }
}
