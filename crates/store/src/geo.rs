//! Regions, districts and mahallas.
use domain::{Area, District, DistrictId, Mahalla, MahallaId, Names, Region, RegionId};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::RowExt;
use crate::error::{Error, Result, db};

const UPSERT_REGION: &str = "INSERT INTO regions (id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (id) DO UPDATE SET name_uz_latn = excluded.name_uz_latn, name_uz_cyrl = excluded.name_uz_cyrl, \
     name_ru = excluded.name_ru, name_en = excluded.name_en, geometry = excluded.geometry";
const UPSERT_DISTRICT: &str = "INSERT INTO districts (id, region_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (id) DO UPDATE SET region_id = excluded.region_id, name_uz_latn = excluded.name_uz_latn, \
     name_uz_cyrl = excluded.name_uz_cyrl, name_ru = excluded.name_ru, name_en = excluded.name_en, \
     geometry = excluded.geometry";
const UPSERT_MAHALLA: &str = "INSERT INTO mahallas (id, district_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, population, geometry, synthetic) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET district_id = excluded.district_id, name_uz_latn = excluded.name_uz_latn, \
     name_uz_cyrl = excluded.name_uz_cyrl, name_ru = excluded.name_ru, name_en = excluded.name_en, \
     population = excluded.population, geometry = excluded.geometry, synthetic = excluded.synthetic";

/// How many rows an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub regions: usize,
    pub districts: usize,
    pub mahallas: usize,
}

impl Store {
    /// Inserts or updates (by id) regions, then districts, then mahallas, all in one
    /// transaction: if any row is refused, nothing is written and the error names the row.
    pub async fn import_geography(
        &self,
        regions: &[Region],
        districts: &[District],
        mahallas: &[Mahalla],
    ) -> Result<ImportCounts> {
        self.import_geography_audited(regions, districts, mahallas, None)
            .await
    }

