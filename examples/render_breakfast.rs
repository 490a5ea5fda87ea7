//! Renders Breakfast annotations as video: a drawn, top-down kitchen table on which objects and
//! two hands act out the real labels frame by frame at the real 15 fps. **Synthetic**: no
//! licensed cooking video can ship with mmant or be reached here, so this makes a labelled visual
//! benchmark (and the demo's video) from the real annotations.
//!
//! What makes recognition non-trivial: every participant (P03…P54) has their own table, layout,
//! object colours, hands, sleeves, camera placement, lighting, noise and compression; the camera
//! shakes and the light drifts; objects are shared between actions (the milk is poured on cereals
//! and into coffee, the spoon stirs and scoops, the knife cuts and smears, the pan fries eggs and
//! pancakes); in the last few frames of an action the hands already move towards the next one.
//! The label is never written on the frame.
//!
//! One video:
//!   cargo run --release --example render_breakfast -- video LABELS.txt OUT.mp4
//! A dataset in the MS-TCN layout (videos/, groundTruth/ copied from the real labels, mapping.txt,
//! splits/ restricted to the rendered videos, README.md saying it is synthetic):
//!   cargo run --release --example render_breakfast -- dataset --data ../shared/data/breakfast \
//!       --out data/rendered-breakfast --split 1 --train 240 --test 60
//! Needs the ffmpeg tool (H.264 via libx264).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::{Parser, Subcommand};

const W: usize = 320;
const H: usize = 240;
const FPS: u32 = 15;

type P = (f32, f32);

// ---------------------------------------------------------------------------------------------
// Randomness: a small deterministic generator, so that a video renders the same on every machine.

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        // SplitMix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn hash(s: &str) -> u64 {
    // FNV-1a: stable across Rust versions, unlike DefaultHasher
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn lerp(a: P, b: P, t: f32) -> P {
    let t = t.clamp(0.0, 1.0);
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

fn ease(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (a[i] as f32 * (1.0 - t) + b[i] as f32 * t).round() as u8)
}

fn jitter_colour(rng: &mut Rng, c: [u8; 3], amount: f32) -> [u8; 3] {
    c.map(|v| (v as f32 + rng.range(-amount, amount)).clamp(0.0, 255.0) as u8)
}

// ---------------------------------------------------------------------------------------------
// Drawing, in scene coordinates mapped through the participant's camera.

struct Canvas {
    px: Vec<u8>,
    /// Scene → image: scale and offset (the camera's placement plus this frame's shake).
    scale: f32,
    offset: P,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas { px: vec![0; W * H * 3], scale: 1.0, offset: (0.0, 0.0) }
    }

    fn map(&self, (x, y): P) -> P {
        (x * self.scale + self.offset.0, y * self.scale + self.offset.1)
    }

    #[inline]
    fn blend(&mut self, x: i32, y: i32, c: [u8; 3], a: f32) {
        if x < 0 || y < 0 || x >= W as i32 || y >= H as i32 {
            return;
        }
        let i = (y as usize * W + x as usize) * 3;
        let a = (a.clamp(0.0, 1.0) * 256.0) as u32;
        for (p, &target) in self.px[i..i + 3].iter_mut().zip(&c) {
            *p = ((*p as u32 * (256 - a) + target as u32 * a) >> 8) as u8;
        }
    }

    fn fill(&mut self, c: [u8; 3]) {
        for p in self.px.chunks_exact_mut(3) {
            p.copy_from_slice(&c);
        }
    }

    fn rect(&mut self, at: P, (w, h): P, c: [u8; 3], a: f32) {
        let (x, y) = self.map(at);
        let (w, h) = (w * self.scale, h * self.scale);
        for yy in y.round() as i32..(y + h).round() as i32 {
            for xx in x.round() as i32..(x + w).round() as i32 {
                self.blend(xx, yy, c, a);
            }
        }
    }

    /// Rectangle centred at `at`, turned by `angle` radians.
    fn bar(&mut self, at: P, (w, h): P, angle: f32, c: [u8; 3], a: f32) {
        let (cx, cy) = self.map(at);
        let (hw, hh) = (w * self.scale / 2.0, h * self.scale / 2.0);
        let (s, co) = angle.sin_cos();
        let r = (hw * hw + hh * hh).sqrt().ceil() as i32 + 1;
        for yy in cy as i32 - r..=cy as i32 + r {
            for xx in cx as i32 - r..=cx as i32 + r {
                let (dx, dy) = (xx as f32 + 0.5 - cx, yy as f32 + 0.5 - cy);
                let (u, v) = (dx * co + dy * s, -dx * s + dy * co);
                let cover = (hw - u.abs() + 0.5).min(hh - v.abs() + 0.5).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.blend(xx, yy, c, a * cover);
                }
            }
        }
    }

    /// Filled ellipse with an anti-aliased edge.
    fn ellipse(&mut self, at: P, (rx, ry): P, c: [u8; 3], a: f32) {
        let (cx, cy) = self.map(at);
        let (rx, ry) = ((rx * self.scale).max(0.5), (ry * self.scale).max(0.5));
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

    fn circle(&mut self, at: P, r: f32, c: [u8; 3], a: f32) {
        self.ellipse(at, (r, r), c, a);
    }
}

// ---------------------------------------------------------------------------------------------
// The objects of Breakfast's ten activities.

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Obj {
    Bowl,
    Cup,
    Glass,
    Plate,
    Pan,
    Board,
    Milk,
    Cereals,
    Coffee,
    Sugar,
    Oil,
    Eggs,
    Salt,
    Knife,
    Spoon,
    Spatula,
    Orange,
    Squeezer,
    Powder,
    Flour,
    Fruit,
    Bun,
    Butter,
    Topping,
    Teabag,
    Kettle,
}

use Obj::*;

const ALL: [Obj; 26] = [
    Bowl, Cup, Glass, Plate, Pan, Board, Milk, Cereals, Coffee, Sugar, Oil, Eggs, Salt, Knife,
    Spoon, Spatula, Orange, Squeezer, Powder, Flour, Fruit, Bun, Butter, Topping, Teabag, Kettle,
];

