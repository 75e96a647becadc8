//! Mahalla lists from CSV or GeoJSON: every row checked, and either every row back as a
//! [`NewMahalla`] or every bad row with its number, what is wrong and what to change. Nothing is
//! half-read: one bad row means no rows.
//!
//! CSV: a header row naming the columns (any order, any case):
//! `name` (Uzbek Latin; also `name_uz`, `name_uz_latn`), optional `name_uz_cyrl` (`name_oz`),
//! `name_ru`, `name_en`; `district` (a district id, or its name in any of the four forms, with or
//! without "tumani"/"shahri"); optional `population`; and either `lon` and `lat` (a point) or
//! `geometry` (WKT or GeoJSON text), or neither. Row numbers are spreadsheet rows: the header is
//! row 1.
//!
//! GeoJSON: a FeatureCollection whose features have properties `name` (and the other name
//! columns), `district`, optional `population`, and a Point, Polygon or MultiPolygon geometry (or
//! null). Features are numbered from 1.
use std::collections::HashMap;
use std::fmt;

use domain::{District, DistrictId, Names, NewMahalla};
use serde_json::Value;

use crate::csv;
use crate::fold::{distance, fold, stem};
use crate::geom::{Shape, UZBEKISTAN};

/// Residents above this are taken for a mistake (a mahalla has a few thousand).
pub const MAX_POPULATION: u32 = 200_000;
/// At most this many errors are listed; the count says how many there were.
pub const MAX_ERRORS: usize = 200;
/// Decimal places kept in imported coordinates (about 1 cm).
const DECIMALS: i32 = 7;

/// Which way rows are numbered in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A CSV row (the header is row 1).
    Row,
    /// A GeoJSON feature, from 1.
    Feature,
    /// The file as a whole.
    File,
}

/// One thing wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The row or feature number; 0 for the file as a whole.
    pub row: usize,
    #[serde(serialize_with = "unit_word")]
    pub unit: Unit,
    pub error: String,
    pub fix: String,
}

fn unit_word<S: serde::Serializer>(u: &Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match u {
        Unit::Row => "row",
        Unit::Feature => "feature",
        Unit::File => "file",
    })
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            Unit::Row => write!(f, "row {}: ", self.row)?,
            Unit::Feature => write!(f, "feature {}: ", self.row)?,
            Unit::File => f.write_str("file: ")?,
        }
        write!(f, "{} (fix: {})", self.error, self.fix)
    }
}

/// Every error found (up to [`MAX_ERRORS`]) and how many there were.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
    /// All errors, including those not listed.
    pub count: usize,
    /// Rows (or features) with at least one error.
    pub bad_rows: usize,
    /// Data rows (or features) in the file.
    pub rows: usize,
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        if self.count > self.errors.len() {
            writeln!(f, "... and {} more errors", self.count - self.errors.len())?;
        }
        write!(
            f,
            "{} of {} rows have errors ({} in all); nothing was imported",
            self.bad_rows, self.rows, self.count
        )
    }
}

impl std::error::Error for ImportErrors {}

impl ImportErrors {
    fn file(error: impl Into<String>, fix: impl Into<String>) -> Self {
        ImportErrors {
            errors: vec![RowError {
                row: 0,
                unit: Unit::File,
                error: error.into(),
                fix: fix.into(),
            }],
            count: 1,
            bad_rows: 0,
            rows: 0,
        }
    }
}

/// A mahalla read from a file, with its row.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub row: usize,
    pub mahalla: NewMahalla,
}

/// The districts a file may name, by id and by every form of their names.
#[derive(Debug, Clone, Default)]
pub struct DistrictIndex {
    by_id: HashMap<i64, String>,
    /// Folded full names and stems (without "tumani" etc.) to the districts that have them.
    by_name: HashMap<String, Vec<DistrictId>>,
    /// (folded stem, display name, id) for suggestions.
    all: Vec<(String, String, DistrictId)>,
}

