//! Renders the demo video: a top-down kitchen table on which drawn objects act out a real
//! Breakfast annotation frame by frame (15 fps), with the current action's name in a corner.
//! No licensed cooking video can ship with mmant; this makes the demo's video reproducible from
//! its labels. The frames are piped to the ffmpeg tool (H.264).
//!
//! cargo run --release --example render_demo -- assets/demo/P06_cam01_P06_friedegg.txt assets/demo/P06_cam01_P06_friedegg.mp4

use std::io::Write;
use std::process::{Command, Stdio};

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

const W: u32 = 480;
const H: u32 = 360;
const FPS: u32 = 15;

type P = (f32, f32);

fn lerp(a: P, b: P, t: f32) -> P {
    let t = t.clamp(0.0, 1.0);
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// Eases in and out, so that objects start and stop smoothly.
fn ease(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

struct Canvas {
    img: RgbImage,
}

impl Canvas {
    fn blend(&mut self, x: i32, y: i32, c: [u8; 3], a: f32) {
        if x < 0 || y < 0 || x >= W as i32 || y >= H as i32 {
            return;
        }
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        for (channel, &target) in p.0.iter_mut().zip(&c) {
            *channel = (*channel as f32 * (1.0 - a) + target as f32 * a).round() as u8;
        }
    }

    fn rect(&mut self, (x, y): P, (w, h): P, c: [u8; 3], a: f32) {
        for yy in y as i32..(y + h) as i32 {
            for xx in x as i32..(x + w) as i32 {
                self.blend(xx, yy, c, a);
            }
        }
    }

    /// Filled ellipse with an anti-aliased edge.
    fn ellipse(&mut self, (cx, cy): P, (rx, ry): P, c: [u8; 3], a: f32) {
        for yy in (cy - ry - 1.0) as i32..=(cy + ry + 1.0) as i32 {
            for xx in (cx - rx - 1.0) as i32..=(cx + rx + 1.0) as i32 {
                let (dx, dy) = ((xx as f32 + 0.5 - cx) / rx, (yy as f32 + 0.5 - cy) / ry);
                let d = (dx * dx + dy * dy).sqrt();
                let cover = ((1.0 - d) * rx.min(ry) + 0.5).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(xx, yy, c, a * cover);
                }
            }
        }
    }

    fn circle(&mut self, c: P, r: f32, color: [u8; 3], a: f32) {
        self.ellipse(c, (r, r), color, a);
    }

    fn text(&mut self, font: &FontRef, (x, y): P, size: f32, s: &str, c: [u8; 3]) {
        let scaled = font.as_scaled(PxScale::from(size));
        let mut caret = x;
        for ch in s.chars() {
            let id = scaled.glyph_id(ch);
            let glyph = id.with_scale_and_position(size, point(caret, y + scaled.ascent()));
            caret += scaled.h_advance(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, cov| {
                    self.blend(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, c, cov)
                });
            }
        }
    }
}

/// Where things are on the table.
struct Layout {
    pan: P,
    plate_home: P,
    plate_work: P,
    oil_home: P,
    eggs_home: P,
    eggs_work: P,
    salt_home: P,
    spatula_home: P,
    rest_left: P,
    rest_right: P,
}

const LAYOUT: Layout = Layout {
    pan: (190.0, 185.0),
    plate_home: (420.0, 70.0),
    plate_work: (365.0, 200.0),
    oil_home: (60.0, 60.0),
    eggs_home: (160.0, 50.0),
    eggs_work: (90.0, 250.0),
    salt_home: (300.0, 50.0),
    spatula_home: (70.0, 150.0),
    rest_left: (170.0, 335.0),
    rest_right: (310.0, 335.0),
};

/// The state of the scene, derived from the annotation up to the current frame.
#[derive(Default, Clone)]
struct Scene {
    oil: f32,
    eggs_in_pan: u32,
    egg_cooked: f32,
    seasoning: f32,
    plate_out: bool,
    eggs_out: bool,
    egg_on_plate: bool,
    butter: f32,
}