/// The objects on the table for each activity (a video's activity is its name's last token).
fn objects_of(activity: &str) -> Vec<Obj> {
    match activity {
        "cereals" => vec![Bowl, Cereals, Milk, Spoon],
        "coffee" => vec![Cup, Coffee, Sugar, Milk, Spoon],
        "friedegg" => vec![Pan, Oil, Eggs, Salt, Plate, Spatula, Butter],
        "juice" => vec![Board, Knife, Orange, Squeezer, Glass, Plate],
        "milk" => vec![Cup, Milk, Powder, Spoon],
        "pancake" => vec![Bowl, Flour, Eggs, Milk, Spoon, Pan, Oil, Spatula, Plate, Butter],
        "salat" => vec![Board, Knife, Fruit, Bowl, Spoon, Plate],
        "sandwich" => vec![Board, Knife, Bun, Butter, Topping, Plate],
        "scrambledegg" => vec![Bowl, Eggs, Pan, Oil, Butter, Salt, Spoon, Spatula, Plate],
        "tea" => vec![Cup, Teabag, Kettle, Sugar, Spoon, Milk],
        _ => vec![Bowl, Cup, Plate, Spoon, Knife],
    }
}

/// Where a container that receives things stands when it is out, and where the stove is.
const STOVE: P = (130.0, 125.0);
const WORK_RIGHT: P = (200.0, 130.0);
const WORK_FRONT: P = (165.0, 175.0);
const BOARD_AT: P = (140.0, 170.0);

/// Home positions around the work area (all inside the 210×210 centre that feature extraction
/// crops from a 320×240 frame); each participant puts each object on another one.
const SLOTS: [P; 12] = [
    (70.0, 35.0),
    (105.0, 30.0),
    (140.0, 28.0),
    (175.0, 28.0),
    (210.0, 30.0),
    (245.0, 35.0),
    (250.0, 75.0),
    (255.0, 115.0),
    (250.0, 160.0),
    (68.0, 75.0),
    (64.0, 115.0),
    (68.0, 160.0),
];

/// What a participant's kitchen looks like.
struct Style {
    table: [u8; 3],
    grain: [u8; 3],
    skin: [u8; 3],
    sleeve: [u8; 3],
    colour: BTreeMap<Obj, [u8; 3]>,
    home: BTreeMap<Obj, P>,
    camera_scale: f32,
    camera_offset: P,
    shake: f32,
    gain: [f32; 3],
    flicker: f32,
    noise: f32,
    crf: u32,
    /// Frames before an action's end in which the hands already move towards the next one.
    lead: usize,
    speed: f32,
}

fn base_colour(o: Obj) -> [u8; 3] {
    match o {
        Bowl => [225, 225, 232],
        Cup => [200, 60, 50],
        Glass => [190, 215, 230],
        Plate => [238, 238, 242],
        Pan => [40, 40, 44],
        Board => [205, 170, 120],
        Milk => [240, 240, 250],
        Cereals => [220, 160, 40],
        Coffee => [90, 55, 30],
        Sugar => [250, 250, 245],
        Oil => [215, 185, 45],
        Eggs => [190, 170, 130],
        Salt => [245, 245, 245],
        Knife => [170, 170, 178],
        Spoon => [150, 150, 160],
        Spatula => [120, 120, 126],
        Orange => [245, 140, 20],
        Squeezer => [120, 200, 120],
        Powder => [120, 70, 40],
        Flour => [235, 225, 200],
        Fruit => [120, 200, 60],
        Bun => [210, 160, 90],
        Butter => [250, 230, 120],
        Topping => [220, 110, 120],
        Teabag => [160, 120, 70],
        Kettle => [80, 90, 110],
    }
}

/// What flows out of a container when it is poured, or is scooped from it.
fn content_colour(o: Obj) -> [u8; 3] {
    match o {
        Milk => [250, 250, 252],
        Cereals => [225, 170, 60],
        Coffee => [70, 40, 20],
        Sugar => [252, 252, 252],
        Oil => [225, 195, 60],
        Powder => [110, 60, 30],
        Flour => [240, 235, 215],
        Kettle => [200, 215, 235],
        Eggs => [250, 200, 40],
        Orange => [250, 160, 30],
        _ => [200, 200, 200],
    }
}

impl Style {
    /// The kitchen is the participant's; the camera's placement, light, noise and compression
    /// are the camera's (Breakfast filmed each take with several).
    fn of(participant: &str, camera: &str, activity: &str) -> Style {
        let mut rng = Rng::new(hash(participant));
        let mut cam = Rng::new(hash(participant) ^ hash(camera).rotate_left(17));
        let tables: [[u8; 3]; 6] = [
            [176, 132, 88],
            [220, 220, 215],
            [120, 90, 70],
            [190, 200, 210],
            [150, 160, 120],
            [230, 210, 170],
        ];
        let table = tables[rng.below(tables.len())];
        let table = jitter_colour(&mut rng, table, 18.0);
        let grain = mix(table, [0, 0, 0], rng.range(0.05, 0.18));
        let skins: [[u8; 3]; 5] =
            [[231, 190, 160], [200, 150, 110], [150, 105, 75], [110, 75, 55], [240, 205, 185]];
        let skin = skins[rng.below(skins.len())];
        let skin = jitter_colour(&mut rng, skin, 10.0);
        let sleeve = [
            rng.range(20.0, 230.0) as u8,
            rng.range(20.0, 230.0) as u8,
            rng.range(20.0, 230.0) as u8,
        ];
        let mut colour = BTreeMap::new();
        for o in ALL {
            colour.insert(o, jitter_colour(&mut rng, base_colour(o), 28.0));
        }
        // the layout: a shuffled assignment of objects to slots, the same for every activity of
        // this participant so that layout alone does not name the activity
        let mut slots: Vec<P> = SLOTS.to_vec();
        for i in (1..slots.len()).rev() {
            slots.swap(i, rng.below(i + 1));
        }
        let mut home = BTreeMap::new();
        let mut act_rng = Rng::new(hash(participant) ^ hash(activity));
        let objects = objects_of(activity);
        let mut distractors = Vec::new();
        while distractors.len() < 2 {
            let o = ALL[act_rng.below(ALL.len())];
            if !objects.contains(&o) && !distractors.contains(&o) && o != Pan && o != Board {
                distractors.push(o);
            }
        }
        for (k, o) in objects.iter().chain(&distractors).enumerate() {
            let (x, y) = slots[k % slots.len()];
            home.insert(*o, (x + rng.range(-6.0, 6.0), y + rng.range(-5.0, 5.0)));
        }
        Style {
            table,
            grain,
            skin,
            sleeve,
            colour,
            home,
            camera_scale: cam.range(0.88, 1.1),
            camera_offset: (cam.range(-14.0, 14.0), cam.range(-10.0, 10.0)),
            shake: cam.range(0.3, 2.0),
            gain: [cam.range(0.8, 1.15), cam.range(0.8, 1.1), cam.range(0.75, 1.15)],
            flicker: cam.range(0.0, 0.08),
            noise: cam.range(2.0, 9.0),
            crf: 26 + cam.below(9) as u32,
            lead: 3 + rng.below(8),
            speed: rng.range(0.7, 1.4),
        }
    }

