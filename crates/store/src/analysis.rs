//! Reads for the safety analytics (docs/design/017-analytics-views.md): the incidents of a
//! period within a scope, as only the fields the statistics use (time, place, category, source,
//! point; never narrative, people or assignee), and a bulk insert for synthetic demo incidents.
use domain::{Actor, Category, GeoPoint, IncidentId, MahallaId, NewIncident, Scope, Source, Timestamp};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, point, word};
use crate::error::{Error, Result, db};

/// An incident as the analytics see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentFact {
    pub id: IncidentId,
    pub occurred_at: Timestamp,
    pub mahalla: MahallaId,
    pub category: Category,
    pub source: Source,
    pub point: Option<GeoPoint>,
}

/// `SELECT <fact columns> FROM incidents i <join and where> occurred_at in [$1, $2) ... LIMIT $3`;
/// `$4` is the scope's place (none for the national scope).
macro_rules! facts_in_scope {
    ($join_and_where:literal) => {
        concat!(
            "SELECT i.id, i.occurred_at, i.mahalla_id, i.category, i.source, i.lon, i.lat FROM incidents i ",
            $join_and_where,
            "i.occurred_at >= $1 AND i.occurred_at < $2 ORDER BY i.occurred_at, i.id LIMIT $3"
        )
    };
}

const FACTS_NATIONAL: &str = facts_in_scope!("WHERE ");
const FACTS_REGION: &str = facts_in_scope!(
    "JOIN mahallas m ON m.id = i.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $4 AND "
);
const FACTS_DISTRICT: &str =
    facts_in_scope!("JOIN mahallas m ON m.id = i.mahalla_id WHERE m.district_id = $4 AND ");
const FACTS_MAHALLA: &str = facts_in_scope!("WHERE i.mahalla_id = $4 AND ");

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
        let sql = match scope {
            Scope::National => FACTS_NATIONAL,
            Scope::Region(_) => FACTS_REGION,
            Scope::District(_) => FACTS_DISTRICT,
            Scope::Mahalla(_) => FACTS_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql)
                .bind(DbTs(from))
                .bind(DbTs(to))
                .bind(i64::from(limit));
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("read incidents for analysis"))?
                .iter()
                .map(|r| {
                    Ok(IncidentFact {
                        id: IncidentId(r.i64("id")?),
                        occurred_at: r.ts("occurred_at")?,
                        mahalla: MahallaId(r.i64("mahalla_id")?),
                        category: word("incident category", &r.text("category")?)?,
                        source: word("incident source", &r.text("source")?)?,
                        point: point(r)?,
                    })
                })
                .collect()
        })
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
            let mut ids = Vec::with_capacity(rows.len());
            for n in rows {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (category, source, status, occurred_at, reported_at, mahalla_id, lon, lat, \
                     affected_minor, affected_youth, affected_woman, narrative, created_by, updated_at) \
                     VALUES ($1, $2, 'new', $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                )
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
                .bind(&created_by)
                .bind(DbTs(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(db("import an incident"))?;
                sqlx::query(
                    "INSERT INTO incident_history (incident_id, from_status, to_status, assignee_id, actor, note, at) \
                     VALUES ($1, NULL, 'new', NULL, $2, '', $3)",
                )
                .bind(id)
                .bind(&created_by)
                .bind(DbTs(now))
                .execute(&mut *tx)
                .await
                .map_err(db("record an imported incident's history"))?;
                ids.push(IncidentId(id));
            }
            tx.append_audit(
                now,
                &created_by,
                "incidents.import",
                "incidents",
                &json!({
                    "source": source,
                    "count": ids.len(),
                    "first_id": ids.first().map(|i| i.0),
                    "last_id": ids.last().map(|i| i.0),
                }),
            )
            .await?;
            ids
        });
        Ok(ids)
    }
}
