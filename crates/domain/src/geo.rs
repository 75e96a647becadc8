//! Geography: Uzbekistan's regions (the 12 viloyats, Karakalpakstan and Tashkent city), their
//! districts and cities, and the mahallas within those. Ids of regions and districts are their
//! SOATO codes where the registry gives one; a mahalla's id is whatever its import assigns.
use serde::{Deserialize, Serialize};

use crate::{DomainError, check_text, id_type, word_enum};

id_type!(
    /// A first-level unit (viloyat, the Republic of Karakalpakstan, Tashkent city).
    RegionId
);
id_type!(
    /// A district (tuman) or a city of district rank.
    DistrictId
);
id_type!(
    /// A mahalla (makhalla fuqarolar yig'ini).
    MahallaId
);

word_enum! {
    /// The languages and scripts names are kept in.
    pub enum Lang("language") {
        UzLatn = "uz-Latn",
        UzCyrl = "uz-Cyrl",
        Ru = "ru",
        En = "en",
    }
}

/// A place's name. Uzbek in Latin script is the official form and always present; the others are
/// kept when the source has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub uz_latn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uz_cyrl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Names {
    /// A name known only in Uzbek Latin.
    pub fn uz(name: impl Into<String>) -> Names {
        Names {
            uz_latn: name.into(),
            uz_cyrl: None,
            ru: None,
            en: None,
        }
    }

    /// The name in `lang`, or the Uzbek Latin name where that one is not known.
    pub fn get(&self, lang: Lang) -> &str {
        let other = match lang {
            Lang::UzLatn => None,
            Lang::UzCyrl => self.uz_cyrl.as_deref(),
            Lang::Ru => self.ru.as_deref(),
            Lang::En => self.en.as_deref(),
        };
        other.unwrap_or(&self.uz_latn)
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("name (uz-Latn)", &self.uz_latn, 200, false)?;
        for (what, n) in [
            ("name (uz-Cyrl)", &self.uz_cyrl),
            ("name (ru)", &self.ru),
            ("name (en)", &self.en),
        ] {
            if let Some(n) = n {
                check_text(what, n, 200, false)?;
            }
        }
        Ok(())
    }
}

/// A point in WGS 84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
}

impl GeoPoint {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(self.lon.is_finite() && (-180.0..=180.0).contains(&self.lon)) {
            return Err(DomainError::invalid(
                "longitude",
                format!("{} is not within -180..180", self.lon),
            ));
        }
        if !(self.lat.is_finite() && (-90.0..=90.0).contains(&self.lat)) {
            return Err(DomainError::invalid(
                "latitude",
                format!("{} is not within -90..90", self.lat),
            ));
        }
        Ok(())
    }
}

/// The GeoJSON geometry types a place's shape may have.
const GEOMETRY_TYPES: &[&str] = &["Point", "MultiPoint", "Polygon", "MultiPolygon"];
/// A place's geometry is kept as GeoJSON text; this bounds one row's size (a detailed region
/// outline is a few hundred kilobytes).
pub const MAX_GEOMETRY_BYTES: usize = 4 << 20;

