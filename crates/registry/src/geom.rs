//! Place geometries: read from GeoJSON or WKT, checked, and written back as compact GeoJSON
//! (WGS 84 longitude/latitude, as RFC 7946 orders them).
use serde_json::{Value, json};

/// A position: `[longitude, latitude]`.
pub type Pos = [f64; 2];
/// A closed ring: first position repeated at the end.
pub type Ring = Vec<Pos>;

/// A place's shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Point(Pos),
    /// Exterior ring, then holes.
    Polygon(Vec<Ring>),
    MultiPolygon(Vec<Vec<Ring>>),
}

/// A longitude/latitude box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    pub fn contains(&self, p: Pos) -> bool {
        (self.min_lon..=self.max_lon).contains(&p[0])
            && (self.min_lat..=self.max_lat).contains(&p[1])
    }
}

/// Uzbekistan's extent (55.998..73.148 E, 37.184..45.590 N) with about 10 km to spare.
pub const UZBEKISTAN: BBox = BBox {
    min_lon: 55.9,
    min_lat: 37.1,
    max_lon: 73.25,
    max_lat: 45.7,
};

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text {:?}", s.chars().take(30).collect::<String>()),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn pos(v: &Value) -> Result<Pos, String> {
    let a = v
        .as_array()
        .ok_or_else(|| format!("a position is {}, not [longitude, latitude]", describe(v)))?;
    if a.len() < 2 || a.len() > 3 {
        return Err(format!(
            "a position has {} numbers; expected [longitude, latitude]",
            a.len()
        ));
    }
    let n = |x: &Value| {
        x.as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("a coordinate is {}, not a number", describe(x)))
    };
    Ok([n(&a[0])?, n(&a[1])?])
}

fn ring(v: &Value) -> Result<Ring, String> {
    v.as_array()
        .ok_or_else(|| format!("a ring is {}, not an array of positions", describe(v)))?
        .iter()
        .map(pos)
        .collect()
}

fn polygon(v: &Value) -> Result<Vec<Ring>, String> {
    v.as_array()
        .ok_or_else(|| format!("a polygon is {}, not an array of rings", describe(v)))?
        .iter()
        .map(ring)
        .collect()
}

impl Shape {
    /// From a GeoJSON geometry object (Point, Polygon or MultiPolygon).
    pub fn from_geojson(v: &Value) -> Result<Shape, String> {
        let o = v
            .as_object()
            .ok_or_else(|| format!("the geometry is {}, not a GeoJSON object", describe(v)))?;
        let ty = o
            .get("type")
            .and_then(Value::as_str)
            .ok_or("the geometry has no \"type\"")?;
        let c = o
            .get("coordinates")
            .ok_or_else(|| format!("the {ty} has no \"coordinates\""))?;
        match ty {
            "Point" => Ok(Shape::Point(pos(c)?)),
            "Polygon" => Ok(Shape::Polygon(polygon(c)?)),
            "MultiPolygon" => Ok(Shape::MultiPolygon(
                c.as_array()
                    .ok_or_else(|| {
                        format!(
                            "a MultiPolygon's coordinates are {}, not an array",
                            describe(c)
                        )
                    })?
                    .iter()
                    .map(polygon)
                    .collect::<Result<_, _>>()?,
            )),
            other => Err(format!(
                "the geometry type {other:?} is not a place's shape; use Point, Polygon or MultiPolygon"
            )),
        }
    }

    /// From GeoJSON text, or WKT (`POINT (lon lat)`, `POLYGON ((...))`, `MULTIPOLYGON (((...)))`).
    pub fn parse_text(s: &str) -> Result<Shape, String> {
        let t = s.trim();
        if t.starts_with('{') {
            let v: Value = serde_json::from_str(t)
                .map_err(|e| format!("the geometry is not valid JSON: {e}"))?;
            Shape::from_geojson(&v)
        } else {
            parse_wkt(t)
        }
    }