    fn c(&self, o: Obj) -> [u8; 3] {
        self.colour[&o]
    }
}

// ---------------------------------------------------------------------------------------------
// The scene: what the actions so far have done to the objects.

#[derive(Clone, Default)]
struct Scene {
    out: Vec<Obj>,
    /// Contents of a container: colour and amount in [0, 1].
    fill: BTreeMap<Obj, ([u8; 3], f32)>,
    cooked: f32,
    cut: Vec<Obj>,
    smeared: f32,
    topped: bool,
    closed: bool,
    peeled: f32,
    in_bowl: f32,
    teabag_in: bool,
    on_plate: Option<[u8; 3]>,
}

impl Scene {
    fn add(&mut self, to: Obj, c: [u8; 3], amount: f32) {
        let e = self.fill.entry(to).or_insert((c, 0.0));
        let total = e.1 + amount;
        if total > 0.0 {
            e.0 = mix(e.0, c, amount / total);
        }
        e.1 = total.min(1.0);
    }
}

/// The verb and its objects, read from a Breakfast label.
struct Action {
    verb: String,
    /// The thing handled (poured, taken, cut, …).
    tool: Option<Obj>,
    /// Where it goes (the container poured into, the pan, the plate).
    target: Option<Obj>,
}

fn parse(label: &str, activity: &str) -> Action {
    let (verb, rest) = label.split_once('_').unwrap_or((label, ""));
    let in_cup = matches!(activity, "coffee" | "milk" | "tea");
    let eggs_target = if activity == "friedegg" { Pan } else { Bowl };
    let (tool, target) = match (verb, rest) {
        ("pour", "cereals") => (Some(Cereals), Some(Bowl)),
        ("pour", "milk") => (Some(Milk), Some(if in_cup { Cup } else { Bowl })),
        ("pour", "coffee") => (Some(Coffee), Some(Cup)),
        ("pour", "sugar") => (Some(Sugar), Some(Cup)),
        ("pour", "oil") => (Some(Oil), Some(Pan)),
        ("pour", "juice") => (Some(Squeezer), Some(Glass)),
        ("pour", "dough2pan") => (Some(Bowl), Some(Pan)),
        ("pour", "flour") => (Some(Flour), Some(Bowl)),
        ("pour", "egg2pan") => (Some(Bowl), Some(Pan)),
        ("pour", "water") => (Some(Kettle), Some(Cup)),
        ("stir", "cereals" | "dough" | "fruit" | "egg") => (Some(Spoon), Some(Bowl)),
        ("stir", _) => (Some(Spoon), Some(Cup)),
        ("spoon", "sugar") => (Some(Sugar), Some(Cup)),
        ("spoon", "powder") => (Some(Powder), Some(Cup)),
        ("spoon", "flour") => (Some(Flour), Some(Bowl)),
        ("crack", _) => (Some(Eggs), Some(if activity == "pancake" { Bowl } else { eggs_target })),
        ("add", "saltnpepper") => (Some(Salt), Some(Pan)),
        ("add", "teabag") => (Some(Teabag), Some(Cup)),
        ("fry" | "stirfry", _) => (Some(Spatula), Some(Pan)),
        ("put", "egg2plate" | "pancake2plate") => (Some(Spatula), Some(Plate)),
        ("put", "fruit2bowl") => (Some(Fruit), Some(Bowl)),
        ("put", "toppingOnTop") => (Some(Topping), Some(Plate)),
        ("put", "bunTogether") => (Some(Bun), Some(Plate)),
        ("butter", "pan") => (Some(Butter), Some(Pan)),
        ("cut", "orange") => (Some(Knife), Some(Orange)),
        ("cut", "fruit") => (Some(Knife), Some(Fruit)),
        ("cut", "bun") => (Some(Knife), Some(Bun)),
        ("squeeze", _) => (Some(Orange), Some(Squeezer)),
        ("peel", _) => (Some(Fruit), None),
        ("smear", _) => (Some(Knife), Some(Bun)),
        ("take", "bowl") => (Some(Bowl), None),
        ("take", "cup") => (Some(Cup), None),
        ("take", "glass") => (Some(Glass), None),
        ("take", "plate") => (Some(Plate), None),
        ("take", "eggs") => (Some(Eggs), None),
        ("take", "knife") => (Some(Knife), None),
        ("take", "squeezer") => (Some(Squeezer), None),
        ("take", "butter") => (Some(Butter), None),
        ("take", "topping") => (Some(Topping), None),
        _ => (None, None),
    };
    Action { verb: verb.to_owned(), tool, target }
}

