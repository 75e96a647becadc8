//! Reads for the safety analytics (docs/design/017-analytics-views.md): the incidents of a
//! period within a scope, as only the fields the statistics use (time, place, category, source,
//! point; never narrative, people or assignee), and a bulk insert for synthetic demo incidents.
use domain::{
    Actor, Affected, Category, GeoPoint, IncidentId, MahallaId, NewIncident, Scope, Source,
    Timestamp,
};
use serde_json::json;
use sqlx::{PgConnection, SqliteConnection};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, point, word};
use crate::error::{Error, Result, db};
use crate::patrols::{fetch_scoped, per_level};

/// An incident as the analytics see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentFact {
    pub id: IncidentId,
    pub occurred_at: Timestamp,
    pub mahalla: MahallaId,
    pub category: Category,
    pub source: Source,
    pub point: Option<GeoPoint>,
    /// The aggregate flags of who was affected (counts in reports; never anyone's name).
    pub affected: Affected,
}

/// The incident facts per level of a scope: occurred in `[$1, $2)`, oldest first, at most `$3`;
/// `$4` is the scope's place (none for the national scope).
const FACTS: [&str; 4] = per_level!(
    "SELECT i.id, i.occurred_at, i.mahalla_id, i.category, i.source, i.lon, i.lat, \
     i.affected_minor, i.affected_youth, i.affected_woman FROM incidents i",
    "i.mahalla_id",
    "$4",
    "i.occurred_at >= $1 AND i.occurred_at < $2 ",
    "ORDER BY i.occurred_at, i.id LIMIT $3"
);