    /// Every position, rings and all.
    pub fn positions(&self) -> Box<dyn Iterator<Item = Pos> + '_> {
        match self {
            Shape::Point(p) => Box::new(std::iter::once(*p)),
            Shape::Polygon(rings) => Box::new(rings.iter().flatten().copied()),
            Shape::MultiPolygon(ps) => Box::new(ps.iter().flatten().flatten().copied()),
        }
    }

    fn polygons(&self) -> Vec<&Vec<Ring>> {
        match self {
            Shape::Point(_) => vec![],
            Shape::Polygon(p) => vec![p],
            Shape::MultiPolygon(ps) => ps.iter().collect(),
        }
    }

    /// Checks that the shape is valid and lies within `within`: every polygon has an exterior
    /// ring, every ring has at least four positions, is closed, encloses an area and does not
    /// cross itself.
    pub fn validate(&self, within: &BBox) -> Result<(), String> {
        if let Shape::MultiPolygon(ps) = self
            && ps.is_empty()
        {
            return Err("the MultiPolygon has no polygons".into());
        }
        let many = matches!(self, Shape::MultiPolygon(_));
        for (pi, rings) in self.polygons().into_iter().enumerate() {
            let pname = if many {
                format!("polygon {}", pi + 1)
            } else {
                "the polygon".into()
            };
            if rings.is_empty() {
                return Err(format!("{pname} has no rings"));
            }
            for (ri, r) in rings.iter().enumerate() {
                let rname = if ri == 0 {
                    format!("{pname}'s outer ring")
                } else {
                    format!("{pname}'s hole {ri}")
                };
                check_ring(r).map_err(|m| format!("{rname}{m}"))?;
            }
        }
        for p in self.positions() {
            if !within.contains(p) {
                let swapped = within.contains([p[1], p[0]]);
                return Err(format!(
                    "the point (lon {}, lat {}) lies outside Uzbekistan (longitude {}..{}, latitude {}..{}){}",
                    p[0],
                    p[1],
                    within.min_lon,
                    within.max_lon,
                    within.min_lat,
                    within.max_lat,
                    if swapped {
                        "; longitude and latitude look swapped: GeoJSON and WKT put longitude first"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(())
    }

    /// Compact GeoJSON geometry text, coordinates rounded to `decimals` places.
    pub fn to_geojson(&self, decimals: i32) -> String {
        let k = 10f64.powi(decimals);
        let r = |p: &Pos| json!([(p[0] * k).round() / k, (p[1] * k).round() / k]);
        let rings = |rs: &Vec<Ring>| -> Value {
            Value::Array(
                rs.iter()
                    .map(|ring| Value::Array(ring.iter().map(r).collect()))
                    .collect(),
            )
        };
        match self {
            Shape::Point(p) => json!({ "type": "Point", "coordinates": r(p) }),
            Shape::Polygon(rs) => json!({ "type": "Polygon", "coordinates": rings(rs) }),
            Shape::MultiPolygon(ps) => json!({
                "type": "MultiPolygon",
                "coordinates": Value::Array(ps.iter().map(rings).collect())
            }),
        }
        .to_string()
    }

    /// Whether `p` lies inside (a hole is outside). Points contain nothing.
    pub fn contains(&self, p: Pos) -> bool {
        self.polygons().into_iter().any(|rings| {
            rings.first().is_some_and(|outer| ring_contains(outer, p))
                && !rings[1..].iter().any(|h| ring_contains(h, p))
        })
    }

    /// Area in square degrees (holes subtracted); 0 for a point.
    pub fn area(&self) -> f64 {
        self.polygons()
            .into_iter()
            .map(|rings| {
                let mut a = rings.first().map_or(0.0, |r| ring_area(r).abs());
                for h in &rings[1..] {
                    a -= ring_area(h).abs();
                }
                a
            })
            .sum()
    }
}

/// Shoelace area, positive when counter-clockwise.
pub fn ring_area(r: &[Pos]) -> f64 {
    r.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

fn ring_contains(r: &[Pos], p: Pos) -> bool {
    let mut inside = false;
    for w in r.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn check_ring(r: &[Pos]) -> Result<(), String> {
    if r.len() < 4 {
        return Err(format!(
            " has {} positions; a ring needs at least 4 (three corners and the first again)",
            r.len()
        ));
    }
    let (first, last) = (r[0], r[r.len() - 1]);
    if first != last {
        return Err(format!(
            " is not closed: it starts at ({}, {}) and ends at ({}, {}); repeat the first position at the end",
            first[0], first[1], last[0], last[1]
        ));
    }
    if ring_area(r) == 0.0 {
        return Err(" encloses no area (its points lie on one line)".into());
    }
    if let Some((i, j)) = self_intersection(r) {
        return Err(format!(
            " crosses itself: its edge {} (from ({}, {})) meets its edge {} (from ({}, {}))",
            i + 1,
            r[i][0],
            r[i][1],
            j + 1,
            r[j][0],
            r[j][1]
        ));
    }
    Ok(())
}

fn orient(a: Pos, b: Pos, c: Pos) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: Pos, b: Pos, p: Pos) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

fn segments_meet(a: Pos, b: Pos, c: Pos, d: Pos) -> bool {
    let (o1, o2, o3, o4) = (
        orient(a, b, c),
        orient(a, b, d),
        orient(c, d, a),
        orient(c, d, b),
    );
    if ((o1 > 0.0 && o2 < 0.0) || (o1 < 0.0 && o2 > 0.0))
        && ((o3 > 0.0 && o4 < 0.0) || (o3 < 0.0 && o4 > 0.0))
    {
        return true;
    }
    (o1 == 0.0 && on_segment(a, b, c))
        || (o2 == 0.0 && on_segment(a, b, d))
        || (o3 == 0.0 && on_segment(c, d, a))
        || (o4 == 0.0 && on_segment(c, d, b))
}

/// Two edges of a closed ring that meet other than where neighbours join, if any: a sweep over
/// edges sorted by their west end, so a ring of n edges costs about n log n unless it is
/// degenerate.
fn self_intersection(r: &[Pos]) -> Option<(usize, usize)> {
    let n = r.len() - 1; // edges
    let mut order: Vec<usize> = (0..n).collect();
    let lo = |i: usize| r[i][0].min(r[i + 1][0]);
    let hi = |i: usize| r[i][0].max(r[i + 1][0]);
    order.sort_by(|&a, &b| lo(a).total_cmp(&lo(b)));
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if lo(j) > hi(i) {
                break;
            }
            let (a, b) = (i.min(j), i.max(j));
            let adjacent = b == a + 1 || (a == 0 && b == n - 1);
            if adjacent {
                // Neighbours share one end; they are wrong only if they fold back over each other.
                let (p, q, s) = if b == a + 1 {
                    (r[a], r[b], r[b + 1])
                } else {
                    (r[b], r[0], r[1])
                };
                if orient(p, q, s) == 0.0
                    && (s[0] - q[0]) * (p[0] - q[0]) + (s[1] - q[1]) * (p[1] - q[1]) > 0.0
                {
                    return Some((a, b));
                }
                continue;
            }
            if segments_meet(r[a], r[a + 1], r[b], r[b + 1]) {
                return Some((a, b));
            }
        }
    }
    None
}

/// WKT: `POINT (x y)`, `POLYGON ((x y, ...), ...)`, `MULTIPOLYGON (((x y, ...)), ...)`, with an
/// optional `SRID=4326;` prefix.
pub fn parse_wkt(s: &str) -> Result<Shape, String> {
    let mut t = s.trim();
    if let Some((srid, rest)) = t.split_once(';')
        && srid.trim().to_ascii_uppercase().starts_with("SRID=")
    {
        let code = srid.trim()[5..].trim();
        if code != "4326" {
            return Err(format!(
                "the geometry is in SRID {code}; give WGS 84 longitude/latitude (SRID 4326)"
            ));
        }
        t = rest.trim();
    }
    let open = t.find('(').ok_or_else(|| {
        format!(
            "the geometry {:?} is neither GeoJSON nor WKT (POINT, POLYGON or MULTIPOLYGON)",
            t.chars().take(40).collect::<String>()
        )
    })?;
    let kind = t[..open].trim().to_ascii_uppercase();
    let mut p = Wkt {
        s: &t.as_bytes()[open..],
        i: 0,
    };
    let shape = match kind.as_str() {
        "POINT" => {
            p.expect(b'(')?;
            let pos = p.position()?;
            p.expect(b')')?;
            Shape::Point(pos)
        }
        "POLYGON" => Shape::Polygon(p.polygon()?),
        "MULTIPOLYGON" => {
            p.expect(b'(')?;
            let mut ps = vec![p.polygon()?];
            while p.eat(b',') {
                ps.push(p.polygon()?);
            }
            p.expect(b')')?;
            Shape::MultiPolygon(ps)
        }
        other => {
            return Err(format!(
                "the WKT type {other:?} is not a place's shape; use POINT, POLYGON or MULTIPOLYGON"
            ));
        }
    };
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after the WKT {kind}"));
    }
    Ok(shape)
}

struct Wkt<'a> {
    s: &'a [u8],
    i: usize,
}

impl Wkt<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed WKT: expected {:?} at character {}",
                c as char,
                self.i + 1
            ))
        }
    }
    fn number(&mut self) -> Result<f64, String> {
        self.skip_ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_digit() || b"+-.eE".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .ok_or_else(|| {
                format!(
                    "malformed WKT: expected a number at character {}",
                    start + 1
                )
            })
    }
    fn position(&mut self) -> Result<Pos, String> {
        let x = self.number()?;
        let y = self.number()?;
        Ok([x, y])
    }
    fn ring(&mut self) -> Result<Ring, String> {
        self.expect(b'(')?;
        let mut r = vec![self.position()?];
        while self.eat(b',') {
            r.push(self.position()?);
        }
        self.expect(b')')?;
        Ok(r)
    }
    fn polygon(&mut self) -> Result<Vec<Ring>, String> {
        self.expect(b'(')?;
        let mut rings = vec![self.ring()?];
        while self.eat(b',') {
            rings.push(self.ring()?);
        }
        self.expect(b')')?;
        Ok(rings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = "POLYGON ((69.2 41.3, 69.21 41.3, 69.21 41.31, 69.2 41.31, 69.2 41.3))";

    #[test]
    fn wkt_and_geojson_read_the_same_shape() {
        let a = parse_wkt(SQUARE).unwrap();
        let b = Shape::parse_text(
            r#"{"type":"Polygon","coordinates":[[[69.2,41.3],[69.21,41.3],[69.21,41.31],[69.2,41.31],[69.2,41.3]]]}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        a.validate(&UZBEKISTAN).unwrap();
        assert!(a.contains([69.205, 41.305]));
        assert!(!a.contains([69.215, 41.305]));
        assert_eq!(
            parse_wkt("SRID=4326;POINT(69.2 41.3)").unwrap(),
            Shape::Point([69.2, 41.3])
        );
        let m = parse_wkt(&format!(
            "MULTIPOLYGON ({}, {})",
            &SQUARE[8..],
            &SQUARE[8..]
        ))
        .unwrap();
        assert!(matches!(m, Shape::MultiPolygon(ref p) if p.len() == 2));
        // Written back, it reads as the same shape.
        assert_eq!(Shape::parse_text(&a.to_geojson(7)).unwrap(), a);
    }

    #[test]
    fn bad_shapes_say_what_is_wrong() {
        let cases = [
            (
                "POLYGON ((69.2 41.3, 69.21 41.3, 69.21 41.31, 69.2 41.31))",
                "not closed",
            ),
            ("POLYGON ((69.2 41.3, 69.21 41.3, 69.2 41.3))", "at least 4"),
            (
                "POLYGON ((69.2 41.3, 69.21 41.3, 69.22 41.3, 69.2 41.3))",
                "no area",
            ),
            // a bow tie with lobes of unequal size (a symmetric one has zero signed area)
            (
                "POLYGON ((69.2 41.3, 69.22 41.32, 69.22 41.3, 69.2 41.31, 69.2 41.3))",
                "crosses itself",
            ),
            ("POINT (41.3 69.2)", "look swapped"),
            ("POINT (2.35 48.85)", "outside Uzbekistan"),
            ("SRID=3857;POINT (1 2)", "SRID 3857"),
            ("LINESTRING (69.2 41.3, 69.3 41.3)", "not a place's shape"),
            ("POLYGON ((69.2 41.3, 69.21", "malformed WKT"),
            ("Chilonzor", "neither GeoJSON nor WKT"),
            (
                r#"{"type":"Point","coordinates":["69.2",41.3]}"#,
                "not a number",
            ),
            (
                r#"{"type":"LineString","coordinates":[]}"#,
                "not a place's shape",
            ),
        ];
        for (text, want) in cases {
            let e = Shape::parse_text(text)
                .and_then(|s| s.validate(&UZBEKISTAN))
                .unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn a_polygon_with_a_hole_is_valid_and_the_hole_is_outside() {
        let s = parse_wkt(
            "POLYGON ((69.0 41.0, 69.4 41.0, 69.4 41.4, 69.0 41.4, 69.0 41.0), (69.1 41.1, 69.1 41.2, 69.2 41.2, 69.2 41.1, 69.1 41.1))",
        )
        .unwrap();
        s.validate(&UZBEKISTAN).unwrap();
        assert!(!s.contains([69.15, 41.15]));
        assert!(s.contains([69.3, 41.3]));
        assert!((s.area() - (0.16 - 0.01)).abs() < 1e-9);
    }
}
