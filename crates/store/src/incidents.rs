//! Incidents and their status history. Every change writes a history row and an audit entry in
//! the same transaction as the change.
use domain::{
    Actor, Affected, Category, DomainError, EventId, Incident, IncidentId, MahallaId, NewIncident,
    Scope, Source, Status, StatusChange, Timestamp, UserId,
};
use serde_json::json;
use sqlx::{PgConnection, SqliteConnection};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, point, word};
use crate::error::{Error, Result, db};

/// `SELECT <every incident column> FROM incidents i <rest>`, as one literal.
macro_rules! select_incidents {
    ($($rest:tt)*) => {
        concat!(
            "SELECT i.id, i.category, i.source, i.status, i.occurred_at, i.reported_at, i.mahalla_id, ",
            "i.lon, i.lat, i.affected_minor, i.affected_youth, i.affected_woman, i.narrative, ",
            "i.assignee_id, i.event_id, i.created_by, i.updated_at FROM incidents i ",
            $($rest)*
        )
    };
}

/// Newest first, keyset-paged: `$1` is the id to start below (NULL for the newest), `$2` the
/// limit, `$3` the scope's place.
macro_rules! list_in_scope {
    ($join_and_where:literal) => {
        select_incidents!(
            $join_and_where,
            "($1 IS NULL OR i.id < $1) ORDER BY i.id DESC LIMIT $2"
        )
    };
}

const LIST_NATIONAL: &str = list_in_scope!("WHERE ");
const LIST_REGION: &str = list_in_scope!(
    "JOIN mahallas m ON m.id = i.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $3 AND "
);
const LIST_DISTRICT: &str =
    list_in_scope!("JOIN mahallas m ON m.id = i.mahalla_id WHERE m.district_id = $3 AND ");
const LIST_MAHALLA: &str = list_in_scope!("WHERE i.mahalla_id = $3 AND ");

/// A change of an incident's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub to: Status,
    /// Who works the incident from now on. Needed to go to `assigned` or `in_progress` unless
    /// someone already does; going back to `new` clears it; a closed incident keeps it.
    pub assignee: Option<UserId>,
    /// Why, in the actor's words; kept in the history.
    pub note: String,
}

/// Recording an incident inside a write transaction the caller holds (opened with
/// `write_tx!(.., audit = true, ..)`): the incident (status `new`), its first history row and its
/// audit entry. `reported_at` is when it became known (for a citizen's report, when it was sent);
/// `now` stamps the rest.
pub(crate) trait IncidentConn {
    async fn insert_incident(
        &mut self,
        n: &NewIncident,
        created_by: &str,
        reported_at: Timestamp,
        now: Timestamp,
    ) -> Result<i64>;
}

macro_rules! impl_incident_conn {
    ($conn:ty) => {
        impl IncidentConn for $conn {
            async fn insert_incident(
                &mut self,
                n: &NewIncident,
                created_by: &str,
                reported_at: Timestamp,
                now: Timestamp,
            ) -> Result<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (category, source, status, occurred_at, reported_at, mahalla_id, lon, lat, \
                     affected_minor, affected_youth, affected_woman, narrative, assignee_id, event_id, created_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                )
                .bind(n.category.as_str())
                .bind(n.source.as_str())
                .bind(Status::New.as_str())
                .bind(DbTs(n.occurred_at))
                .bind(DbTs(reported_at))
                .bind(n.mahalla.0)
                .bind(n.point.map(|p| p.lon))
                .bind(n.point.map(|p| p.lat))
                .bind(n.affected.minor)
                .bind(n.affected.youth)
                .bind(n.affected.woman)
                .bind(&n.narrative)
                .bind(None::<i64>)
                .bind(n.event.map(|e| e.0))
                .bind(created_by)
                .bind(DbTs(now))
                .fetch_one(&mut *self)
                .await
                .map_err(db("record the incident"))?;
                sqlx::query(
                    "INSERT INTO incident_history (incident_id, from_status, to_status, assignee_id, actor, note, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(None::<&str>)
                .bind(Status::New.as_str())
                .bind(None::<i64>)
                .bind(created_by)
                .bind("")
                .bind(DbTs(now))
                .execute(&mut *self)
                .await
                .map_err(db("record the incident's history"))?;
                self.append_audit(
                    now,
                    created_by,
                    "incident.create",
                    &format!("incident:{id}"),
                    &json!({
                        "category": n.category.as_str(),
                        "source": n.source.as_str(),
                        "mahalla": n.mahalla.0,
                        "event": n.event.map(|e| e.0),
                    }),
                )
                .await?;
                Ok(id)
            }
        }
    };
}

impl_incident_conn!(SqliteConnection);
impl_incident_conn!(PgConnection);