const SKIN: [u8; 3] = [231, 190, 160];

fn draw_static(c: &mut Canvas, s: &Scene, hide: &[&str]) {
    let l = &LAYOUT;
    // table (wood) and stove
    c.rect((0.0, 0.0), (W as f32, H as f32), [176, 132, 88], 1.0);
    for i in 0..12 {
        c.rect((0.0, i as f32 * 30.0 + 14.0), (W as f32, 2.0), [160, 118, 78], 1.0);
    }
    c.rect((110.0, 105.0), (160.0, 160.0), [60, 60, 66], 1.0);
    // pan with its contents
    c.circle(l.pan, 62.0, [35, 35, 38], 1.0);
    c.circle(l.pan, 55.0, [70, 70, 76], 1.0);
    c.rect((l.pan.0 - 130.0, l.pan.1 - 6.0), (70.0, 12.0), [35, 35, 38], 1.0);
    if s.butter > 0.0 {
        c.circle(l.pan, 20.0 + 25.0 * s.butter, [250, 230, 150], 0.5);
    }
    if s.oil > 0.0 {
        c.circle(l.pan, 15.0 + 35.0 * s.oil, [220, 190, 60], 0.45);
    }
    for i in 0..s.eggs_in_pan.min(2) {
        let at = (l.pan.0 - 12.0 + 26.0 * i as f32, l.pan.1 + 4.0 - 8.0 * i as f32);
        let white = 200.0 + 55.0 * s.egg_cooked;
        c.ellipse(
            at,
            (22.0, 18.0),
            [white as u8, white as u8, (white - 10.0) as u8],
            0.6 + 0.4 * s.egg_cooked,
        );
        c.circle(at, 7.0, [250, 180, 20], 1.0);
    }
    for i in 0..(s.seasoning * 30.0) as i32 {
        let a = i as f32 * 2.4;
        let r = 8.0 + (i * 7 % 30) as f32;
        c.circle(
            (l.pan.0 + r * a.cos(), l.pan.1 + r * a.sin()),
            1.2,
            if i % 2 == 0 { [20, 20, 20] } else { [250, 250, 250] },
            1.0,
        );
    }
    // plate
    let plate = if s.plate_out { l.plate_work } else { l.plate_home };
    if !hide.contains(&"plate") {
        c.circle(plate, 40.0, [235, 235, 240], 1.0);
        c.circle(plate, 30.0, [245, 245, 250], 1.0);
        if s.egg_on_plate {
            c.ellipse(plate, (22.0, 18.0), [255, 255, 245], 1.0);
            c.circle(plate, 7.0, [250, 170, 20], 1.0);
        }
    }
    if !hide.contains(&"oil") {
        draw_oil(c, l.oil_home);
    }
    if !hide.contains(&"eggs") {
        draw_eggs(c, if s.eggs_out { l.eggs_work } else { l.eggs_home }, 6 - s.eggs_in_pan.min(6));
    }
    if !hide.contains(&"saltnpepper") {
        draw_shakers(c, l.salt_home);
    }
    if !hide.contains(&"spatula") {
        draw_spatula(c, l.spatula_home);
    }
}

fn draw_oil(c: &mut Canvas, at: P) {
    c.ellipse(at, (16.0, 22.0), [210, 180, 40], 0.9);
    c.circle((at.0, at.1 - 20.0), 6.0, [40, 120, 40], 1.0);
}

fn draw_eggs(c: &mut Canvas, at: P, n: u32) {
    c.rect((at.0 - 36.0, at.1 - 16.0), (72.0, 32.0), [190, 170, 130], 1.0);
    for i in 0..n {
        c.ellipse(
            (at.0 - 24.0 + (i % 3) as f32 * 24.0, at.1 - 7.0 + (i / 3) as f32 * 14.0),
            (9.0, 6.5),
            [245, 235, 215],
            1.0,
        );
    }
}

fn draw_shakers(c: &mut Canvas, at: P) {
    c.circle((at.0 - 10.0, at.1), 9.0, [250, 250, 250], 1.0);
    c.circle((at.0 + 10.0, at.1), 9.0, [40, 40, 40], 1.0);
}

