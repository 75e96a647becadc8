//! Synthetic mahallas for the demo: a box near a real district's centre cut into a jittered grid
//! of four-sided cells that share their edges (so they tile the box, and contiguity-based
//! statistics see neighbours), with populations drawn from a seeded generator. Every one is
//! named "... (synthetic)" and has `synthetic: true`: no mahalla list ships in any package, and
//! made-up places must never pass for real ones.
use domain::{DistrictId, GeoPoint, Mahalla, MahallaId, Names};

use crate::geom::{Pos, Shape};

/// Everyday Uzbek place words, used as the synthetic mahallas' names (with "(synthetic)").
const NAMES: [&str; 40] = [
    "Navbahor",
    "Bog'ishamol",
    "Guliston",
    "Do'stlik",
    "Istiqlol",
    "Mustaqillik",
    "Yangiobod",
    "Obod",
    "Tinchlik",
    "Bunyodkor",
    "Nurafshon",
    "Oqtepa",
    "Ko'kcha",
    "Sebzor",
    "Chinor",
    "Ziyokor",
    "Yoshlik",
    "Mehrobod",
    "Sharq",
    "Zafar",
    "Umid",
    "Hamkor",
    "Farovon",
    "Baxt",
    "Shodlik",
    "Gulzor",
    "Oydin",
    "Yulduz",
    "Nihol",
    "Bahor",
    "Quyosh",
    "Anhor",
    "Bo'ston",
    "Kamolon",
    "Beltepa",
    "Olmazor",
    "Bodomzor",
    "Lolazor",
    "Marvarid",
    "Tongotar",
];

/// The demo's district: Chilonzor, in Tashkent city (SOATO 1726294).
pub const DEMO_DISTRICT: DistrictId = DistrictId(1_726_294);
/// About the middle of Chilonzor district.
pub const DEMO_CENTRE: GeoPoint = GeoPoint {
    lon: 69.205,
    lat: 41.278,
};
/// How many synthetic mahallas the demo makes.
pub const DEMO_COUNT: usize = 40;