    /// [`Store::import_geography`], appending `audit` = (at, actor, action, details) to the
    /// audit log in the same transaction when given.
    pub(crate) async fn import_geography_audited(
        &self,
        regions: &[Region],
        districts: &[District],
        mahallas: &[Mahalla],
        audit: Option<(domain::Timestamp, String, &'static str, serde_json::Value)>,
    ) -> Result<ImportCounts> {
        let row_err = |what, index| {
            move |e: Error| Error::Row {
                what,
                index,
                error: Box::new(e),
            }
        };
        for (i, r) in regions.iter().enumerate() {
            r.validate()
                .map_err(Error::from)
                .map_err(row_err("region", i))?;
        }
        for (i, d) in districts.iter().enumerate() {
            d.validate()
                .map_err(Error::from)
                .map_err(row_err("district", i))?;
        }
        for (i, m) in mahallas.iter().enumerate() {
            m.validate()
                .map_err(Error::from)
                .map_err(row_err("mahalla", i))?;
        }
        write_tx!(self, audit = audit.is_some(), |tx, _pg| {
            for (i, r) in regions.iter().enumerate() {
                sqlx::query(UPSERT_REGION)
                    .bind(r.id.0)
                    .bind(&r.names.uz_latn)
                    .bind(&r.names.uz_cyrl)
                    .bind(&r.names.ru)
                    .bind(&r.names.en)
                    .bind(&r.geometry)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("store a region"))
                    .map_err(row_err("region", i))?;
            }
            for (i, d) in districts.iter().enumerate() {
                sqlx::query(UPSERT_DISTRICT)
                    .bind(d.id.0)
                    .bind(d.region.0)
                    .bind(&d.names.uz_latn)
                    .bind(&d.names.uz_cyrl)
                    .bind(&d.names.ru)
                    .bind(&d.names.en)
                    .bind(&d.geometry)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("store a district"))
                    .map_err(row_err("district", i))?;
            }
            for (i, m) in mahallas.iter().enumerate() {
                sqlx::query(UPSERT_MAHALLA)
                    .bind(m.id.0)
                    .bind(m.district.0)
                    .bind(&m.names.uz_latn)
                    .bind(&m.names.uz_cyrl)
                    .bind(&m.names.ru)
                    .bind(&m.names.en)
                    .bind(m.population.map(i64::from))
                    .bind(&m.geometry)
                    .bind(m.synthetic)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("store a mahalla"))
                    .map_err(row_err("mahalla", i))?;
            }
            if let Some((at, actor, action, details)) = &audit {
                tx.append_audit(*at, actor, action, "geography", details)
                    .await?;
            }
        });
        Ok(ImportCounts {
            regions: regions.len(),
            districts: districts.len(),
            mahallas: mahallas.len(),
        })
    }

    pub async fn upsert_region(&self, r: &Region) -> Result<()> {
        self.import_geography(std::slice::from_ref(r), &[], &[])
            .await
            .map(drop)
            .map_err(unwrap_row)
    }

    pub async fn upsert_district(&self, d: &District) -> Result<()> {
        self.import_geography(&[], std::slice::from_ref(d), &[])
            .await
            .map(drop)
            .map_err(unwrap_row)
    }

    pub async fn upsert_mahalla(&self, m: &Mahalla) -> Result<()> {
        self.import_geography(&[], &[], std::slice::from_ref(m))
            .await
            .map(drop)
            .map_err(unwrap_row)
    }

    pub async fn get_region(&self, id: RegionId) -> Result<Option<Region>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry FROM regions WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a region"))?;
            row.as_ref().map(region_from_row).transpose()
        })
    }

    /// All regions, by id.
    pub async fn list_regions(&self) -> Result<Vec<Region>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry FROM regions ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(db("list regions"))?
            .iter()
            .map(region_from_row)
            .collect()
        })
    }

    pub async fn get_district(&self, id: DistrictId) -> Result<Option<District>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT id, region_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry \
                 FROM districts WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a district"))?;
            row.as_ref().map(district_from_row).transpose()
        })
    }

    /// A region's districts, by id.
    pub async fn list_districts(&self, region: RegionId) -> Result<Vec<District>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, region_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry \
                 FROM districts WHERE region_id = $1 ORDER BY id",
            )
            .bind(region.0)
            .fetch_all(pool)
            .await
            .map_err(db("list districts"))?
            .iter()
            .map(district_from_row)
            .collect()
        })
    }

    pub async fn get_mahalla(&self, id: MahallaId) -> Result<Option<Mahalla>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT id, district_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, population, geometry, synthetic \
                 FROM mahallas WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a mahalla"))?;
            row.as_ref().map(mahalla_from_row).transpose()
        })
    }

    /// A district's mahallas, by id.
    pub async fn list_mahallas(&self, district: DistrictId) -> Result<Vec<Mahalla>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, district_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, population, geometry, synthetic \
                 FROM mahallas WHERE district_id = $1 ORDER BY id",
            )
            .bind(district.0)
            .fetch_all(pool)
            .await
            .map_err(db("list mahallas"))?
            .iter()
            .map(mahalla_from_row)
            .collect()
        })
    }

    /// The mahalla with its district and region, for deciding whether a scope covers it.
    pub async fn mahalla_area(&self, id: MahallaId) -> Result<Option<Area>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT m.id, m.district_id, d.region_id FROM mahallas m \
                 JOIN districts d ON d.id = m.district_id WHERE m.id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a mahalla's district and region"))?;
            row.map(|r| {
                Ok(Area::Mahalla {
                    region: RegionId(r.i64("region_id")?),
                    district: DistrictId(r.i64("district_id")?),
                    mahalla: MahallaId(r.i64("id")?),
                })
            })
            .transpose()
        })
    }
}

/// A single-row upsert reports the row's own error, not "row #0".
fn unwrap_row(e: Error) -> Error {
    match e {
        Error::Row { error, .. } => *error,
        e => e,
    }
}

fn names(r: &impl RowExt) -> Result<Names> {
    Ok(Names {
        uz_latn: r.text("name_uz_latn")?,
        uz_cyrl: r.opt_text("name_uz_cyrl")?,
        ru: r.opt_text("name_ru")?,
        en: r.opt_text("name_en")?,
    })
}

fn region_from_row(r: &impl RowExt) -> Result<Region> {
    Ok(Region {
        id: RegionId(r.i64("id")?),
        names: names(r)?,
        geometry: r.opt_text("geometry")?,
    })
}

fn district_from_row(r: &impl RowExt) -> Result<District> {
    Ok(District {
        id: DistrictId(r.i64("id")?),
        region: RegionId(r.i64("region_id")?),
        names: names(r)?,
        geometry: r.opt_text("geometry")?,
    })
}

fn mahalla_from_row(r: &impl RowExt) -> Result<Mahalla> {
    let population = r
        .opt_i64("population")?
        .map(|p| {
            u32::try_from(p).map_err(|_| Error::Corrupt {
                what: "mahalla population",
                reason: format!("{p} is out of range"),
            })
        })
        .transpose()?;
    Ok(Mahalla {
        id: MahallaId(r.i64("id")?),
        district: DistrictId(r.i64("district_id")?),
        names: names(r)?,
        population,
        geometry: r.opt_text("geometry")?,
        synthetic: r.boolean("synthetic")?,
    })
}