impl DistrictIndex {
    pub fn new(districts: &[District]) -> DistrictIndex {
        let mut ix = DistrictIndex::default();
        for d in districts {
            ix.by_id.insert(d.id.0, d.names.uz_latn.clone());
            let forms = [
                Some(&d.names.uz_latn),
                d.names.uz_cyrl.as_ref(),
                d.names.ru.as_ref(),
                d.names.en.as_ref(),
            ];
            for n in forms.into_iter().flatten() {
                for key in [fold(n), stem(n).0] {
                    let v = ix.by_name.entry(key).or_default();
                    if !v.contains(&d.id) {
                        v.push(d.id);
                    }
                }
            }
            ix.all
                .push((stem(&d.names.uz_latn).0, d.names.uz_latn.clone(), d.id));
        }
        ix
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The district a cell names, or what is wrong with it.
    pub fn resolve(&self, cell: &str) -> Result<DistrictId, (String, String)> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Err((
                "no district".into(),
                "give the district's id or name in the district column".into(),
            ));
        }
        if let Ok(id) = cell.parse::<i64>() {
            return if self.by_id.contains_key(&id) {
                Ok(DistrictId(id))
            } else {
                Err((
                    format!("unknown district id {id}"),
                    "use a district id from GET /api/geography/regions, or the district's name"
                        .into(),
                ))
            };
        }
        let (s, kind) = stem(cell);
        let hits = self
            .by_name
            .get(&fold(cell))
            .filter(|v| v.len() == 1)
            .or_else(|| self.by_name.get(&s))
            .cloned()
            .unwrap_or_default();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let mut near: Vec<(usize, &str, DistrictId)> = self
                    .all
                    .iter()
                    .map(|(st, name, id)| (distance(st, &s), name.as_str(), *id))
                    .filter(|(d, ..)| *d <= 2.max(s.chars().count() / 4))
                    .collect();
                near.sort();
                let fix = if near.is_empty() {
                    "use a district's id or its name as GET /api/geography/regions lists it".into()
                } else {
                    format!(
                        "did you mean {}? Or give the district's id",
                        near.iter()
                            .take(3)
                            .map(|(_, n, id)| format!("{n:?} ({id})"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                };
                let _ = kind;
                Err((format!("unknown district {cell:?}"), fix))
            }
            many => Err((
                format!("the district {cell:?} is ambiguous"),
                format!(
                    "it could be any of {}; give the district's id",
                    many.iter()
                        .map(|id| format!("{:?} ({id})", self.by_id[&id.0]))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// The kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
}

impl Format {
    /// From a file name's extension (`.csv`, `.geojson`, `.json`).
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".geojson") || lower.ends_with(".json") {
            Some(Format::GeoJson)
        } else {
            None
        }
    }

    /// From a Content-Type (`text/csv`, `application/geo+json`, `application/json`).
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "text/csv" => Some(Format::Csv),
            "application/geo+json" | "application/json" => Some(Format::GeoJson),
            _ => None,
        }
    }
}

/// Reads a whole file: all mahallas, or every bad row.
pub fn parse_mahallas(
    format: Format,
    bytes: &[u8],
    districts: &DistrictIndex,
) -> Result<Vec<Imported>, ImportErrors> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ImportErrors::file(
            format!(
                "the file is not UTF-8 text (bad byte at offset {})",
                e.valid_up_to()
            ),
            "save it as UTF-8 (in a spreadsheet: CSV UTF-8)",
        )
    })?;
    if districts.is_empty() {
        return Err(ImportErrors::file(
            "there are no districts to put mahallas in",
            "import the regions and districts first: posbon import geography",
        ));
    }
    match format {
        Format::Csv => parse_csv(text, districts),
        Format::GeoJson => parse_geojson(text, districts),
    }
}

/// What one row says, before it is checked.
#[derive(Default)]
struct RawRow<'a> {
    name: Option<&'a str>,
    cyrl: Option<&'a str>,
    ru: Option<&'a str>,
    en: Option<&'a str>,
    district: Option<String>,
    population: Option<String>,
    shape: Option<Result<Shape, String>>,
}

struct Collector {
    unit: Unit,
    errors: Vec<RowError>,
    count: usize,
    bad_rows: usize,
    rows: usize,
    out: Vec<Imported>,
    seen: HashMap<(DistrictId, String), usize>,
}