/// Where an object stands: the pan on the stove, the board in front, containers at home until
/// taken (or used), then in the work area.
fn position(o: Obj, style: &Style, scene: &Scene) -> P {
    match o {
        Pan => STOVE,
        Board => BOARD_AT,
        Bowl | Cup | Glass if scene.out.contains(&o) => WORK_RIGHT,
        Plate if scene.out.contains(&o) => WORK_FRONT,
        Orange | Fruit | Bun if scene.out.contains(&o) => (BOARD_AT.0 + 4.0, BOARD_AT.1 - 2.0),
        Squeezer if scene.out.contains(&o) => (WORK_RIGHT.0 - 5.0, WORK_RIGHT.1 + 40.0),
        _ if scene.out.contains(&o) => (WORK_FRONT.0 + 40.0, WORK_FRONT.1 + 15.0),
        _ => style.home.get(&o).copied().unwrap_or((280.0, 200.0)),
    }
}

fn draw_object(c: &mut Canvas, o: Obj, at: P, angle: f32, style: &Style, scene: &Scene) {
    let col = style.c(o);
    let dark = mix(col, [0, 0, 0], 0.35);
    match o {
        Bowl | Cup | Glass | Plate => {
            let r = match o {
                Bowl => 24.0,
                Cup => 14.0,
                Glass => 12.0,
                _ => 27.0,
            };
            c.circle(at, r + 2.0, dark, 1.0);
            c.circle(at, r, col, if o == Glass { 0.55 } else { 1.0 });
            if o == Cup {
                c.bar((at.0 + r + 3.0, at.1), (7.0, 5.0), 0.0, col, 1.0);
            }
            if let Some(&(fc, amount)) = scene.fill.get(&o)
                && amount > 0.0
            {
                c.circle(at, (r - 3.0) * (0.35 + 0.65 * amount), fc, 0.9);
            }
            if o == Cup && scene.teabag_in {
                c.bar((at.0 - 4.0, at.1 - 3.0), (7.0, 7.0), 0.4, style.c(Teabag), 1.0);
            }
            if o == Bowl && scene.in_bowl > 0.0 {
                for k in 0..(scene.in_bowl * 8.0) as i32 {
                    let a = k as f32 * 2.1;
                    c.circle(
                        (at.0 + 10.0 * a.cos(), at.1 + 10.0 * a.sin()),
                        4.0,
                        style.c(Fruit),
                        1.0,
                    );
                }
            }
            if o == Plate {
                if let Some(food) = scene.on_plate {
                    c.ellipse(at, (15.0, 12.0), food, 1.0);
                }
                if scene.out.contains(&Bun) && scene.cut.contains(&Bun) {
                    draw_bun(c, at, style, scene);
                }
            }
        }
        Pan => {
            c.circle(at, 38.0, dark, 1.0);
            c.circle(at, 33.0, mix(col, [90, 90, 95], 0.4), 1.0);
            c.bar((at.0 - 50.0, at.1), (30.0, 8.0), 0.0, dark, 1.0);
            if let Some(&(fc, amount)) = scene.fill.get(&Pan)
                && amount > 0.0
            {
                let cooked = mix(fc, [200, 140, 60], scene.cooked * 0.6);
                c.circle(at, 8.0 + 22.0 * amount, cooked, 0.75);
            }
        }
        Board => c.rect((at.0 - 34.0, at.1 - 20.0), (68.0, 40.0), col, 1.0),
        Milk | Cereals | Flour | Powder => {
            let (w, h) = if o == Powder { (14.0, 14.0) } else { (16.0, 24.0) };
            c.bar(at, (w, h), angle, col, 1.0);
            c.bar(at, (w * 0.6, h * 0.35), angle, mix(col, [30, 60, 160], 0.5), 0.8);
        }
        Coffee | Kettle => {
            c.circle(at, 12.0, col, 1.0);
            let (s, co) = angle.sin_cos();
            c.bar((at.0 + 14.0 * co, at.1 + 14.0 * s), (10.0, 4.0), angle, dark, 1.0);
        }
        Sugar => {
            c.circle(at, 9.0, dark, 1.0);
            c.circle(at, 7.0, col, 1.0);
        }
        Oil => {
            c.bar(at, (10.0, 22.0), angle, col, 0.9);
            let (s, co) = angle.sin_cos();
            c.circle((at.0 + 12.0 * s, at.1 - 12.0 * co), 4.0, [40, 120, 40], 1.0);
        }
        Eggs => {
            c.rect((at.0 - 18.0, at.1 - 9.0), (36.0, 18.0), col, 1.0);
            for i in 0..3 {
                c.ellipse((at.0 - 11.0 + i as f32 * 11.0, at.1), (5.0, 4.0), [245, 235, 215], 1.0);
            }
        }
        Salt => {
            c.circle((at.0 - 6.0, at.1), 5.5, col, 1.0);
            c.circle((at.0 + 6.0, at.1), 5.5, [40, 40, 40], 1.0);
        }
        Knife | Spoon | Spatula => {
            let len = if o == Knife { 30.0 } else { 28.0 };
            let (s, co) = angle.sin_cos();
            c.bar(at, (4.0, len), angle, col, 1.0);
            let head = (at.0 - len * 0.45 * s, at.1 + len * 0.45 * co);
            match o {
                Spoon => c.ellipse(head, (4.5, 4.5), col, 1.0),
                Spatula => c.bar(head, (12.0, 9.0), angle, mix(col, [255, 255, 255], 0.2), 1.0),
                _ => c.bar(
                    (at.0 + len * 0.3 * s, at.1 - len * 0.3 * co),
                    (5.0, 10.0),
                    angle,
                    [60, 40, 25],
                    1.0,
                ),
            }
        }
        Orange => {
            if scene.cut.contains(&Orange) {
                c.circle((at.0 - 7.0, at.1), 8.0, col, 1.0);
                c.circle((at.0 - 7.0, at.1), 5.5, [250, 200, 80], 1.0);
                c.circle((at.0 + 9.0, at.1), 8.0, col, 1.0);
            } else {
                c.circle(at, 10.0, col, 1.0);
            }
        }
        Squeezer => {
            c.circle(at, 14.0, col, 0.9);
            c.circle(at, 6.0, mix(col, [255, 255, 255], 0.4), 1.0);
            if let Some(&(fc, amount)) = scene.fill.get(&Squeezer) {
                c.circle((at.0, at.1 + 6.0), 3.0 + 6.0 * amount, fc, 0.8);
            }
        }
        Fruit => {
            let peel = mix(col, [240, 230, 170], scene.peeled);
            if scene.cut.contains(&Fruit) {
                for k in 0..6 {
                    c.circle(
                        (at.0 - 12.0 + (k % 3) as f32 * 11.0, at.1 - 4.0 + (k / 3) as f32 * 9.0),
                        4.0,
                        peel,
                        1.0,
                    );
                }
            } else {
                c.ellipse(at, (12.0, 9.0), peel, 1.0);
            }
        }
        Bun => draw_bun(c, at, style, scene),
        Butter => c.rect((at.0 - 9.0, at.1 - 6.0), (18.0, 12.0), col, 1.0),
        Topping => c.ellipse(at, (11.0, 9.0), col, 0.95),
        Teabag => {
            c.bar(at, (8.0, 8.0), 0.3, col, 1.0);
            c.bar((at.0 + 6.0, at.1 - 6.0), (1.5, 10.0), 0.8, [240, 240, 240], 1.0);
        }
    }
}

