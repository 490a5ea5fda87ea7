//! Class colours that stay apart: a Glasbey-style palette, each colour chosen in turn as the one
//! farthest (CIEDE2000) from those chosen before and from the window's own greys, so that 48
//! Breakfast classes do not come out as one pastel at one lightness.

use std::sync::OnceLock;

/// Colours computed once; classes beyond them reuse the palette cyclically.
const PALETTE_SIZE: usize = 128;

/// The colour of class `id` (the same in every track and the legend).
pub fn class_rgb(id: u32) -> [u8; 3] {
    let p = palette();
    p[id as usize % p.len()]
}

/// The palette, greedy maximin over an sRGB grid: the first k colours are the same whatever the
/// vocabulary's size, so a class keeps its colour when labels are added.
pub fn palette() -> &'static [[u8; 3]] {
    static PALETTE: OnceLock<Vec<[u8; 3]>> = OnceLock::new();
    PALETTE.get_or_init(|| build(PALETTE_SIZE))
}

fn build(n: usize) -> Vec<[u8; 3]> {
    // a 16-level grid per channel; very dark and very light colours lose their text label
    let level = |i: u32| (i % 16 * 17) as u8;
    let candidates: Vec<([u8; 3], [f64; 3])> = (0..16 * 16 * 16u32)
        .map(|i| [level(i / 256), level(i / 16), level(i)])
        .map(|c| (c, lab(c)))
        .filter(|(_, l)| (35.0..=90.0).contains(&l[0]))
        .collect();
    // kept away from, never chosen: the background and text greys, and the NONE grey
    let avoid = [[27, 27, 27], [255, 255, 255], [110, 110, 110], [200, 200, 200]];
    let mut nearest: Vec<f64> = candidates
        .iter()
        .map(|(_, l)| avoid.iter().map(|&a| ciede2000(*l, lab(a))).fold(f64::MAX, f64::min))
        .collect();
    let mut chosen = Vec::with_capacity(n);
    for _ in 0..n {
        let (best, _) = nearest
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .expect("candidates");
        let (rgb, l) = candidates[best];
        chosen.push(rgb);
        for (d, (_, c)) in nearest.iter_mut().zip(&candidates) {
            *d = d.min(ciede2000(l, *c));
        }
    }
    chosen
}

/// sRGB (D65) to CIELAB.
pub fn lab(rgb: [u8; 3]) -> [f64; 3] {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f =
        |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1.
pub fn ciede2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    use std::f64::consts::PI;
    let deg = |r: f64| r * 180.0 / PI;
    let rad = |d: f64| d * PI / 180.0;
    let (l1, a1, b1) = (a[0], a[1], a[2]);
    let (l2, a2, b2) = (b[0], b[1], b[2]);
    let c_bar = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |bb: f64, ap: f64| {
        if bb == 0.0 && ap == 0.0 { 0.0 } else { deg(bb.atan2(ap)).rem_euclid(360.0) }
    };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dh_big = 2.0 * (c1p * c2p).sqrt() * rad(dh / 2.0).sin();
    let l_bar = (l1 + l2) / 2.0;
    let c_bar_p = (c1p + c2p) / 2.0;
    let h_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * rad(h_bar - 30.0).cos()
        + 0.24 * rad(2.0 * h_bar).cos()
        + 0.32 * rad(3.0 * h_bar + 6.0).cos()
        - 0.20 * rad(4.0 * h_bar - 63.0).cos();
    let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (c_bar_p.powi(7) / (c_bar_p.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * c_bar_p;
    let sh = 1.0 + 0.015 * c_bar_p * t;
    let rt = -rad(2.0 * d_theta).sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dh_big / sh).powi(2) + rt * (dc / sc) * (dh_big / sh))
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min_distance(colours: &[[u8; 3]]) -> f64 {
        let labs: Vec<[f64; 3]> = colours.iter().map(|&c| lab(c)).collect();
        let mut min = f64::MAX;
        for i in 0..labs.len() {
            for j in i + 1..labs.len() {
                min = min.min(ciede2000(labs[i], labs[j]));
            }
        }
        min
    }

    #[test]
    fn ciede2000_matches_sharma_et_al_test_data() {
        // pairs 1, 7, 17 and 34 of Sharma, Wu and Dalal (2005), table 1
        let cases = [
            ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
            ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
            ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
            ([2.0776, 0.0795, -1.1350], [0.9033, -0.0636, -0.5514], 0.9082),
        ];
        for (a, b, want) in cases {
            let got = ciede2000(a, b);
            assert!((got - want).abs() < 1e-4, "{a:?} {b:?}: {got} vs {want}");
            assert!((ciede2000(b, a) - want).abs() < 1e-4, "symmetric");
        }
    }

    #[test]
    fn forty_eight_classes_are_told_apart() {
        let p = &palette()[..48];
        let min = min_distance(p);
        // the former palette (golden-ratio hues at one saturation and value) for comparison
        let old: Vec<[u8; 3]> = (0..48u32)
            .map(|id| {
                let h = (id as f32 * 0.618_034).fract();
                egui::Color32::from(egui::ecolor::Hsva::new(h, 0.55, 0.85, 1.0)).to_array()[..3]
                    .try_into()
                    .unwrap()
            })
            .collect();
        let old_min = min_distance(&old);
        eprintln!("48 classes: min CIEDE2000 {min:.2}; the former palette {old_min:.2}");
        assert!(min >= 10.0, "48 colours at least ΔE00 10 apart, found {min:.2}");
        assert!(min > 3.0 * old_min, "{min:.2} against the old palette's {old_min:.2}");
        // the first colours do not depend on the vocabulary's size
        assert_eq!(&build(10)[..], &palette()[..10]);
    }
}