/// Checks that `text` is a GeoJSON geometry object of a type a place may have, with
/// `coordinates`. It does not check the coordinates' nesting: importers do that with a GeoJSON
/// parser and report the row.
pub fn validate_geometry(text: &str) -> Result<(), DomainError> {
    if text.len() > MAX_GEOMETRY_BYTES {
        return Err(DomainError::invalid(
            "geometry",
            format!(
                "is {} bytes; at most {MAX_GEOMETRY_BYTES} are allowed",
                text.len()
            ),
        ));
    }
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DomainError::invalid("geometry", format!("is not JSON: {e}")))?;
    let ty = v.get("type").and_then(|t| t.as_str()).ok_or_else(|| {
        DomainError::invalid("geometry", "is not a GeoJSON geometry (no \"type\")")
    })?;
    if !GEOMETRY_TYPES.contains(&ty) {
        return Err(DomainError::invalid(
            "geometry",
            format!(
                "has type {ty:?}; expected one of {}",
                GEOMETRY_TYPES.join(", ")
            ),
        ));
    }
    if !v.get("coordinates").is_some_and(|c| c.is_array()) {
        return Err(DomainError::invalid(
            "geometry",
            "has no \"coordinates\" array",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub id: RegionId,
    pub names: Names,
    /// GeoJSON geometry (Polygon or MultiPolygon), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub id: DistrictId,
    pub region: RegionId,
    pub names: Names,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mahalla {
    pub id: MahallaId,
    pub district: DistrictId,
    pub names: Names,
    /// Residents, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<u32>,
    /// GeoJSON geometry: a Polygon or MultiPolygon, or a Point where no boundary is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
    /// Made up by the demo generator, not taken from any registry. Shown as such everywhere.
    #[serde(default)]
    pub synthetic: bool,
}

/// A mahalla before it has an id: what an import or the demo generator hands the store, which
/// assigns the id (or keeps the id of the mahalla of the same district and name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMahalla {
    pub district: DistrictId,
    pub names: Names,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
}

impl NewMahalla {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.names.validate()?;
        self.geometry.as_deref().map_or(Ok(()), validate_geometry)
    }
}

impl Region {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.names.validate()?;
        self.geometry.as_deref().map_or(Ok(()), validate_geometry)
    }
}

impl District {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.names.validate()?;
        self.geometry.as_deref().map_or(Ok(()), validate_geometry)
    }
}

impl Mahalla {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.names.validate()?;
        self.geometry.as_deref().map_or(Ok(()), validate_geometry)
    }
}

/// A place at one of the three levels, named together with the levels above it, so that whether
/// a [`crate::Scope`] covers it can be decided without looking anything up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum Area {
    Region {
        region: RegionId,
    },
    District {
        region: RegionId,
        district: DistrictId,
    },
    Mahalla {
        region: RegionId,
        district: DistrictId,
        mahalla: MahallaId,
    },
}

impl Area {
    pub fn region(&self) -> RegionId {
        match *self {
            Area::Region { region }
            | Area::District { region, .. }
            | Area::Mahalla { region, .. } => region,
        }
    }
    pub fn district(&self) -> Option<DistrictId> {
        match *self {
            Area::Region { .. } => None,
            Area::District { district, .. } | Area::Mahalla { district, .. } => Some(district),
        }
    }
    pub fn mahalla(&self) -> Option<MahallaId> {
        match *self {
            Area::Mahalla { mahalla, .. } => Some(mahalla),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fall_back_to_uzbek_latin() {
        let n = Names {
            uz_latn: "Chilonzor".into(),
            uz_cyrl: Some("Чилонзор".into()),
            ru: None,
            en: Some("Chilanzar".into()),
        };
        assert_eq!(n.get(Lang::UzCyrl), "Чилонзор");
        assert_eq!(n.get(Lang::Ru), "Chilonzor");
        assert_eq!(n.get(Lang::En), "Chilanzar");
        assert_eq!("uz-Cyrl".parse::<Lang>().unwrap(), Lang::UzCyrl);
        n.validate().unwrap();
        assert!(Names::uz("  ").validate().is_err());
        assert!(Names::uz("a\u{0}b").validate().is_err());
    }

    #[test]
    fn geometry_must_be_a_geojson_geometry() {
        validate_geometry(r#"{"type":"Point","coordinates":[69.2,41.3]}"#).unwrap();
        validate_geometry(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#)
            .unwrap();
        for bad in [
            "not json",
            r#"{"coordinates":[1,2]}"#,
            r#"{"type":"Feature","geometry":null}"#,
            r#"{"type":"Point"}"#,
        ] {
            assert!(validate_geometry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn points_must_be_on_earth() {
        GeoPoint {
            lon: 69.24,
            lat: 41.31,
        }
        .validate()
        .unwrap();
        for (lon, lat) in [(181.0, 0.0), (0.0, -91.0), (f64::NAN, 0.0)] {
            assert!(GeoPoint { lon, lat }.validate().is_err());
        }
    }
}