fn draw_bun(c: &mut Canvas, at: P, style: &Style, scene: &Scene) {
    let col = style.c(Bun);
    if scene.cut.contains(&Bun) && !scene.closed {
        c.ellipse((at.0 - 10.0, at.1), (9.0, 8.0), col, 1.0);
        c.ellipse((at.0 + 10.0, at.1), (9.0, 8.0), col, 1.0);
        if scene.smeared > 0.0 {
            c.ellipse((at.0 - 10.0, at.1), (7.0, 6.0), style.c(Butter), scene.smeared);
        }
        if scene.topped {
            c.ellipse((at.0 - 10.0, at.1), (7.5, 6.5), style.c(Topping), 1.0);
        }
    } else {
        c.ellipse(at, (12.0, 9.0), col, 1.0);
    }
}

fn draw_hand(c: &mut Canvas, at: P, style: &Style, from_left: bool) {
    // forearm towards the near edge of the table
    let elbow = (at.0 + if from_left { -30.0 } else { 30.0 }, 250.0);
    let mid = lerp(at, elbow, 0.5);
    let angle = (elbow.0 - at.0).atan2(elbow.1 - at.1);
    let len = ((elbow.0 - at.0).powi(2) + (elbow.1 - at.1).powi(2)).sqrt();
    c.bar(mid, (14.0, len), -angle, style.sleeve, 1.0);
    c.circle(at, 9.5, mix(style.skin, [0, 0, 0], 0.15), 1.0);
    c.circle(at, 8.0, style.skin, 1.0);
}

