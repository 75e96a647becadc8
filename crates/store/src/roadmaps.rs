//! Prevention roadmaps of regions, districts and mahallas, and their measures. Every change
//! (a roadmap made, a measure added, edited, moved to another status, its evidence verified)
//! appends an audit entry in the same transaction, with what it was before where it changed.
//!
//! Kinds and statuses are kept as words (the analytics crate's `MeasureKind` and
//! `MeasureStatus`); the server checks them, the database's constraints hold them.
use domain::{Actor, Area, DistrictId, DomainError, MahallaId, RegionId, Scope, Timestamp, UserId};
use serde_json::{Value, json};
use sqlx::{PgConnection, SqliteConnection};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};
use crate::patrols::fetch_scoped;

/// A roadmap before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoadmap {
    /// Whose roadmap: a region, district or mahalla (never the national scope).
    pub place: Scope,
    pub title: String,
    /// The period it covers, in words (e.g. `2025`, `2025 H2`).
    pub period: String,
    pub synthetic: bool,
}

/// A stored roadmap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roadmap {
    pub id: i64,
    pub area: Area,
    pub title: String,
    pub period: String,
    pub synthetic: bool,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

/// What a measure says: added as new, or replacing what an edit changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureFields {
    pub kind: String,
    pub description: String,
    /// Who answers for it: an office or post, never a person's name.
    pub owner: String,
    pub deadline: Timestamp,
}

/// A move of a measure to a status, with evidence of completion when it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureStatusChange {
    pub to: String,
    /// Replaces the stored evidence when not empty.
    pub evidence_text: String,
    pub evidence_link: Option<String>,
    pub note: String,
}

/// A stored measure, with the area of its roadmap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub id: i64,
    pub roadmap: i64,
    pub area: Area,
    pub kind: String,
    pub description: String,
    pub owner: String,
    pub deadline: Timestamp,
    pub status: String,
    pub evidence_text: String,
    pub evidence_link: Option<String>,
    /// When it was marked done (while it is done).
    pub completed_at: Option<Timestamp>,
    /// Who marked it done and gave the evidence (while it is done).
    pub done_by: Option<Actor>,
    /// Who checked the evidence: a second person.
    pub verified_by: Option<UserId>,
    pub verified_at: Option<Timestamp>,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

macro_rules! select_roadmaps {
    ($($rest:tt)*) => {
        concat!(
            "SELECT r.id, r.level, r.region_id, r.district_id, r.mahalla_id, r.title, r.period, ",
            "r.synthetic, r.created_by, r.created_at FROM roadmaps r ",
            $($rest)*
        )
    };
}

macro_rules! select_measures {
    ($($rest:tt)*) => {
        concat!(
            "SELECT x.id, x.roadmap_id, r.level, r.region_id, r.district_id, r.mahalla_id, x.kind, ",
            "x.description, x.owner, x.deadline, x.status, x.evidence_text, x.evidence_link, ",
            "x.completed_at, x.done_by, x.verified_by, x.verified_at, x.created_by, x.created_at, ",
            "x.updated_at FROM roadmap_measures x JOIN roadmaps r ON r.id = x.roadmap_id ",
            $($rest)*
        )
    };
}

/// A scope's roadmaps, and their measures, by level: `$1` the place.
const ROADMAPS: [&str; 4] = [
    select_roadmaps!("ORDER BY r.id"),
    select_roadmaps!("WHERE r.region_id = $1 ORDER BY r.id"),
    select_roadmaps!("WHERE r.district_id = $1 ORDER BY r.id"),
    select_roadmaps!("WHERE r.mahalla_id = $1 ORDER BY r.id"),
];
const MEASURES: [&str; 4] = [
    select_measures!("ORDER BY x.id"),
    select_measures!("WHERE r.region_id = $1 ORDER BY x.id"),
    select_measures!("WHERE r.district_id = $1 ORDER BY x.id"),
    select_measures!("WHERE r.mahalla_id = $1 ORDER BY x.id"),
];

const MEASURE_BY_ID: &str = select_measures!("WHERE x.id = $1");

