//! Reading polygons and a numeric field from a GeoJSON FeatureCollection.
//!
//! Hand-written over `serde_json::Value` so that every error can name the feature (by its
//! 0-based index in `features`) and what to change. Polygon and MultiPolygon geometries are read;
//! any other geometry type, a missing or null geometry, or a malformed ring is an error rather
//! than a silently dropped place.
use crate::Error;
use crate::geometry::{MultiPolygon, Polygon};
use serde_json::{Map, Value};

/// One feature: its `id` member if it has one (numbers written as text), its geometry and its
/// properties.
#[derive(Clone, Debug)]
pub struct Feature {
    pub id: Option<String>,
    pub geometry: MultiPolygon,
    pub properties: Map<String, Value>,
}

impl Feature {
    /// The feature's `id`, or its 0-based index when it has none.
    pub fn id_or_index(&self, index: usize) -> String {
        self.id.clone().unwrap_or_else(|| index.to_string())
    }
}

fn geo_err(feature: Option<usize>, message: impl Into<String>) -> Error {
    Error::GeoJson {
        feature,
        message: message.into(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("the text {short:?}")
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Parse GeoJSON text holding a FeatureCollection (or a single Feature) of Polygon and
/// MultiPolygon features, in file order.
pub fn parse_feature_collection(text: &str) -> Result<Vec<Feature>, Error> {
    let root: Value = serde_json::from_str(text)?;
    let obj = root.as_object().ok_or_else(|| {
        geo_err(
            None,
            format!(
                "the top level is {}, not a GeoJSON object; expected {{\"type\": \"FeatureCollection\", \"features\": [...]}}",
                describe(&root)
            ),
        )
    })?;
    match obj.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let feats = obj
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| geo_err(None, "the FeatureCollection has no \"features\" array"))?;
            let out = feats
                .iter()
                .enumerate()
                .map(|(i, f)| parse_feature(i, f))
                .collect::<Result<Vec<_>, _>>()?;
            if out.is_empty() {
                return Err(geo_err(None, "the FeatureCollection has no features"));
            }
            Ok(out)
        }
        Some("Feature") => Ok(vec![parse_feature(0, &root)?]),
        Some(t) => Err(geo_err(
            None,
            format!(
                "the top-level type is {t:?}; expected a \"FeatureCollection\" of Polygon or MultiPolygon features"
            ),
        )),
        None => Err(geo_err(
            None,
            "the top-level object has no \"type\"; expected {\"type\": \"FeatureCollection\", \"features\": [...]}",
        )),
    }
}

fn parse_feature(i: usize, f: &Value) -> Result<Feature, Error> {
    let obj = f
        .as_object()
        .ok_or_else(|| geo_err(Some(i), format!("is {}, not a Feature object", describe(f))))?;
    if let Some(t) = obj.get("type").and_then(Value::as_str)
        && t != "Feature"
    {
        return Err(geo_err(
            Some(i),
            format!("has type {t:?}, expected \"Feature\""),
        ));
    }
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(geo_err(
                Some(i),
                format!(
                    "its \"id\" is {}; GeoJSON ids are strings or numbers",
                    describe(other)
                ),
            ));
        }
    };
    let geometry = match obj.get("geometry") {
        None | Some(Value::Null) => {
            return Err(geo_err(
                Some(i),
                "has no geometry (null); every place needs its polygon. Remove the feature or add its boundary",
            ));
        }
        Some(g) => parse_geometry(i, g)?,
    };
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(geo_err(
                Some(i),
                format!("its \"properties\" is {}, not an object", describe(other)),
            ));
        }
    };
    Ok(Feature {
        id,
        geometry,
        properties,
    })
}