impl Collector {
    fn new(unit: Unit) -> Self {
        Collector {
            unit,
            errors: Vec::new(),
            count: 0,
            bad_rows: 0,
            rows: 0,
            out: Vec::new(),
            seen: HashMap::new(),
        }
    }

    fn error(&mut self, row: usize, error: impl Into<String>, fix: impl Into<String>) {
        self.count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(RowError {
                row,
                unit: self.unit,
                error: error.into(),
                fix: fix.into(),
            });
        }
    }

    /// Checks one row; a row may have several errors, each reported.
    fn row(&mut self, row: usize, raw: RawRow<'_>, districts: &DistrictIndex) {
        self.rows += 1;
        let before = self.count;
        let text = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let name = text(raw.name);
        if name.is_none() {
            self.error(
                row,
                "missing name",
                "give the mahalla's name in Uzbek (Latin script) in the name column",
            );
        }
        let names = Names {
            uz_latn: name.clone().unwrap_or_default(),
            uz_cyrl: text(raw.cyrl),
            ru: text(raw.ru),
            en: text(raw.en),
        };
        if name.is_some()
            && let Err(e) = names.validate()
        {
            self.error(
                row,
                e.to_string(),
                "shorten the name or remove control characters",
            );
        }
        let district = match districts.resolve(raw.district.as_deref().unwrap_or("")) {
            Ok(d) => Some(d),
            Err((e, fix)) => {
                self.error(row, e, fix);
                None
            }
        };
        let population = match raw.population.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => {
                let clean: String = p
                    .chars()
                    .filter(|c| *c != ' ' && *c != '\u{a0}' && *c != '_')
                    .collect();
                match clean.parse::<u32>() {
                    Ok(n) if n <= MAX_POPULATION => Some(n),
                    Ok(n) => {
                        self.error(
                            row,
                            format!("bad population {n}: more than {MAX_POPULATION} residents"),
                            "check the number; a mahalla has a few thousand residents",
                        );
                        None
                    }
                    Err(_) => {
                        self.error(
                            row,
                            format!("bad population {p:?}: not a whole number of residents"),
                            "write the population as digits (e.g. 4250), or leave it empty if unknown",
                        );
                        None
                    }
                }
            }
        };
        let geometry = match raw.shape {
            None => None,
            Some(Err(e)) => {
                self.error(
                    row,
                    format!("bad geometry: {e}"),
                    "give WKT or GeoJSON in longitude/latitude (WGS 84)",
                );
                None
            }
            Some(Ok(shape)) => match shape.validate(&UZBEKISTAN) {
                Ok(()) => Some(shape.to_geojson(DECIMALS)),
                Err(e) => {
                    let fix = if e.contains("outside Uzbekistan") {
                        "give coordinates in Uzbekistan as longitude, latitude in degrees (WGS 84)"
                    } else {
                        "fix the polygon: close each ring and keep its edges from crossing"
                    };
                    self.error(row, format!("invalid geometry: {e}"), fix);
                    None
                }
            },
        };
        if let (Some(name), Some(d)) = (&name, district)
            && let Some(first) = self.seen.insert((d, fold(name)), row)
        {
            self.error(
                row,
                format!(
                    "duplicate: {name:?} in district {d} is already in {} {first}",
                    match self.unit {
                        Unit::Feature => "feature",
                        _ => "row",
                    }
                ),
                "remove one of the two, or tell them apart by name",
            );
        }
        if self.count > before {
            self.bad_rows += 1;
        }
        if self.count == before
            && let (Some(name), Some(district)) = (name, district)
        {
            self.out.push(Imported {
                row,
                mahalla: NewMahalla {
                    district,
                    names: Names {
                        uz_latn: name,
                        ..names
                    },
                    population,
                    geometry,
                    synthetic: false,
                },
            });
        }
    }

    fn finish(self) -> Result<Vec<Imported>, ImportErrors> {
        if self.count > 0 {
            return Err(ImportErrors {
                errors: self.errors,
                count: self.count,
                bad_rows: self.bad_rows.max(1),
                rows: self.rows,
            });
        }
        if self.out.is_empty() {
            return Err(ImportErrors::file(
                "the file has no mahallas",
                "add one row (or feature) per mahalla",
            ));
        }
        Ok(self.out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Name,
    Cyrl,
    Ru,
    En,
    District,
    Population,
    Lon,
    Lat,
    Geometry,
}

const COLUMNS: &[(&str, Col)] = &[
    ("name", Col::Name),
    ("name_uz", Col::Name),
    ("name_uz_latn", Col::Name),
    ("name_uz_cyrl", Col::Cyrl),
    ("name_oz", Col::Cyrl),
    ("name_ru", Col::Ru),
    ("name_en", Col::En),
    ("district", Col::District),
    ("district_id", Col::District),
    ("population", Col::Population),
    ("lon", Col::Lon),
    ("lng", Col::Lon),
    ("longitude", Col::Lon),
    ("lat", Col::Lat),
    ("latitude", Col::Lat),
    ("geometry", Col::Geometry),
    ("wkt", Col::Geometry),
    ("geojson", Col::Geometry),
];

fn parse_csv(text: &str, districts: &DistrictIndex) -> Result<Vec<Imported>, ImportErrors> {
    let records = csv::parse(text, csv::sniff_separator(text)).map_err(|e| ImportErrors {
        errors: vec![RowError {
            row: e.row,
            unit: Unit::Row,
            error: e.message,
            fix: "fix the quoting of that row (a field with a comma, quote or line break is written in \"double quotes\", with \"\" for a quote)".into(),
        }],
        count: 1,
        bad_rows: 1,
        rows: 0,
    })?;
    let Some((header, rows)) = records.split_first() else {
        return Err(ImportErrors::file(
            "the file is empty",
            "the first row names the columns: name,district,population,lon,lat",
        ));
    };
    let mut cols: Vec<Col> = Vec::new();
    let mut c = Collector::new(Unit::Row);
    for h in &header.fields {
        let key = h.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match COLUMNS.iter().find(|(k, _)| *k == key) {
            Some((_, col)) if cols.contains(col) => c.error(
                header.row,
                format!("the column {h:?} is given twice (or with another of its names)"),
                "keep one of them",
            ),
            Some((_, col)) => cols.push(*col),
            None => c.error(
                header.row,
                format!("unknown column {h:?}"),
                "name columns name, name_uz_cyrl, name_ru, name_en, district, population, and lon+lat or geometry",
            ),
        }
    }
    for (need, what) in [(Col::Name, "name"), (Col::District, "district")] {
        if !cols.contains(&need) {
            c.error(
                header.row,
                format!("there is no {what} column"),
                format!("add a column headed {what}"),
            );
        }
    }
    let has = |x| cols.contains(&x);
    if has(Col::Lon) != has(Col::Lat) {
        c.error(
            header.row,
            "lon and lat must come together",
            "add the missing one, or use a geometry column",
        );
    }
    if has(Col::Lon) && has(Col::Geometry) {
        c.error(
            header.row,
            "both lon/lat and geometry columns",
            "keep one way of giving the place",
        );
    }
    if c.count > 0 {
        c.rows = rows.len();
        return c.finish();
    }
    for r in rows {
        if r.fields.len() != cols.len() {
            c.rows += 1;
            c.bad_rows += 1;
            c.error(
                r.row,
                format!("{} fields; the header has {}", r.fields.len(), cols.len()),
                "give every row as many fields as the header (quote fields that contain a separator)",
            );
            continue;
        }
        let get = |x: Col| {
            cols.iter()
                .position(|c| *c == x)
                .map(|i| r.fields[i].as_str())
        };
        let shape = if let (Some(lon), Some(lat)) = (get(Col::Lon), get(Col::Lat)) {
            match (lon.trim(), lat.trim()) {
                ("", "") => None,
                (lo, la) => Some(
                    match (
                        lo.replace(',', ".").parse::<f64>(),
                        la.replace(',', ".").parse::<f64>(),
                    ) {
                        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
                            Ok(Shape::Point([x, y]))
                        }
                        _ => Err(format!("lon {lo:?} and lat {la:?} are not both numbers")),
                    },
                ),
            }
        } else {
            get(Col::Geometry)
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(Shape::parse_text)
        };
        let raw = RawRow {
            name: get(Col::Name),
            cyrl: get(Col::Cyrl),
            ru: get(Col::Ru),
            en: get(Col::En),
            district: get(Col::District).map(str::to_owned),
            population: get(Col::Population).map(str::to_owned),
            shape,
        };
        c.row(r.row, raw, districts);
    }
    c.finish()
}