/// Draws the table, the objects and the hands at `frame`; `action` (`frames` long) is at
/// progress `t` ∈ [0, 1];
/// `next_hand` (when the next action is about to begin) pulls the moving hand towards it.
#[allow(clippy::too_many_arguments)]
fn draw_frame(
    c: &mut Canvas,
    style: &Style,
    scene: &mut Scene,
    action: &Action,
    t: f32,
    frames: usize,
    frame: usize,
    next_hand: Option<(P, f32)>,
    rng: &mut Rng,
) {
    // camera: placement and shake
    c.scale = style.camera_scale;
    c.offset = (
        (W as f32 - 320.0 * style.camera_scale) / 2.0
            + style.camera_offset.0
            + rng.range(-1.0, 1.0) * style.shake,
        (H as f32 - 240.0 * style.camera_scale) / 2.0
            + style.camera_offset.1
            + rng.range(-1.0, 1.0) * style.shake,
    );
    c.fill(style.table);
    let saved = c.scale;
    for i in 0..14 {
        c.rect((-40.0, i as f32 * 22.0 - 20.0), (400.0, 2.0), style.grain, 0.6);
    }
    c.scale = saved;

    let phase = (frame as f32 * 0.45 * style.speed).sin();
    let work = ease(((t - 0.1) / 0.8).clamp(0.0, 1.0));

    // fetching and putting back take about a second, whatever the action's length
    let edge = (15.0 / style.speed / frames as f32).min(0.2);
    let fetch = |from: P, to: P| -> P {
        if t < edge {
            lerp(from, to, ease(t / edge))
        } else if t < 1.0 - edge {
            to
        } else {
            lerp(to, from, ease((t - 1.0 + edge) / edge))
        }
    };
    // what moves in this action, where, turned how, and where the active hand is
    let mut moving: Option<(Obj, P, f32)> = None;
    let mut tr = Transient::default();
    let mut hand: P;
    let mut other = (120.0, 220.0);
    let target_at = action.target.map(|o| position(o, style, scene));
    match (action.verb.as_str(), action.tool, target_at) {
        ("take", Some(o), _) => {
            let from = style.home.get(&o).copied().unwrap_or((280.0, 200.0));
            let mut s = scene.clone();
            if !s.out.contains(&o) {
                s.out.push(o);
            }
            let to = position(o, style, &s);
            let at = lerp(from, to, ease(t));
            moving = Some((o, at, 0.0));
            hand = (at.0 + 12.0, at.1 + 14.0);
            if t >= 1.0 && !scene.out.contains(&o) {
                scene.out.push(o);
            }
        }
        ("pour" | "spoon", Some(o), Some(to)) => {
            if matches!(o, Bowl | Cup | Glass) && !scene.out.contains(&o) {
                scene.out.push(o);
            }
            let home = position(o, style, scene);
            let over = (to.0 + 18.0, to.1 - 22.0);
            let scoop = action.verb == "spoon";
            let at = if scoop { home } else { fetch(home, over) };
            let tilt =
                if (edge..1.0 - edge).contains(&t) && !scoop { 0.9 + 0.2 * phase } else { 0.0 };
            moving = Some((o, at, tilt));
            let flow = content_colour(o);
            if scoop {
                // the spoon goes back and forth between the jar and the target
                let u = 0.5 + 0.5 * (frame as f32 * 0.25 * style.speed).sin();
                let spoon = lerp(home, to, u);
                tr.spoon = Some(spoon);
                hand = (spoon.0 + 10.0, spoon.1 + 16.0);
                other = (home.0 - 12.0, home.1 + 12.0);
            } else {
                hand = (at.0 + 12.0, at.1 + 12.0);
                other = (to.0 - 20.0, to.1 + 22.0);
            }
            if (edge..1.0 - edge).contains(&t) {
                scene.add(action.target.expect("has a target"), flow, 0.012 * style.speed);
                if !scoop {
                    tr.stream = Some((at, to, flow));
                }
            }
            if action.tool == Some(Squeezer)
                && let Some(e) = scene.fill.get_mut(&Squeezer)
            {
                e.1 = (e.1 - 0.01).max(0.0);
            }
        }
        ("stir" | "fry" | "stirfry" | "butter", Some(o), Some(to)) => {
            let home = position(o, style, scene);
            let round = (frame as f32 * 0.35 * style.speed).sin_cos();
            let radius = if action.verb == "fry" { 4.0 } else { 10.0 };
            let inside = (to.0 + radius * round.1, to.1 + radius * round.0);
            let at = fetch(home, inside);
            moving = Some((o, at, 0.6 + 0.3 * phase));
            hand = (at.0 + 8.0, at.1 + 18.0);
            other = (to.0 - 30.0, to.1 + 20.0);
            if action.verb != "stir" {
                scene.cooked = (scene.cooked + 0.003).min(1.0);
            }
            if action.verb == "butter" {
                scene.add(Pan, style.c(Butter), 0.01 * work);
            }
        }
        ("crack", Some(_), Some(to)) => {
            let box_at = position(Eggs, style, scene);
            let u = (t * 2.0).fract();
            let egg = lerp(box_at, (to.0, to.1 - 20.0), ease(u / 0.6));
            if u < 0.75 {
                moving = Some((Eggs, box_at, 0.0));
                hand = (egg.0 + 9.0, egg.1 + 9.0);
                other = (egg.0 - 9.0, egg.1 + 9.0);
                tr.egg = Some(egg);
            } else {
                moving = Some((Eggs, box_at, 0.0));
                hand = (to.0 + 12.0, to.1 - 10.0);
                other = (to.0 - 12.0, to.1 - 10.0);
                scene.add(action.target.expect("has a target"), content_colour(Eggs), 0.02);
            }
        }
        ("add", Some(o), Some(to)) => {
            let home = position(o, style, scene);
            let at = fetch(home, (to.0 + 8.0 * phase, to.1 - 25.0));
            moving = Some((o, at, 0.0));
            hand = (at.0, at.1 + 14.0);
            if o == Teabag && t > 0.5 {
                scene.teabag_in = true;
                moving = Some((o, (-100.0, -100.0), 0.0));
            }
        }
        ("put", Some(o), Some(to)) => {
            let from = match o {
                Spatula => STOVE,
                Fruit => position(Fruit, style, scene),
                _ => position(o, style, scene),
            };
            let at = lerp(from, to, ease(t));
            moving = Some((o, at, 0.4));
            hand = (at.0 + 10.0, at.1 + 16.0);
            if o == Spatula {
                if t > 0.1
                    && let Some(e) = scene.fill.get_mut(&Pan)
                {
                    let food = mix(e.0, [200, 140, 60], scene.cooked * 0.6);
                    e.1 = 0.0;
                    scene.on_plate = Some(food);
                }
            } else if o == Fruit {
                scene.in_bowl = scene.in_bowl.max(work);
            } else if o == Topping && t > 0.9 {
                scene.topped = true;
            } else if o == Bun && t > 0.9 {
                scene.closed = true;
            }
        }
        ("cut" | "smear", Some(_), Some(thing)) => {
            let saw = (frame as f32 * 0.8 * style.speed).sin() * 8.0;
            let at = (thing.0 + saw, thing.1 - 6.0);
            moving = Some((Knife, at, 1.3));
            hand = (at.0 + 14.0, at.1 + 8.0);
            other = (thing.0 - 18.0, thing.1 + 10.0);
            let o = action.target.expect("has a target");
            if !scene.out.contains(&o) {
                scene.out.push(o);
            }
            if action.verb == "cut" && t > 0.5 && !scene.cut.contains(&o) {
                scene.cut.push(o);
            }
            if action.verb == "smear" {
                scene.smeared = scene.smeared.max(work);
            }
        }
        ("squeeze", Some(_), Some(sq)) => {
            let at = (sq.0 + 2.0 * phase, sq.1 + 2.0 * (frame as f32 * 0.9).cos());
            moving = Some((Orange, at, 0.0));
            hand = (at.0 + 3.0, at.1 + 4.0);
            other = (sq.0 - 16.0, sq.1 + 14.0);
            scene.add(Squeezer, content_colour(Orange), 0.01 * style.speed);
        }
        ("peel", Some(o), _) => {
            if !scene.out.contains(&o) {
                scene.out.push(o);
            }
            let at = position(o, style, scene);
            let round = (frame as f32 * 0.5 * style.speed).sin_cos();
            hand = (at.0 + 12.0 * round.1, at.1 + 10.0 * round.0);
            other = (at.0 - 12.0, at.1 + 8.0);
            scene.peeled = scene.peeled.max(work);
        }
        _ => {
            // SIL and anything unknown: hands resting, slight idle movement
            hand = (200.0 + 3.0 * phase, 222.0);
            other = (115.0 - 3.0 * phase, 224.0);
        }
    }
    if let Some((next, pull)) = next_hand {
        hand = lerp(hand, next, pull);
    }

    // static objects first, then the moving one, then the hands
    let on_table: Vec<Obj> = style.home.keys().copied().chain([Pan, Board]).collect();
    let uses_pan = style.home.contains_key(&Pan);
    let uses_board = style.home.contains_key(&Board);
    for o in [Board, Pan] {
        if (o == Pan && uses_pan) || (o == Board && uses_board) {
            draw_object(c, o, position(o, style, scene), 0.0, style, scene);
        }
    }
    for o in on_table {
        if matches!(o, Pan | Board) || moving.map(|m| m.0) == Some(o) {
            continue;
        }
        if o == Bun && scene.cut.contains(&Bun) && scene.out.contains(&Plate) {
            continue; // drawn on the plate
        }
        if o == Teabag && scene.teabag_in {
            continue;
        }
        if o == Spoon && tr.spoon.is_some() {
            continue;
        }
        draw_object(c, o, position(o, style, scene), 0.0, style, scene);
    }
    if let Some(at) = tr.spoon {
        draw_object(c, Spoon, at, 0.5, style, scene);
    }
    if let Some((from, to, colour)) = tr.stream {
        for k in 0..6 {
            let p = lerp(from, to, k as f32 / 6.0 + 0.08 * phase);
            c.circle(p, 2.0, colour, 0.9);
        }
    }
    if let Some(at) = tr.egg {
        c.ellipse(at, (5.0, 4.0), [245, 235, 215], 1.0);
    }
    if let Some((o, at, angle)) = moving {
        draw_object(c, o, at, angle, style, scene);
    }
    draw_hand(c, other, style, true);
    draw_hand(c, hand, style, false);
}