fn draw_spatula(c: &mut Canvas, at: P) {
    c.rect((at.0 - 4.0, at.1 - 30.0), (8.0, 40.0), [90, 60, 30], 1.0);
    c.rect((at.0 - 12.0, at.1 + 8.0), (24.0, 20.0), [120, 120, 125], 1.0);
}

fn hand(c: &mut Canvas, at: P) {
    c.circle(at, 15.0, [200, 160, 130], 1.0);
    c.circle(at, 13.0, SKIN, 1.0);
}

/// The moving object and the hand of action `label` at progress `t` ∈ [0, 1], plus its effect
/// on the scene. Movement: fetch (0–0.25), act (0.25–0.75), return (0.75–1).
fn act(c: &mut Canvas, label: &str, t: f32, frame: usize, scene: &mut Scene, font: &FontRef) {
    let l = &LAYOUT;
    let go = |from: P, to: P| -> P {
        if t < 0.25 {
            lerp(from, to, ease(t / 0.25))
        } else if t < 0.75 {
            to
        } else {
            lerp(to, from, ease((t - 0.75) / 0.25))
        }
    };
    let work = ease(((t - 0.25) / 0.5).clamp(0.0, 1.0));
    let wobble = ((frame as f32) * 0.7).sin() * 6.0;
    match label {
        "pour_oil" => {
            scene.oil = scene.oil.max(work);
            let at = go(l.oil_home, (l.pan.0 + 20.0, l.pan.1 - 30.0));
            draw_static(c, scene, &["oil"]);
            draw_oil(c, at);
            hand(c, (at.0 + 18.0, at.1 + 10.0));
            hand(c, l.rest_left);
        }
        "butter_pan" => {
            scene.butter = scene.butter.max(work);
            draw_static(c, scene, &[]);
            hand(c, (l.pan.0 + wobble * 3.0, l.pan.1 + wobble));
            hand(c, l.rest_right);
        }
        "take_eggs" => {
            let at = lerp(l.eggs_home, l.eggs_work, ease(t));
            scene.eggs_out = t >= 1.0;
            draw_static(c, scene, &["eggs"]);
            draw_eggs(c, at, 6 - scene.eggs_in_pan.min(6));
            hand(c, (at.0 + 30.0, at.1 + 18.0));
            hand(c, (at.0 - 30.0, at.1 + 18.0));
        }
        "take_plate" => {
            let at = lerp(l.plate_home, l.plate_work, ease(t));
            draw_static(c, scene, &["plate"]);
            c.circle(at, 40.0, [235, 235, 240], 1.0);
            c.circle(at, 30.0, [245, 245, 250], 1.0);
            hand(c, (at.0 + 38.0, at.1 + 10.0));
            hand(c, l.rest_left);
            scene.plate_out = t >= 1.0;
        }
        "crack_egg" => {
            // two eggs in this annotation: one per half of the segment
            let half = if t < 0.5 { 0 } else { 1 };
            let u = (t - 0.5 * half as f32) * 2.0;
            let from = l.eggs_work;
            let at = if u < 0.5 {
                lerp(from, (l.pan.0, l.pan.1 - 40.0), ease(u / 0.5))
            } else {
                (l.pan.0, l.pan.1 - 40.0)
            };
            scene.eggs_in_pan = scene.eggs_in_pan.max(half + (u > 0.7) as u32);
            draw_static(c, scene, &[]);
            if u <= 0.7 {
                c.ellipse(at, (9.0, 6.5), [245, 235, 215], 1.0);
            }
            hand(c, (at.0 - 14.0, at.1 + 8.0));
            hand(c, (at.0 + 14.0, at.1 + 8.0));
        }
        "fry_egg" | "stir_fry" => {
            scene.egg_cooked = (scene.egg_cooked + 0.002).min(1.0);
            draw_static(c, scene, &["spatula"]);
            let at = go(l.spatula_home, (l.pan.0 + 30.0 + wobble, l.pan.1 + 10.0 + wobble * 0.5));
            draw_spatula(c, at);
            hand(c, (at.0, at.1 - 34.0));
            hand(c, l.rest_right);
        }
        "add_saltnpepper" => {
            scene.seasoning = scene.seasoning.max(work);
            let at = go(l.salt_home, (l.pan.0 + 10.0 + wobble, l.pan.1 - 30.0));
            draw_static(c, scene, &["saltnpepper"]);
            draw_shakers(c, at);
            hand(c, (at.0, at.1 + 16.0));
            hand(c, l.rest_left);
        }
        "put_egg2plate" => {
            let at = lerp(l.pan, l.plate_work, ease(t));
            if t > 0.05 {
                scene.eggs_in_pan = 0;
            }
            scene.egg_on_plate = t >= 1.0;
            draw_static(c, scene, &["spatula"]);
            if t < 1.0 {
                c.ellipse(at, (22.0, 18.0), [255, 255, 245], 1.0);
                c.circle(at, 7.0, [250, 170, 20], 1.0);
            }
            draw_spatula(c, (at.0, at.1 + 10.0));
            hand(c, (at.0, at.1 - 24.0));
            hand(c, l.rest_left);
        }
        "SIL" => {
            draw_static(c, scene, &[]);
            hand(c, l.rest_left);
            hand(c, l.rest_right);
        }
        other => {
            // any other action: a labelled token of its object moves to the work area and back
            draw_static(c, scene, &[]);
            let object = other.rsplit('_').next().unwrap_or(other);
            let at = go((W as f32 - 60.0, H as f32 - 90.0), (l.pan.0 + 90.0, l.pan.1));
            c.rect((at.0 - 30.0, at.1 - 12.0), (60.0, 24.0), [230, 230, 200], 1.0);
            c.text(font, (at.0 - 26.0, at.1 - 9.0), 13.0, object, [40, 40, 40]);
            hand(c, (at.0 + 30.0, at.1 + 14.0));
            hand(c, l.rest_left);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, labels, out] = args.as_slice() else {
        return Err("usage: render_demo <labels.txt> <out.mp4>".into());
    };
    let labels: Vec<String> = std::fs::read_to_string(labels)?
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    // segments: (label, start, end)
    let mut segs: Vec<(String, usize, usize)> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        match segs.last_mut() {
            Some((name, _, end)) if name == l => *end = i + 1,
            _ => segs.push((l.clone(), i, i + 1)),
        }
    }
    let font = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)?;
    let mut ffmpeg = Command::new("ffmpeg")
        .args([
            "-y",
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            &format!("{W}x{H}"),
            "-r",
            &FPS.to_string(),
            "-i",
            "-",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "slow",
            "-crf",
            "26",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()?;
    let mut stdin = ffmpeg.stdin.take().expect("piped");
    let mut scene = Scene::default();
    for (name, start, end) in &segs {
        for frame in *start..*end {
            // the last frame of a segment has t = 1: its effect on the scene is complete
            let t = (frame - start + 1) as f32 / (end - start) as f32;
            let mut c = Canvas { img: RgbImage::from_pixel(W, H, Rgb([0, 0, 0])) };
            act(&mut c, name, t, frame, &mut scene, &font);
            c.rect((0.0, H as f32 - 22.0), (W as f32, 22.0), [20, 20, 24], 0.75);
            c.text(
                &font,
                (6.0, H as f32 - 19.0),
                15.0,
                &format!("{name}   frame {frame}"),
                [255, 255, 255],
            );
            c.text(
                &font,
                (W as f32 - 190.0, 4.0),
                12.0,
                "rendering of a Breakfast annotation",
                [255, 255, 255],
            );
            stdin.write_all(c.img.as_raw())?;
        }
    }
    drop(stdin);
    if !ffmpeg.wait()?.success() {
        return Err("ffmpeg failed".into());
    }
    println!("{out}: {} frames at {FPS} fps, {} segments", labels.len(), segs.len());
    Ok(())
}