impl Store {
    /// Records a new incident (status `new`) with its first history row and an audit entry. A
    /// camera incident must name an event that a reviewer has confirmed: a machine's alert alone
    /// never becomes an incident.
    pub async fn create_incident(&self, n: &NewIncident, actor: &Actor) -> Result<Incident> {
        n.validate()?;
        let now = self.now();
        let created_by = actor.to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            if let Some(ev) = n.event {
                let verdict: Option<String> =
                    sqlx::query_scalar("SELECT verdict FROM reviews WHERE event_id = $1")
                        .bind(ev.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db("read the event's verdict"))?;
                if verdict.as_deref() != Some("confirm") {
                    return Err(Error::Invalid(DomainError::Invalid {
                        what: "incident",
                        reason: format!(
                            "event {ev} has not been confirmed by a reviewer (its verdict: {})",
                            verdict.as_deref().unwrap_or("none yet")
                        ),
                    }));
                }
            }
            tx.insert_incident(n, &created_by, now, now).await?
        });
        Ok(Incident {
            id: IncidentId(id),
            category: n.category,
            source: n.source,
            status: Status::New,
            occurred_at: n.occurred_at,
            reported_at: now,
            mahalla: n.mahalla,
            point: n.point,
            affected: n.affected,
            narrative: n.narrative.clone(),
            assignee: None,
            event: n.event,
            created_by: actor.clone(),
            updated_at: now,
        })
    }

    pub async fn get_incident(&self, id: IncidentId) -> Result<Option<Incident>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_incidents!("WHERE i.id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read an incident"))?;
            row.as_ref().map(incident_from_row).transpose()
        })
    }

    /// Incidents within `scope`, newest first: up to `limit` with ids below `before` (from the
    /// newest with `None`). Page on by passing the last id returned.
    pub async fn list_incidents(
        &self,
        scope: &Scope,
        before: Option<IncidentId>,
        limit: u32,
    ) -> Result<Vec<Incident>> {
        let sql = match scope {
            Scope::National => LIST_NATIONAL,
            Scope::Region(_) => LIST_REGION,
            Scope::District(_) => LIST_DISTRICT,
            Scope::Mahalla(_) => LIST_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql)
                .bind(before.map(|b| b.0))
                .bind(i64::from(limit));
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list incidents"))?
                .iter()
                .map(incident_from_row)
                .collect()
        })
    }

    /// Moves an incident to another status, if its life cycle allows (see
    /// [`domain::Status::next`]), with a history row and an audit entry, and returns it as it now
    /// is.
    pub async fn update_incident_status(
        &self,
        id: IncidentId,
        u: &StatusUpdate,
        actor: &Actor,
    ) -> Result<Incident> {
        if u.note.chars().count() > 2_000 {
            return Err(DomainError::Invalid {
                what: "status note",
                reason: "is longer than 2000 characters".into(),
            }
            .into());
        }
        let now = self.now();
        let actor_s = actor.to_string();
        let incident = write_tx!(self, audit = true, |tx, pg| {
            let current = sqlx::query(if pg {
                "SELECT status, assignee_id FROM incidents WHERE id = $1 FOR UPDATE"
            } else {
                "SELECT status, assignee_id FROM incidents WHERE id = $1"
            })
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("read the incident"))?
            .ok_or(Error::NotFound {
                what: "incident",
                id: id.0,
            })?;
            let from: Status = word("incident status", &current.text("status")?)?;
            let to = from.transition(u.to)?;
            let assignee = match to {
                Status::New => None,
                _ => u.assignee.map(|a| a.0).or(current.opt_i64("assignee_id")?),
            };
            if to.needs_assignee() && assignee.is_none() {
                return Err(DomainError::Invalid {
                    what: "status change",
                    reason: format!("an incident that is {to} needs an assignee"),
                }
                .into());
            }
            sqlx::query(
                "UPDATE incidents SET status = $2, assignee_id = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(id.0)
            .bind(to.as_str())
            .bind(assignee)
            .bind(DbTs(now))
            .execute(&mut *tx)
            .await
            .map_err(db("change the incident's status"))?;
            sqlx::query(
                "INSERT INTO incident_history (incident_id, from_status, to_status, assignee_id, actor, note, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id.0)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(assignee)
            .bind(&actor_s)
            .bind(&u.note)
            .bind(DbTs(now))
            .execute(&mut *tx)
            .await
            .map_err(db("record the incident's history"))?;
            tx.append_audit(
                now,
                &actor_s,
                "incident.status",
                &format!("incident:{id}"),
                &json!({
                    "from": from.as_str(),
                    "to": to.as_str(),
                    "assignee": assignee,
                    "note": u.note,
                }),
            )
            .await?;
            let row = sqlx::query(select_incidents!("WHERE i.id = $1"))
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("read the incident back"))?;
            incident_from_row(&row)?
        });
        Ok(incident)
    }

    /// An incident's status history, oldest first; the first row records its creation.
    pub async fn incident_history(&self, id: IncidentId) -> Result<Vec<StatusChange>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT incident_id, from_status, to_status, assignee_id, actor, note, at \
                 FROM incident_history WHERE incident_id = $1 ORDER BY id",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await
            .map_err(db("read an incident's history"))?
            .iter()
            .map(|r| {
                Ok(StatusChange {
                    incident: IncidentId(r.i64("incident_id")?),
                    from: r
                        .opt_text("from_status")?
                        .map(|s| word("incident status", &s))
                        .transpose()?,
                    to: word("incident status", &r.text("to_status")?)?,
                    assignee: r.opt_i64("assignee_id")?.map(UserId),
                    actor: word("actor", &r.text("actor")?)?,
                    note: r.text("note")?,
                    at: r.ts("at")?,
                })
            })
            .collect()
        })
    }
}

fn incident_from_row(r: &impl RowExt) -> Result<Incident> {
    Ok(Incident {
        id: IncidentId(r.i64("id")?),
        category: word::<Category>("incident category", &r.text("category")?)?,
        source: word::<Source>("incident source", &r.text("source")?)?,
        status: word::<Status>("incident status", &r.text("status")?)?,
        occurred_at: r.ts("occurred_at")?,
        reported_at: r.ts("reported_at")?,
        mahalla: MahallaId(r.i64("mahalla_id")?),
        point: point(r)?,
        affected: Affected {
            minor: r.boolean("affected_minor")?,
            youth: r.boolean("affected_youth")?,
            woman: r.boolean("affected_woman")?,
        },
        narrative: r.text("narrative")?,
        assignee: r.opt_i64("assignee_id")?.map(UserId),
        event: r.opt_i64("event_id")?.map(EventId),
        created_by: word::<Actor>("incident creator", &r.text("created_by")?)?,
        updated_at: r.ts("updated_at")?,
    })
}