fn cell(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn parse_geojson(text: &str, districts: &DistrictIndex) -> Result<Vec<Imported>, ImportErrors> {
    let fix =
        "send a GeoJSON FeatureCollection: {\"type\":\"FeatureCollection\",\"features\":[...]}";
    let root: Value = serde_json::from_str(text)
        .map_err(|e| ImportErrors::file(format!("the file is not JSON: {e}"), fix))?;
    if root["type"] != "FeatureCollection" {
        return Err(ImportErrors::file(
            "the file is not a GeoJSON FeatureCollection",
            fix,
        ));
    }
    let Some(features) = root["features"].as_array() else {
        return Err(ImportErrors::file(
            "the FeatureCollection has no features array",
            fix,
        ));
    };
    let mut c = Collector::new(Unit::Feature);
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        if f["type"] != "Feature" {
            c.rows += 1;
            c.bad_rows += 1;
            c.error(
                n,
                "not a GeoJSON Feature",
                "give each item as {\"type\":\"Feature\",\"properties\":{...},\"geometry\":...}",
            );
            continue;
        }
        let p = &f["properties"];
        let prop = |k: &str| p.get(k).and_then(Value::as_str);
        let string_or = |keys: &[&str]| keys.iter().find_map(|k| prop(k));
        let shape = match f.get("geometry") {
            None | Some(Value::Null) => None,
            Some(g) => Some(Shape::from_geojson(g)),
        };
        let name_value = ["name", "name_uz", "name_uz_latn"]
            .iter()
            .find_map(|k| p.get(*k));
        if let Some(v) = name_value
            && !v.is_string()
            && !v.is_null()
        {
            c.rows += 1;
            c.bad_rows += 1;
            c.error(
                n,
                "the name is not text",
                "give properties.name as a string",
            );
            continue;
        }
        let raw = RawRow {
            name: string_or(&["name", "name_uz", "name_uz_latn"]),
            cyrl: string_or(&["name_uz_cyrl", "name_oz"]),
            ru: prop("name_ru"),
            en: prop("name_en"),
            district: cell(p.get("district").or_else(|| p.get("district_id"))),
            population: cell(p.get("population")),
            shape,
        };
        c.row(n, raw, districts);
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::RegionId;

    fn index() -> DistrictIndex {
        let d = |id: i64, uz: &str, ru: &str| District {
            id: DistrictId(id),
            region: RegionId(1726),
            names: Names {
                uz_latn: uz.into(),
                uz_cyrl: None,
                ru: Some(ru.into()),
                en: None,
            },
            geometry: None,
        };
        DistrictIndex::new(&[
            d(1_726_294, "Chilonzor tumani", "Чиланзарский район"),
            d(1_726_266, "Yunusobod tumani", "Юнусабадский район"),
        ])
    }

    fn csv_errors(text: &str) -> Vec<String> {
        parse_mahallas(Format::Csv, text.as_bytes(), &index())
            .unwrap_err()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn header_mistakes_are_row_1() {
        let e = csv_errors("name,colour,lon\nA,red,69\n");
        assert!(
            e[0].starts_with("row 1: unknown column \"colour\""),
            "{e:?}"
        );
        assert!(
            e.iter().any(|l| l.contains("there is no district column")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|l| l.contains("lon and lat must come together")),
            "{e:?}"
        );
        let e = csv_errors("name,Name_UZ,district\nA,B,Chilonzor\n");
        assert!(e[0].contains("given twice"), "{e:?}");
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_and_bad_values_are_named() {
        let e = csv_errors(
            "name;district;population;geometry\n\
             A;Chilonzor;12\n\
             B;Chilonzor;300000;\n\
             C;Chilonzor;;LINESTRING (69.2 41.3, 69.3 41.3)\n\
             D;Чиланзарский район;1,5;\n",
        );
        assert_eq!(e.len(), 4, "{e:#?}");
        assert!(
            e[0].starts_with("row 2: 3 fields; the header has 4"),
            "{e:?}"
        );
        assert!(e[1].starts_with("row 3: bad population 300000"), "{e:?}");
        assert!(
            e[2].starts_with("row 4: bad geometry") && e[2].contains("LINESTRING"),
            "{e:?}"
        );
        assert!(e[3].starts_with("row 5: bad population \"1,5\""), "{e:?}");
    }

    #[test]
    fn good_rows_come_back_with_their_rows_and_shapes() {
        let text = "name,name_uz_cyrl,district,population,wkt\n\
                    Qatortol,Қатортол,chilonzor,\"4 250\",\"POLYGON ((69.2 41.3, 69.21 41.3, 69.21 41.31, 69.2 41.3))\"\n\
                    Bodomzor,,1726266,,\"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[69.29,41.36]}\"\n";
        let rows = parse_mahallas(Format::Csv, text.as_bytes(), &index()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        let q = &rows[0].mahalla;
        assert_eq!((q.district.0, q.population), (1_726_294, Some(4250)));
        assert_eq!(q.names.uz_cyrl.as_deref(), Some("Қатортол"));
        assert!(
            q.geometry
                .as_deref()
                .unwrap()
                .starts_with("{\"coordinates\":[[[69.2,41.3]")
        );
        assert!(!q.synthetic);
        assert_eq!(rows[1].mahalla.district.0, 1_726_266);
        assert_eq!(
            rows[1].mahalla.geometry.as_deref(),
            Some("{\"coordinates\":[69.29,41.36],\"type\":\"Point\"}")
        );
    }

    #[test]
    fn errors_are_capped_but_counted() {
        let mut text = String::from("name,district\n");
        for _ in 0..(MAX_ERRORS + 50) {
            text.push_str("A,Nowhere\n");
        }
        let e = parse_mahallas(Format::Csv, text.as_bytes(), &index()).unwrap_err();
        assert_eq!(e.errors.len(), MAX_ERRORS);
        assert_eq!(
            (e.count, e.bad_rows, e.rows),
            (MAX_ERRORS + 50, MAX_ERRORS + 50, MAX_ERRORS + 50)
        );
        assert!(
            e.to_string()
                .ends_with("250 of 250 rows have errors (250 in all); nothing was imported")
        );
    }

    #[test]
    fn whole_file_problems_are_said_once() {
        let idx = index();
        for (format, bytes, want) in [
            (Format::Csv, &b"\xff\xfe"[..], "not UTF-8"),
            (Format::Csv, b"", "the file is empty"),
            (Format::Csv, b"name,district\n", "no mahallas"),
            (Format::GeoJson, b"[1]", "not a GeoJSON FeatureCollection"),
            (Format::GeoJson, b"{", "not JSON"),
        ] {
            let e = parse_mahallas(format, bytes, &idx).unwrap_err();
            assert_eq!(e.errors.len(), 1);
            assert!(
                e.errors[0].to_string().starts_with("file: ") && e.errors[0].error.contains(want),
                "{e}"
            );
        }
        let e = parse_mahallas(
            Format::Csv,
            b"name,district\nA,1\n",
            &DistrictIndex::default(),
        )
        .unwrap_err();
        assert!(e.errors[0].fix.contains("posbon import geography"), "{e}");
    }

    #[test]
    fn geojson_features_are_numbered_from_one() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"A","district":1726294,"population":"12"},"geometry":null},
            {"type":"Feature","properties":{"name":7,"district":1726294},"geometry":null},
            {"type":"Point","coordinates":[69.2,41.3]},
            {"type":"Feature","properties":{"name":"B","district":"Yunusobod","population":-1},"geometry":{"type":"Point","coordinates":[41.3,69.2]}}
        ]}"#;
        let e = parse_mahallas(Format::GeoJson, text.as_bytes(), &index()).unwrap_err();
        let lines: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(
            lines[0].starts_with("feature 2: the name is not text"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("feature 3: not a GeoJSON Feature"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("feature 4: bad population \"-1\""),
            "{lines:?}"
        );
        assert!(
            lines[3].starts_with("feature 4: invalid geometry") && lines[3].contains("swapped"),
            "{lines:?}"
        );
        assert_eq!((e.bad_rows, e.rows), (3, 4));
    }
}
