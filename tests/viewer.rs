//! The viewer, headless with egui_kittest: widgets answer, the model runs off the UI thread,
//! the anticipation follows the observation rate, and the timeline is drawn.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mmant::viewer::{Command, ViewerApp};

fn harness(app: ViewerApp) -> Harness<'static, ViewerApp> {
    Harness::builder().with_size((1000.0, 600.0)).wgpu().build_ui_state(|ui, app: &mut ViewerApp| app.draw(ui), app)
}

/// Steps the UI until `done` holds (the workers answer in the background).
fn step_until(h: &mut Harness<'static, ViewerApp>, what: &str, done: impl Fn(&ViewerApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}; status: {}", h.state().state.status);
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn labels_without_video_or_model_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("v.txt");
    let mapping = dir.path().join("mapping.txt");
    std::fs::write(&mapping, "0 SIL\n1 pour_milk\n").unwrap();
    std::fs::write(&labels, "SIL\n".repeat(20) + &"pour_milk\n".repeat(40)).unwrap();
    let app = mmant::cli::viewer_app(Some(&labels), Some(&mapping), None, None, Some(15.0)).unwrap();
    let mut h = harness(app);
    h.run_steps(3);
    assert!(h.state().state.status.contains("no video"), "{}", h.state().state.status);
    h.get_by_label("Play").click();
    h.run_steps(2);
    assert!(h.state().state.playing);
    let _ = h.get_by_label("follow playhead");
}

#[test]
fn anticipation_runs_off_thread_and_follows_alpha() {
    let (_dir, labels, mapping, model) = mmant::cli::demo_files().unwrap();
    let app = mmant::cli::viewer_app(Some(&labels), Some(&mapping), Some(&model), None, Some(15.0)).unwrap();
    let frames = app.state.frames;
    let mut h = harness(app);
    let at = |alpha: f32| ((alpha as f64) * frames as f64) as usize;
    step_until(&mut h, "the first anticipation", |a| a.state.anticipation.as_ref().is_some_and(|x| x.observed == at(0.3)));
    let first = h.state().state.anticipation.clone().unwrap();
    assert_eq!(first.future.len(), frames - first.observed);
    assert_eq!(first.coarse.len(), first.observed);
    h.state_mut().state.apply(Command::SetAlpha(0.6));
    step_until(&mut h, "the anticipation at α = 0.6", |a| a.state.anticipation.as_ref().is_some_and(|x| x.observed == at(0.6)));
    let second = h.state().state.anticipation.clone().unwrap();
    assert_eq!(second.future.len(), frames - at(0.6));
    assert!(h.state().state.status.contains("anticipated from frame"), "{}", h.state().state.status);

    // the timeline is drawn: its lower part holds many coloured (saturated) pixels
    h.run_steps(2);
    let image = h.render().expect("render headless (mesa's lavapipe or llvmpipe)");
    if let Some(p) = std::env::var_os("MMANT_VIEWER_SCREENSHOT") {
        image.save(p).unwrap();
    }
    let (w, ht) = image.dimensions();
    let coloured = (ht * 2 / 3..ht)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = image.get_pixel(x, y).0;
            let (mx, mn) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
            mx as i32 - mn as i32 > 60
        })
        .count();
    assert!(coloured > 5000, "only {coloured} coloured pixels in the timeline area");
}