/// The demo's mahallas: [`DEMO_COUNT`] cells of about 0.7 km around [`DEMO_CENTRE`].
pub fn demo_spec() -> Spec {
    Spec {
        district: DEMO_DISTRICT,
        centre: DEMO_CENTRE,
        count: DEMO_COUNT,
        cell_km: 0.7,
        seed: 2024,
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub district: DistrictId,
    /// The box's centre.
    pub centre: GeoPoint,
    /// How many mahallas (1..=999).
    pub count: usize,
    /// Each cell's side, about, in kilometres (a Tashkent mahalla is some 0.5 km²).
    pub cell_km: f64,
    pub seed: u64,
}

/// SplitMix64: a small seeded generator, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The id of the `k`-th (from 1) synthetic mahalla of `district`.
pub fn mahalla_id(district: DistrictId, k: usize) -> MahallaId {
    MahallaId(district.0 * 1000 + k as i64)
}

/// `spec.count` synthetic mahallas with ids [`mahalla_id`]`(district, 1..=count)`, polygons that
/// tile a box around the centre (the last grid row may be short), and populations around 4,000.
pub fn synthetic_mahallas(spec: &Spec) -> Vec<Mahalla> {
    assert!((1..=999).contains(&spec.count), "1..=999 mahallas");
    let mut rng = Rng(spec.seed);
    // A grid about 3:2 wide.
    let cols = ((spec.count as f64 * 1.5).sqrt().ceil() as usize).max(1);
    let rows = spec.count.div_ceil(cols);
    let km_lat = 1.0 / 111.32;
    let km_lon = km_lat / spec.centre.lat.to_radians().cos();
    let (dx, dy) = (spec.cell_km * km_lon, spec.cell_km * km_lat);
    let x0 = spec.centre.lon - dx * cols as f64 / 2.0;
    let y0 = spec.centre.lat + dy * rows as f64 / 2.0;
    // Grid vertices, row-major from the north-west; inner ones moved by up to a fifth of a cell
    // each way, edge ones only along the edge, so the cells still tile the box.
    let mut v = vec![[0.0f64; 2]; (rows + 1) * (cols + 1)];
    for r in 0..=rows {
        for c in 0..=cols {
            let (jx, jy) = ((rng.unit() - 0.5) * 0.4, (rng.unit() - 0.5) * 0.4);
            let jx = if c == 0 || c == cols { 0.0 } else { jx };
            let jy = if r == 0 || r == rows { 0.0 } else { jy };
            v[r * (cols + 1) + c] = [
                round7(x0 + (c as f64 + jx) * dx),
                round7(y0 - (r as f64 + jy) * dy),
            ];
        }
    }
    let at = |r: usize, c: usize| v[r * (cols + 1) + c];
    (0..spec.count)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            // Counter-clockwise: SW, SE, NE, NW, SW.
            let ring: Vec<Pos> = vec![
                at(r + 1, c),
                at(r + 1, c + 1),
                at(r, c + 1),
                at(r, c),
                at(r + 1, c),
            ];
            let population = (4_000.0 * (0.45 * rng.normal()).exp()).clamp(800.0, 15_000.0);
            let base = if i < NAMES.len() {
                NAMES[i].to_owned()
            } else {
                format!("{} {}", NAMES[i % NAMES.len()], i / NAMES.len() + 1)
            };
            Mahalla {
                id: mahalla_id(spec.district, i + 1),
                district: spec.district,
                names: Names {
                    uz_latn: format!("{base} (synthetic)"),
                    uz_cyrl: None,
                    ru: Some(format!("{base} (синтетическая)")),
                    en: Some(format!("{base} (synthetic)")),
                },
                population: Some(((population / 10.0).round() * 10.0) as u32),
                geometry: Some(Shape::Polygon(vec![ring]).to_geojson(7)),
                synthetic: true,
            }
        })
        .collect()
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::UZBEKISTAN;

    fn spec(count: usize, seed: u64) -> Spec {
        Spec {
            district: DistrictId(1_726_294),
            centre: GeoPoint {
                lon: 69.2,
                lat: 41.28,
            },
            count,
            cell_km: 0.7,
            seed,
        }
    }

    #[test]
    fn cells_are_valid_marked_and_tile_the_box() {
        for count in [1, 7, 40, 123] {
            let ms = synthetic_mahallas(&spec(count, 7));
            assert_eq!(ms.len(), count);
            let mut area = 0.0;
            let mut names = std::collections::HashSet::new();
            for (k, m) in ms.iter().enumerate() {
                assert!(m.synthetic);
                assert!(
                    m.names.uz_latn.ends_with("(synthetic)"),
                    "{}",
                    m.names.uz_latn
                );
                assert!(names.insert(m.names.uz_latn.clone()), "unique names");
                assert_eq!(m.id, mahalla_id(m.district, k + 1));
                m.validate().unwrap();
                let shape = Shape::parse_text(m.geometry.as_deref().unwrap()).unwrap();
                shape.validate(&UZBEKISTAN).unwrap();
                area += shape.area();
                let p = m.population.unwrap();
                assert!((800..=15_000).contains(&p), "{p}");
            }
            // Full rows tile the box exactly: their areas add up to the rows' rectangle.
            let cols = ((count as f64 * 1.5).sqrt().ceil() as usize).max(1);
            if count % cols == 0 {
                let s = spec(count, 7);
                let rows = count / cols;
                let km_lat = 1.0 / 111.32;
                let km_lon = km_lat / s.centre.lat.to_radians().cos();
                let box_area = cols as f64 * s.cell_km * km_lon * rows as f64 * s.cell_km * km_lat;
                assert!(
                    (area - box_area).abs() / box_area < 1e-5,
                    "{area} vs {box_area}"
                );
            }
        }
    }

    #[test]
    fn the_seed_fixes_the_output() {
        assert_eq!(
            synthetic_mahallas(&spec(40, 1)),
            synthetic_mahallas(&spec(40, 1))
        );
        assert_ne!(
            synthetic_mahallas(&spec(40, 1)),
            synthetic_mahallas(&spec(40, 2))
        );
        let pops: Vec<u32> = synthetic_mahallas(&spec(200, 3))
            .iter()
            .map(|m| m.population.unwrap())
            .collect();
        let mean = pops.iter().map(|&p| p as f64).sum::<f64>() / pops.len() as f64;
        assert!((3_000.0..5_500.0).contains(&mean), "mean population {mean}");
        assert!(
            pops.iter().collect::<std::collections::HashSet<_>>().len() > 50,
            "varied"
        );
    }
}