/// Parse a GeoJSON geometry object (Polygon or MultiPolygon). `feature` is used in errors only.
pub fn parse_geometry(feature: usize, g: &Value) -> Result<MultiPolygon, Error> {
    let i = Some(feature);
    let obj = g
        .as_object()
        .ok_or_else(|| geo_err(i, format!("its geometry is {}, not an object", describe(g))))?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| geo_err(i, "its geometry has no \"type\""))?;
    let coords = obj.get("coordinates");
    let coords =
        || coords.ok_or_else(|| geo_err(i, format!("its {ty} geometry has no \"coordinates\"")));
    match ty {
        "Polygon" => Ok(MultiPolygon(vec![parse_polygon(feature, coords()?, None)?])),
        "MultiPolygon" => {
            let parts = coords()?.as_array().ok_or_else(|| {
                geo_err(
                    i,
                    "its MultiPolygon \"coordinates\" is not an array of polygons",
                )
            })?;
            if parts.is_empty() {
                return Err(geo_err(i, "its MultiPolygon has no polygons"));
            }
            let polys = parts
                .iter()
                .enumerate()
                .map(|(k, p)| parse_polygon(feature, p, Some(k)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(MultiPolygon(polys))
        }
        other => Err(geo_err(
            i,
            format!(
                "has a {other} geometry; Gi* on places needs Polygon or MultiPolygon boundaries \
                 (count incident points per place or per grid cell first)"
            ),
        )),
    }
}

fn parse_polygon(feature: usize, v: &Value, part: Option<usize>) -> Result<Polygon, Error> {
    let i = Some(feature);
    let where_ = match part {
        Some(k) => format!("part {k} of its MultiPolygon"),
        None => "its Polygon".to_string(),
    };
    let rings = v
        .as_array()
        .ok_or_else(|| geo_err(i, format!("{where_} is not an array of rings")))?;
    if rings.is_empty() {
        return Err(geo_err(i, format!("{where_} is empty (no rings)")));
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        parsed.push(parse_ring(feature, ring, &where_, r)?);
    }
    let exterior = parsed.remove(0);
    Ok(Polygon {
        exterior,
        holes: parsed,
    })
}

fn parse_ring(feature: usize, v: &Value, where_: &str, r: usize) -> Result<Vec<[f64; 2]>, Error> {
    let i = Some(feature);
    let positions = v.as_array().ok_or_else(|| {
        geo_err(
            i,
            format!("ring {r} of {where_} is not an array of positions"),
        )
    })?;
    let mut ring = Vec::with_capacity(positions.len());
    for (k, p) in positions.iter().enumerate() {
        let xy = p.as_array().and_then(|a| {
            if a.len() < 2 {
                return None;
            }
            Some([a[0].as_f64()?, a[1].as_f64()?])
        });
        let xy = xy.ok_or_else(|| {
            geo_err(
                i,
                format!(
                    "position {k} of ring {r} of {where_} is {}, expected [x, y] numbers",
                    describe(p)
                ),
            )
        })?;
        ring.push(xy);
    }
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    // Distinct consecutive positions: a ring needs at least three.
    let mut distinct = ring.len();
    for k in 0..ring.len() {
        if ring[k] == ring[(k + 1) % ring.len()] {
            distinct -= 1;
        }
    }
    if distinct < 3 {
        return Err(geo_err(
            i,
            format!(
                "ring {r} of {where_} has {} distinct positions; a ring needs at least 3 (plus the closing one)",
                distinct
            ),
        ));
    }
    Ok(ring)
}

/// The values of property `field` of every feature, as numbers. A missing property, null, text,
/// boolean, array or object is an error naming the feature index.
pub fn numeric_field(features: &[Feature], field: &str) -> Result<Vec<f64>, Error> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| match f.properties.get(field) {
            None => {
                let mut names: Vec<&str> = f.properties.keys().map(String::as_str).collect();
                names.sort_unstable();
                let available = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                Err(Error::MissingField {
                    field: field.to_string(),
                    feature: i,
                    available,
                })
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() => Ok(x),
                _ => Err(Error::NotNumeric {
                    field: field.to_string(),
                    feature: i,
                    found: format!("{n} (out of range)"),
                }),
            },
            Some(other) => Err(Error::NotNumeric {
                field: field.to_string(),
                feature: i,
                found: describe(other),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","id":"a","properties":{"n":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
      {"type":"Feature","properties":{"n":2.5},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,0],[2,0],[2,1],[1,1],[1,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}}
    ]}"#;

    #[test]
    fn reads_polygon_and_multipolygon() {
        let f = parse_feature_collection(TWO).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].id.as_deref(), Some("a"));
        assert_eq!(f[1].id_or_index(1), "1");
        assert_eq!(f[0].geometry.0[0].exterior.len(), 4);
        assert_eq!(f[1].geometry.0.len(), 2);
        assert_eq!(numeric_field(&f, "n").unwrap(), vec![1.0, 2.5]);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let f = parse_feature_collection(TWO).unwrap();
        let e = numeric_field(&f, "crime").unwrap_err().to_string();
        assert!(
            e.contains("feature 0") && e.contains("\"crime\"") && e.contains("n"),
            "{e}"
        );

        let bad = TWO.replace("\"n\":2.5", "\"n\":\"2,5\"");
        let f = parse_feature_collection(&bad).unwrap();
        let e = numeric_field(&f, "n").unwrap_err().to_string();
        assert!(e.contains("feature 1") && e.contains("2,5"), "{e}");

        let e = parse_feature_collection(&TWO[..200]).unwrap_err();
        assert!(matches!(e, Error::Json { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("line 3, column"), "{e}");

        let pt = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#;
        let e = parse_feature_collection(pt).unwrap_err().to_string();
        assert!(e.contains("feature 0") && e.contains("Point"), "{e}");

        let null = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
        let e = parse_feature_collection(null).unwrap_err().to_string();
        assert!(e.contains("feature 0") && e.contains("no geometry"), "{e}");

        let short = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#;
        let e = parse_feature_collection(short).unwrap_err().to_string();
        assert!(e.contains("at least 3"), "{e}");
    }
}
