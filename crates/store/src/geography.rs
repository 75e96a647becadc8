//! Imports of geography with their audit entries, and reading mahallas within a scope.
use domain::{
    Actor, District, DistrictId, Mahalla, MahallaId, Names, NewMahalla, Region, RegionId, Scope,
};
use serde_json::{Value, json};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::RowExt;
use crate::error::{Error, Result, db};

/// What a mahalla import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MahallaImport {
    /// Mahallas that were not there before.
    pub inserted: usize,
    /// Mahallas of the same district and name that were there and were updated.
    pub updated: usize,
    /// The id of each row, in the order given.
    pub ids: Vec<MahallaId>,
}

/// A mahalla with the region its district lies in.
#[derive(Debug, Clone, PartialEq)]
pub struct MahallaInRegion {
    pub mahalla: Mahalla,
    pub region: RegionId,
}

/// `SELECT <mahalla columns and region> FROM mahallas m JOIN districts d <rest>`.
macro_rules! select_mahallas {
    ($($rest:tt)*) => {
        concat!(
            "SELECT m.id, m.district_id, m.name_uz_latn, m.name_uz_cyrl, m.name_ru, m.name_en, \
             m.population, m.geometry, m.synthetic, d.region_id \
             FROM mahallas m JOIN districts d ON d.id = m.district_id ",
            $($rest)*
        )
    };
}

const MAHALLAS_NATIONAL: &str = select_mahallas!("ORDER BY m.id");
const MAHALLAS_REGION: &str = select_mahallas!("WHERE d.region_id = $1 ORDER BY m.id");
const MAHALLAS_DISTRICT: &str = select_mahallas!("WHERE m.district_id = $1 ORDER BY m.id");
const MAHALLAS_MAHALLA: &str = select_mahallas!("WHERE m.id = $1 ORDER BY m.id");

impl Store {
    /// Inserts or updates (by id) the registry's regions and districts in one transaction, with
    /// one audit entry (`geography.import_registry`) by `actor` whose details are `source` (the
    /// packages and file hashes it came from) and the counts. Nothing is written if any row is
    /// refused.
    pub async fn import_registry(
        &self,
        actor: &Actor,
        source: &Value,
        regions: &[Region],
        districts: &[District],
    ) -> Result<crate::ImportCounts> {
        let at = self.now();
        let details = json!({
            "source": source,
            "regions": regions.len(),
            "districts": districts.len(),
        });
        self.import_geography_audited(
            regions,
            districts,
            &[],
            Some((at, actor.to_string(), "geography.import_registry", details)),
        )
        .await
    }

    /// Imports mahallas in one transaction: a mahalla of the same district and Uzbek Latin name
    /// as one already stored is updated (keeping its id), any other is added with the next free
    /// id. One audit entry (`geography.import_mahallas`) by `actor` records `source` (the file's
    /// name and sha256) and the counts. If any row is refused (a district that does not exist,
    /// two rows of one name), nothing is written and the error is an [`Error::Row`] naming the
    /// row's index in `rows`.
    pub async fn import_mahallas(
        &self,
        actor: &Actor,
        source: &Value,
        rows: &[NewMahalla],
    ) -> Result<MahallaImport> {
        for (i, m) in rows.iter().enumerate() {
            m.validate().map_err(|e| Error::Row {
                what: "mahalla",
                index: i,
                error: Box::new(e.into()),
            })?;
        }
        let at = self.now();
        let actor = actor.to_string();
        let result = write_tx!(self, audit = true, |tx, _pg| {
            let mut next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM mahallas")
                .fetch_one(&mut *tx)
                .await
                .map_err(db("find the next mahalla id"))?;
            let mut ids = Vec::with_capacity(rows.len());
            let (mut inserted, mut updated) = (0, 0);
            for (i, m) in rows.iter().enumerate() {
                let row_err = |e: Error| Error::Row {
                    what: "mahalla",
                    index: i,
                    error: Box::new(e),
                };
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM mahallas WHERE district_id = $1 AND name_uz_latn = $2",
                )
                .bind(m.district.0)
                .bind(&m.names.uz_latn)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("look up a mahalla by district and name"))
                .map_err(row_err)?;
                let id = match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE mahallas SET name_uz_cyrl = $2, name_ru = $3, name_en = $4, \
                             population = $5, geometry = $6, synthetic = $7 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(&m.names.uz_cyrl)
                        .bind(&m.names.ru)
                        .bind(&m.names.en)
                        .bind(m.population.map(i64::from))
                        .bind(&m.geometry)
                        .bind(m.synthetic)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("update a mahalla"))
                        .map_err(row_err)?;
                        updated += 1;
                        id
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO mahallas (id, district_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, \
                             population, geometry, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(next)
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
                        .map_err(db("add a mahalla"))
                        .map_err(row_err)?;
                        inserted += 1;
                        next += 1;
                        next - 1
                    }
                };
                if ids.contains(&MahallaId(id)) {
                    return Err(row_err(Error::Conflict {
                        op: "import mahallas",
                        message: format!(
                            "{:?} of district {} is given twice",
                            m.names.uz_latn, m.district
                        ),
                    }));
                }
                ids.push(MahallaId(id));
            }
            tx.append_audit(
                at,
                &actor,
                "geography.import_mahallas",
                "mahallas",
                &json!({
                    "source": source,
                    "rows": rows.len(),
                    "inserted": inserted,
                    "updated": updated,
                    "synthetic": rows.iter().filter(|m| m.synthetic).count(),
                    "first_id": ids.iter().min().map(|m| m.0),
                    "last_id": ids.iter().max().map(|m| m.0),
                }),
            )
            .await?;
            MahallaImport {
                inserted,
                updated,
                ids,
            }
        });
        tracing::info!(
            inserted = result.inserted,
            updated = result.updated,
            "mahallas imported"
        );
        Ok(result)
    }

    /// Every district, by id (what a mahalla list may name).
    pub async fn list_all_districts(&self) -> Result<Vec<District>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, region_id, name_uz_latn, name_uz_cyrl, name_ru, name_en, geometry \
                 FROM districts ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(db("list districts"))?
            .iter()
            .map(|r| {
                Ok(District {
                    id: DistrictId(r.i64("id")?),
                    region: RegionId(r.i64("region_id")?),
                    names: names(r)?,
                    geometry: r.opt_text("geometry")?,
                })
            })
            .collect()
        })
    }

    /// Every mahalla within `scope`, by id, each with its region.
    pub async fn list_mahallas_in_scope(&self, scope: &Scope) -> Result<Vec<MahallaInRegion>> {
        let sql = match scope {
            Scope::National => MAHALLAS_NATIONAL,
            Scope::Region(_) => MAHALLAS_REGION,
            Scope::District(_) => MAHALLAS_DISTRICT,
            Scope::Mahalla(_) => MAHALLAS_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql);
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list mahallas"))?
                .iter()
                .map(|r| {
                    let population = r
                        .opt_i64("population")?
                        .map(|p| {
                            u32::try_from(p).map_err(|_| Error::Corrupt {
                                what: "mahalla population",
                                reason: format!("{p} is out of range"),
                            })
                        })
                        .transpose()?;
                    Ok(MahallaInRegion {
                        mahalla: Mahalla {
                            id: MahallaId(r.i64("id")?),
                            district: DistrictId(r.i64("district_id")?),
                            names: names(r)?,
                            population,
                            geometry: r.opt_text("geometry")?,
                            synthetic: r.boolean("synthetic")?,
                        },
                        region: RegionId(r.i64("region_id")?),
                    })
                })
                .collect()
        })
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