/// Things drawn for one frame only: a spoon in use, a stream being poured, an egg in the air.
#[derive(Default)]
struct Transient {
    spoon: Option<P>,
    stream: Option<(P, P, [u8; 3])>,
    egg: Option<P>,
}

/// Where the active hand will be when `action` starts: on the object it handles.
fn start_hand(action: &Action, style: &Style, scene: &Scene) -> P {
    match action.tool {
        Some(o) => {
            let at = position(o, style, scene);
            (at.0 + 10.0, at.1 + 14.0)
        }
        None => (200.0, 222.0),
    }
}

/// The participant's lighting (gain per channel, a slow drift and flicker) and sensor noise.
fn expose(c: &mut Canvas, style: &Style, frame: usize, rng: &mut Rng) {
    let drift = 1.0
        + 0.06 * (frame as f32 / 300.0).sin()
        + style.flicker * (frame as f32 * 1.7).sin().max(0.0);
    let gain = style.gain.map(|g| (g * drift * 256.0) as i32);
    let noise = style.noise as i32;
    let mut state = rng.next() | 1;
    for p in c.px.chunks_exact_mut(3) {
        // xorshift: one draw per pixel, shared by the channels (luma noise) plus a small chroma part
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = ((state & 0xff) as i32 - 128) * noise / 128;
        let chroma = (((state >> 8) & 0x7) as i32) - 3;
        for (k, v) in p.iter_mut().enumerate() {
            let x = ((*v as i32 * gain[k]) >> 8) + n + if k == 2 { chroma } else { -chroma / 2 };
            *v = x.clamp(0, 255) as u8;
        }
    }
}

/// Renders one video of `labels` (one Breakfast label per frame) for `participant` to `out`.
fn render_video(labels: &[String], video: &str, out: &Path) -> Result<(), String> {
    let (participant, camera, activity) = name_parts(video);
    let style = Style::of(&participant, &camera, &activity);
    let mut segs: Vec<(String, usize, usize)> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        match segs.last_mut() {
            Some((name, _, end)) if name == l => *end = i + 1,
            _ => segs.push((l.clone(), i, i + 1)),
        }
    }
    let partial = out.with_extension("partial.mp4");
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
        ])
        .args(["-r", &FPS.to_string(), "-i", "-", "-c:v", "libx264", "-preset", "veryfast"])
        .args([
            "-crf",
            &style.crf.to_string(),
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ])
        .arg(&partial)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the ffmpeg tool: {e}"))?;
    let mut stdin = ffmpeg.stdin.take().expect("piped");
    let mut scene = Scene::default();
    let mut rng = Rng::new(hash(video));
    let mut canvas = Canvas::new();
    let actions: Vec<Action> = segs.iter().map(|(l, _, _)| parse(l, &activity)).collect();
    for (k, (_, start, end)) in segs.iter().enumerate() {
        for frame in *start..*end {
            // the last frame of a segment has t = 1: its effect on the scene is complete
            let t = (frame - start + 1) as f32 / (end - start) as f32;
            let left = end - frame;
            let next = actions.get(k + 1).filter(|_| left <= style.lead).map(|a| {
                let pull = 1.0 - left as f32 / (style.lead as f32 + 1.0);
                (start_hand(a, &style, &scene), pull * 0.8)
            });
            draw_frame(
                &mut canvas,
                &style,
                &mut scene,
                &actions[k],
                t,
                end - start,
                frame,
                next,
                &mut rng,
            );
            expose(&mut canvas, &style, frame, &mut rng);
            stdin.write_all(&canvas.px).map_err(|e| format!("writing to ffmpeg: {e}"))?;
        }
    }
    drop(stdin);
    let status = ffmpeg.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("ffmpeg failed on {}", out.display()));
    }
    std::fs::rename(&partial, out).map_err(|e| format!("renaming {}: {e}", partial.display()))?;
    Ok(())
}

fn read_labels(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect())
}

/// `P06_cam01_P06_friedegg` → (`P06`, `cam01`, `friedegg`).
fn name_parts(video: &str) -> (String, String, String) {
    let mut tokens = video.split('_');
    let participant = tokens.next().unwrap_or(video).to_owned();
    let camera = tokens.next().unwrap_or("cam").to_owned();
    let activity = video.rsplit('_').next().unwrap_or(video).to_owned();
    (participant, camera, activity)
}