impl Store {
    /// The incidents within `scope` that occurred in `[from, to)`, oldest first, at most `limit`
    /// (the caller asks for one more than it accepts, to tell a full answer from a cut one).
    pub async fn incident_facts(
        &self,
        scope: &Scope,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<IncidentFact>> {
        fetch_scoped!(
            self,
            FACTS,
            scope,
            [DbTs(from), DbTs(to), i64::from(limit)],
            "read incidents for analysis",
            |r| {
                Ok(IncidentFact {
                    id: IncidentId(r.i64("id")?),
                    occurred_at: r.ts("occurred_at")?,
                    mahalla: MahallaId(r.i64("mahalla_id")?),
                    category: word("incident category", &r.text("category")?)?,
                    source: word("incident source", &r.text("source")?)?,
                    point: point(r)?,
                    affected: Affected {
                        minor: r.boolean("affected_minor")?,
                        youth: r.boolean("affected_youth")?,
                        woman: r.boolean("affected_woman")?,
                    },
                })
            }
        )
    }

    /// How many incidents `actor` recorded (e.g. whether the demo's synthetic incidents are
    /// there already).
    pub async fn count_incidents_created_by(&self, actor: &Actor) -> Result<i64> {
        with_pool!(self, |pool, _pg| {
            sqlx::query_scalar("SELECT COUNT(*) FROM incidents WHERE created_by = $1")
                .bind(actor.to_string())
                .fetch_one(pool)
                .await
                .map_err(db("count incidents by their creator"))
        })
    }

    /// Records many incidents (status `new`, each with its first history row) in one transaction
    /// with one audit entry, `incidents.import`, whose details are `source` and the count and id
    /// range: what the demo's synthetic incidents are seeded with, where one audit entry per
    /// generated record would only bury the real ones. Camera incidents are refused (they come
    /// only from confirmed events). All rows or none.
    pub async fn import_incidents(
        &self,
        actor: &Actor,
        source: &serde_json::Value,
        rows: &[NewIncident],
    ) -> Result<Vec<IncidentId>> {
        for (i, n) in rows.iter().enumerate() {
            let row_err = |e: Error| Error::Row {
                what: "incident",
                index: i,
                error: Box::new(e),
            };
            n.validate().map_err(|e| row_err(e.into()))?;
            if n.source == Source::Camera {
                return Err(row_err(Error::Invalid(domain::DomainError::Invalid {
                    what: "incident",
                    reason: "camera incidents come only from confirmed events; import public, \
                             patrol or inspector incidents"
                        .into(),
                })));
            }
        }
        let now = self.now();
        let created_by = actor.to_string();
        let ids = write_tx!(self, audit = true, |tx, _pg| {
            let mut ids = tx.insert_new_incidents(rows, &created_by, now).await?;
            ids.sort_unstable();
            tx.append_audit(
                now,
                &created_by,
                "incidents.import",
                "incidents",
                &json!({
                    "source": source,
                    "count": ids.len(),
                    "first_id": ids.first(),
                    "last_id": ids.last(),
                }),
            )
            .await?;
            ids
        });
        Ok(ids.into_iter().map(IncidentId).collect())
    }
}

/// `INSERT INTO incidents (<the columns of a new incident>) <rest>`.
macro_rules! insert_new_incidents {
    ($rest:literal) => {
        concat!(
            "INSERT INTO incidents (category, source, status, occurred_at, reported_at, mahalla_id, lon, lat, ",
            "affected_minor, affected_youth, affected_woman, narrative, created_by, updated_at) ",
            $rest
        )
    };
}

/// The first history row (status `new`, by `$2` at `$3`) of each incident id `$id` of `$from`.
macro_rules! first_history_rows {
    ($id:literal, $from:literal) => {
        concat!(
            "INSERT INTO incident_history (incident_id, from_status, to_status, assignee_id, actor, note, at) SELECT ",
            $id,
            ", NULL, 'new', NULL, $2, '', $3 ",
            $from
        )
    };
}

/// Many new incidents (status `new`) and their first history rows, inside a write transaction the
/// caller holds; returns their ids (in no particular order). SQLite: one statement per row (fast
/// in-process); PostgreSQL: one statement for all rows over arrays, since a round trip per row
/// made a few thousand rows take seconds.
trait BulkIncidentConn {
    async fn insert_new_incidents(
        &mut self,
        rows: &[NewIncident],
        created_by: &str,
        now: Timestamp,
    ) -> Result<Vec<i64>>;
}

impl BulkIncidentConn for SqliteConnection {
    async fn insert_new_incidents(
        &mut self,
        rows: &[NewIncident],
        created_by: &str,
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for n in rows {
            let id: i64 = sqlx::query_scalar(insert_new_incidents!(
                "VALUES ($1, $2, 'new', $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"
            ))
            .bind(n.category.as_str())
            .bind(n.source.as_str())
            .bind(DbTs(n.occurred_at))
            .bind(n.mahalla.0)
            .bind(n.point.map(|p| p.lon))
            .bind(n.point.map(|p| p.lat))
            .bind(n.affected.minor)
            .bind(n.affected.youth)
            .bind(n.affected.woman)
            .bind(&n.narrative)
            .bind(created_by)
            .bind(DbTs(now))
            .fetch_one(&mut *self)
            .await
            .map_err(db("import an incident"))?;
            ids.push(id);
        }
        sqlx::query(first_history_rows!("value", "FROM json_each($1)"))
            .bind(serde_json::Value::from(ids.clone()).to_string())
            .bind(created_by)
            .bind(DbTs(now))
            .execute(&mut *self)
            .await
            .map_err(db("record the imported incidents' history"))?;
        Ok(ids)
    }
}

impl BulkIncidentConn for PgConnection {
    async fn insert_new_incidents(
        &mut self,
        rows: &[NewIncident],
        created_by: &str,
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let col = |f: fn(&NewIncident) -> String| rows.iter().map(f).collect::<Vec<_>>();
        let times: Vec<_> = rows
            .iter()
            .map(|n| n.occurred_at.to_offset_date_time())
            .collect();
        let ids: Vec<i64> = sqlx::query_scalar(
            insert_new_incidents!(
                "SELECT c, s, 'new', t, t, m, lo, la, a1, a2, a3, n, $11, $12 \
             FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::float8[], $6::float8[], \
                         $7::bool[], $8::bool[], $9::bool[], $10::text[]) AS u(c, s, t, m, lo, la, a1, a2, a3, n) \
             RETURNING id"
            ),
        )
        .bind(col(|n| n.category.as_str().to_owned()))
        .bind(col(|n| n.source.as_str().to_owned()))
        .bind(times)
        .bind(rows.iter().map(|n| n.mahalla.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.point.map(|p| p.lon)).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.point.map(|p| p.lat)).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.affected.minor).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.affected.youth).collect::<Vec<_>>())
        .bind(rows.iter().map(|n| n.affected.woman).collect::<Vec<_>>())
        .bind(col(|n| n.narrative.clone()))
        .bind(created_by)
        .bind(DbTs(now))
        .fetch_all(&mut *self)
        .await
        .map_err(db("import incidents"))?;
        sqlx::query(first_history_rows!(
            "id",
            "FROM UNNEST($1::bigint[]) AS u(id)"
        ))
        .bind(&ids)
        .bind(created_by)
        .bind(DbTs(now))
        .execute(&mut *self)
        .await
        .map_err(db("record the imported incidents' history"))?;
        Ok(ids)
    }
}