fn area_from_row(r: &impl RowExt) -> Result<Area> {
    let region = RegionId(r.i64("region_id")?);
    let district = r.opt_i64("district_id")?.map(DistrictId);
    let mahalla = r.opt_i64("mahalla_id")?.map(MahallaId);
    match (r.text("level")?.as_str(), district, mahalla) {
        ("region", None, None) => Ok(Area::Region { region }),
        ("district", Some(district), None) => Ok(Area::District { region, district }),
        ("mahalla", Some(district), Some(mahalla)) => Ok(Area::Mahalla {
            region,
            district,
            mahalla,
        }),
        (level, _, _) => Err(Error::Corrupt {
            what: "roadmap area",
            reason: format!("level {level:?} does not match the places named"),
        }),
    }
}

fn roadmap_from_row(r: &impl RowExt) -> Result<Roadmap> {
    Ok(Roadmap {
        id: r.i64("id")?,
        area: area_from_row(r)?,
        title: r.text("title")?,
        period: r.text("period")?,
        synthetic: r.boolean("synthetic")?,
        created_by: word("roadmap creator", &r.text("created_by")?)?,
        created_at: r.ts("created_at")?,
    })
}

fn measure_from_row(r: &impl RowExt) -> Result<Measure> {
    Ok(Measure {
        id: r.i64("id")?,
        roadmap: r.i64("roadmap_id")?,
        area: area_from_row(r)?,
        kind: r.text("kind")?,
        description: r.text("description")?,
        owner: r.text("owner")?,
        deadline: r.ts("deadline")?,
        status: r.text("status")?,
        evidence_text: r.text("evidence_text")?,
        evidence_link: r.opt_text("evidence_link")?,
        completed_at: r.opt_ts("completed_at")?,
        done_by: r
            .opt_text("done_by")?
            .map(|a| word("measure's done_by", &a))
            .transpose()?,
        verified_by: r.opt_i64("verified_by")?.map(UserId),
        verified_at: r.opt_ts("verified_at")?,
        created_by: word("measure creator", &r.text("created_by")?)?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

/// The ids a roadmap row names for `area`: (level, region, district, mahalla).
fn area_columns(area: &Area) -> (&'static str, i64, Option<i64>, Option<i64>) {
    match *area {
        Area::Region { region } => ("region", region.0, None, None),
        Area::District { region, district } => ("district", region.0, Some(district.0), None),
        Area::Mahalla {
            region,
            district,
            mahalla,
        } => ("mahalla", region.0, Some(district.0), Some(mahalla.0)),
    }
}

fn refused(what: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid(DomainError::Invalid {
        what,
        reason: reason.into(),
    })
}

fn measure_json(m: &Measure) -> Value {
    json!({
        "kind": m.kind,
        "description": m.description,
        "owner": m.owner,
        "deadline": m.deadline,
        "status": m.status,
    })
}

/// Reading a measure inside a write transaction the caller holds.
trait MeasureConn {
    async fn measure(&mut self, id: i64) -> Result<Measure>;
}

macro_rules! impl_measure_conn {
    ($conn:ty) => {
        impl MeasureConn for $conn {
            async fn measure(&mut self, id: i64) -> Result<Measure> {
                sqlx::query(MEASURE_BY_ID)
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db("read the measure"))?
                    .as_ref()
                    .map(measure_from_row)
                    .transpose()?
                    .ok_or(Error::NotFound {
                        what: "measure",
                        id,
                    })
            }
        }
    };
}

impl_measure_conn!(SqliteConnection);
impl_measure_conn!(PgConnection);

impl Store {
    /// The area of a region, district or mahalla with the places above it; `None` when it does
    /// not exist (and for the national scope, which is no place).
    pub async fn area_of(&self, place: &Scope) -> Result<Option<Area>> {
        Ok(match *place {
            Scope::National => None,
            Scope::Region(region) => self
                .get_region(region)
                .await?
                .map(|_| Area::Region { region }),
            Scope::District(district) => {
                self.get_district(district).await?.map(|d| Area::District {
                    region: d.region,
                    district,
                })
            }
            Scope::Mahalla(m) => self.mahalla_area(m).await?,
        })
    }

    /// Stores a roadmap for a region, district or mahalla that exists, with an audit entry
    /// (`roadmap.create`).
    pub async fn create_roadmap(&self, n: &NewRoadmap, actor: &Actor) -> Result<Roadmap> {
        let area = match self.area_of(&n.place).await? {
            Some(a) => a,
            None if n.place == Scope::National => {
                return Err(refused(
                    "roadmap",
                    "a roadmap belongs to a region, district or mahalla, not to the whole country",
                ));
            }
            None => {
                return Err(Error::NotFound {
                    what: n.place.level(),
                    id: n.place.place_id().unwrap_or_default(),
                });
            }
        };
        let now = self.now();
        let by = actor.to_string();
        let (level, region, district, mahalla) = area_columns(&area);
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO roadmaps (level, region_id, district_id, mahalla_id, title, period, synthetic, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(level)
            .bind(region)
            .bind(district)
            .bind(mahalla)
            .bind(&n.title)
            .bind(&n.period)
            .bind(n.synthetic)
            .bind(&by)
            .bind(DbTs(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("store the roadmap"))?;
            tx.append_audit(
                now,
                &by,
                "roadmap.create",
                &format!("roadmap:{id}"),
                &json!({ "area": n.place.to_string(), "title": n.title, "period": n.period, "synthetic": n.synthetic }),
            )
            .await?;
            id
        });
        Ok(Roadmap {
            id,
            area,
            title: n.title.clone(),
            period: n.period.clone(),
            synthetic: n.synthetic,
            created_by: actor.clone(),
            created_at: now,
        })
    }

    pub async fn get_roadmap(&self, id: i64) -> Result<Option<Roadmap>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(select_roadmaps!("WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db("read a roadmap"))?
                .as_ref()
                .map(roadmap_from_row)
                .transpose()
        })
    }

    /// The roadmaps of `scope`'s place and every place inside it, by id.
    pub async fn list_roadmaps(&self, scope: &Scope) -> Result<Vec<Roadmap>> {
        fetch_scoped!(self, ROADMAPS, scope, [], "list roadmaps", roadmap_from_row)
    }

    /// The measures of every roadmap of `scope`'s place and the places inside it, by id.
    pub async fn list_measures(&self, scope: &Scope) -> Result<Vec<Measure>> {
        fetch_scoped!(self, MEASURES, scope, [], "list measures", measure_from_row)
    }

    /// One roadmap's measures, by id.
    pub async fn roadmap_measures(&self, roadmap: i64) -> Result<Vec<Measure>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(select_measures!("WHERE x.roadmap_id = $1 ORDER BY x.id"))
                .bind(roadmap)
                .fetch_all(pool)
                .await
                .map_err(db("list a roadmap's measures"))?
                .iter()
                .map(measure_from_row)
                .collect()
        })
    }

    pub async fn get_measure(&self, id: i64) -> Result<Option<Measure>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(MEASURE_BY_ID)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db("read a measure"))?
                .as_ref()
                .map(measure_from_row)
                .transpose()
        })
    }

    /// Adds a planned measure to a roadmap, with an audit entry (`measure.create`).
    pub async fn add_measure(
        &self,
        roadmap: i64,
        f: &MeasureFields,
        actor: &Actor,
    ) -> Result<Measure> {
        let now = self.now();
        let by = actor.to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO roadmap_measures (roadmap_id, kind, description, owner, deadline, status, \
                 evidence_text, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'planned', '', $6, $7, $7) RETURNING id",
            )
            .bind(roadmap)
            .bind(&f.kind)
            .bind(&f.description)
            .bind(&f.owner)
            .bind(DbTs(f.deadline))
            .bind(&by)
            .bind(DbTs(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("add the measure"))?;
            tx.append_audit(
                now,
                &by,
                "measure.create",
                &format!("measure:{id}"),
                &json!({ "roadmap": roadmap, "kind": f.kind, "description": f.description,
                         "owner": f.owner, "deadline": f.deadline }),
            )
            .await?;
            id
        });
        self.measure_or_gone(id).await
    }

    async fn measure_or_gone(&self, id: i64) -> Result<Measure> {
        self.get_measure(id).await?.ok_or(Error::NotFound {
            what: "measure",
            id,
        })
    }

    /// Replaces a measure's kind, description, owner and deadline, with an audit entry
    /// (`measure.update`) holding what it was and what it is.
    pub async fn edit_measure(&self, id: i64, f: &MeasureFields, actor: &Actor) -> Result<Measure> {
        let now = self.now();
        let by = actor.to_string();
        write_tx!(self, audit = true, |tx, _pg| {
            let before = tx.measure(id).await?;
            sqlx::query(
                "UPDATE roadmap_measures SET kind = $2, description = $3, owner = $4, deadline = $5, \
                 updated_at = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(&f.kind)
            .bind(&f.description)
            .bind(&f.owner)
            .bind(DbTs(f.deadline))
            .bind(DbTs(now))
            .execute(&mut *tx)
            .await
            .map_err(db("change the measure"))?;
            tx.append_audit(
                now,
                &by,
                "measure.update",
                &format!("measure:{id}"),
                &json!({
                    "before": measure_json(&before),
                    "after": { "kind": f.kind, "description": f.description, "owner": f.owner, "deadline": f.deadline },
                }),
            )
            .await?;
        });
        self.measure_or_gone(id).await
    }

    /// Moves a measure to another status, with an audit entry (`measure.status`). Done needs
    /// evidence (given now or already stored); it records who gave it and when, and any earlier
    /// verification lapses, since the evidence is new. Leaving done clears who did it, when, and
    /// the verification; the evidence text stays.
    pub async fn set_measure_status(
        &self,
        id: i64,
        c: &MeasureStatusChange,
        actor: &Actor,
    ) -> Result<Measure> {
        let now = self.now();
        let by = actor.to_string();
        write_tx!(self, audit = true, |tx, _pg| {
            let before = tx.measure(id).await?;
            let given = !c.evidence_text.trim().is_empty();
            let evidence = if given {
                c.evidence_text.clone()
            } else {
                before.evidence_text.clone()
            };
            let link = if given || c.evidence_link.is_some() {
                c.evidence_link.clone()
            } else {
                before.evidence_link.clone()
            };
            let done = c.to == "done";
            if done && evidence.trim().is_empty() {
                return Err(refused(
                    "measure status",
                    "a measure is done only with evidence of completion; describe it (a document, \
                     a record, a photo reference) in evidence_text",
                ));
            }
            let (completed_at, done_by) = match (done, before.status == "done") {
                (true, true) => (before.completed_at, Some(by.clone())),
                (true, false) => (Some(now), Some(by.clone())),
                (false, _) => (None, None),
            };
            sqlx::query(
                "UPDATE roadmap_measures SET status = $2, evidence_text = $3, evidence_link = $4, \
                 completed_at = $5, done_by = $6, verified_by = NULL, verified_at = NULL, updated_at = $7 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&c.to)
            .bind(&evidence)
            .bind(&link)
            .bind(completed_at.map(DbTs))
            .bind(&done_by)
            .bind(DbTs(now))
            .execute(&mut *tx)
            .await
            .map_err(db("change the measure's status"))?;
            tx.append_audit(
                now,
                &by,
                "measure.status",
                &format!("measure:{id}"),
                &json!({
                    "from": before.status,
                    "to": c.to,
                    "evidence_text": evidence,
                    "evidence_link": link,
                    "was_verified_by": before.verified_by.map(|u| u.0),
                    "note": c.note,
                }),
            )
            .await?;
        });
        self.measure_or_gone(id).await
    }

    /// Records that `verifier` checked a done measure's evidence, with an audit entry
    /// (`measure.verify`). The person who marked it done cannot verify it; a measure already
    /// verified, or not done, is a conflict.
    pub async fn verify_measure(&self, id: i64, verifier: UserId, note: &str) -> Result<Measure> {
        let now = self.now();
        let by = Actor::User(verifier).to_string();
        write_tx!(self, audit = true, |tx, _pg| {
            let m = tx.measure(id).await?;
            if m.status != "done" {
                return Err(Error::Conflict {
                    op: "verify the measure",
                    message: format!(
                        "it is {}; only a done measure's evidence can be verified",
                        m.status
                    ),
                });
            }
            if let Some(u) = m.verified_by {
                return Err(Error::Conflict {
                    op: "verify the measure",
                    message: format!("user {u} already verified its evidence"),
                });
            }
            if m.done_by.as_ref() == Some(&Actor::User(verifier)) {
                return Err(refused(
                    "verification",
                    "the person who marked the measure done cannot verify its evidence; a second \
                     person must",
                ));
            }
            sqlx::query(
                "UPDATE roadmap_measures SET verified_by = $2, verified_at = $3, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(verifier.0)
            .bind(DbTs(now))
            .execute(&mut *tx)
            .await
            .map_err(db("verify the measure"))?;
            tx.append_audit(
                now,
                &by,
                "measure.verify",
                &format!("measure:{id}"),
                &json!({ "evidence_text": m.evidence_text, "evidence_link": m.evidence_link,
                         "done_by": m.done_by.map(|a| a.to_string()), "note": note }),
            )
            .await?;
        });
        self.measure_or_gone(id).await
    }
}