#[derive(Parser)]
#[command(about = "Render Breakfast annotations as synthetic video")]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// One label file (one label per line) to one H.264 video
    Video {
        labels: PathBuf,
        out: PathBuf,
        /// The Breakfast video name that sets participant, camera and activity (default: the
        /// label file's name, e.g. P06_cam01_P06_friedegg)
        #[arg(long)]
        name: Option<String>,
    },
    /// A synthetic dataset in the MS-TCN layout from a Breakfast root
    Dataset {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "1")]
        split: String,
        /// Training videos to render (spread evenly over the ten activities; 0 = all)
        #[arg(long, default_value_t = 240)]
        train: usize,
        /// Test videos to render (spread evenly over the ten activities; 0 = all)
        #[arg(long, default_value_t = 60)]
        test: usize,
        /// Videos rendered at once (each also runs an ffmpeg encoder)
        #[arg(long, default_value_t = 1)]
        jobs: usize,
    },
}

/// `n` videos of `list` (all when 0), the same number from each activity as far as possible, in
/// an order fixed by the names' hashes.
fn pick(list: &[String], n: usize) -> Vec<String> {
    if n == 0 || n >= list.len() {
        return list.to_vec();
    }
    let mut by_activity: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in list {
        by_activity.entry(name_parts(v).2).or_default().push(v.clone());
    }
    for vs in by_activity.values_mut() {
        vs.sort_by_key(|v| hash(v));
    }
    let mut picked = Vec::new();
    let mut round = 0;
    while picked.len() < n {
        for vs in by_activity.values() {
            if let Some(v) = vs.get(round)
                && picked.len() < n
            {
                picked.push(v.clone());
            }
        }
        round += 1;
    }
    picked.sort();
    picked
}

fn read_bundle(path: &Path) -> Result<Vec<String>, String> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .lines()
        .map(|l| l.trim().trim_end_matches(".txt").to_owned())
        .filter(|l| !l.is_empty())
        .collect())
}

fn dataset(
    data: &Path,
    out: &Path,
    split: &str,
    n_train: usize,
    n_test: usize,
    jobs: usize,
) -> Result<(), String> {
    let train =
        pick(&read_bundle(&data.join(format!("splits/train.split{split}.bundle")))?, n_train);
    let test = pick(&read_bundle(&data.join(format!("splits/test.split{split}.bundle")))?, n_test);
    for dir in ["videos", "groundTruth", "splits"] {
        std::fs::create_dir_all(out.join(dir)).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    for f in ["mapping.txt", "mapping_l2.txt"] {
        std::fs::copy(data.join(f), out.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    let bundle = |list: &[String]| list.iter().map(|v| format!("{v}.txt\n")).collect::<String>();
    std::fs::write(out.join(format!("splits/train.split{split}.bundle")), bundle(&train))
        .map_err(|e| e.to_string())?;
    std::fs::write(out.join(format!("splits/test.split{split}.bundle")), bundle(&test))
        .map_err(|e| e.to_string())?;
    std::fs::write(out.join("README.md"), readme(data, split, train.len(), test.len()))
        .map_err(|e| e.to_string())?;
    let all: Vec<String> = train.iter().chain(&test).cloned().collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(video) = all.get(i) else { break };
                    let gt = data.join("groundTruth").join(format!("{video}.txt"));
                    let mp4 = out.join("videos").join(format!("{video}.mp4"));
                    let result = read_labels(&gt).and_then(|labels| {
                        std::fs::copy(&gt, out.join("groundTruth").join(format!("{video}.txt")))
                            .map_err(|e| e.to_string())?;
                        if mp4.exists() {
                            return Ok(labels.len());
                        }
                        render_video(&labels, video, &mp4).map(|_| labels.len())
                    });
                    match result {
                        Ok(frames) => eprintln!(
                            "[{}/{}] {video}: {frames} frames ({:.0} s)",
                            i + 1,
                            all.len(),
                            started.elapsed().as_secs_f32()
                        ),
                        Err(e) => {
                            failures.lock().expect("not poisoned").push(format!("{video}: {e}"))
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    if failures.is_empty() { Ok(()) } else { Err(failures.join("\n")) }
}

fn readme(data: &Path, split: &str, train: usize, test: usize) -> String {
    format!(
        "# Rendered Breakfast (SYNTHETIC)\n\n\
         **Synthetic video.** Every video here is a drawing rendered by mmant's \
         `examples/render_breakfast.rs` from the real ground-truth labels of the Breakfast dataset \
         (H. Kuehne, A. Arslan, T. Serre, *The Language of Actions*, CVPR 2014; research use), read \
         from `{}`. The labels in `groundTruth/` are the real ones; the pictures are not real video: \
         a top-down table on which drawn objects and two hands act out each label at 15 fps, with a \
         style (table, layout, colours, hands, camera, light, noise, compression) per participant. \
         No label is written on the frames.\n\n\
         Split {split} only, and only the rendered videos: {train} training and {test} test videos, \
         spread over the ten activities (`splits/`). `features/` (if present) was written by \
         `mmant extract`.\n\n\
         What it can show: that the visual path (decode → features → recognition → anticipation) \
         works and how the models compare when recognition is needed. What it cannot show: accuracy \
         on real cooking video; drawn objects are far easier to tell apart than real ones.\n",
        data.display()
    )
}

fn main() -> Result<(), String> {
    match Cli::parse().command {
        Mode::Video { labels, out, name } => {
            let name = name.unwrap_or_else(|| {
                labels.file_stem().and_then(|s| s.to_str()).unwrap_or("video").to_owned()
            });
            let labels = read_labels(&labels)?;
            render_video(&labels, &name, &out)?;
            println!("{}: {} frames at {FPS} fps", out.display(), labels.len());
            Ok(())
        }
        Mode::Dataset { data, out, split, train, test, jobs } => {
            dataset(&data, &out, &split, train, test, jobs)
        }
    }
}
