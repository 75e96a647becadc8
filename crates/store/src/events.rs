//! Cameras, the events the pipeline reports from them, reviewers' verdicts, and retention.
use domain::{
    Actor, Camera, CameraId, Event, EventId, NewCamera, NewEvent, NewReview, Review, ReviewId,
    Scope, UserId, Verdict,
};
use serde_json::json;
use sqlx::types::Json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt};
use crate::error::{Error, Result, db};

/// `SELECT <every event column> FROM events e <rest>`, as one literal.
macro_rules! select_events {
    ($($rest:tt)*) => {
        concat!(
            "SELECT e.id, e.camera_id, e.rule, e.at, e.payload, e.received_at FROM events e ",
            $($rest)*
        )
    };
}

/// The review queue, oldest first: events without a verdict, within a scope. `$1` is the limit,
/// `$2` the scope's place.
macro_rules! pending {
    ($join:literal, $scope:literal) => {
        select_events!(concat!(
            "JOIN cameras c ON c.id = e.camera_id ",
            $join,
            "WHERE NOT EXISTS (SELECT 1 FROM reviews r WHERE r.event_id = e.id) ",
            $scope,
            "ORDER BY e.at, e.id LIMIT $1"
        ))
    };
}

const PENDING_NATIONAL: &str = pending!("", "");
const PENDING_REGION: &str = pending!(
    "JOIN mahallas m ON m.id = c.mahalla_id JOIN districts d ON d.id = m.district_id ",
    "AND d.region_id = $2 "
);
const PENDING_DISTRICT: &str = pending!(
    "JOIN mahallas m ON m.id = c.mahalla_id ",
    "AND m.district_id = $2 "
);
const PENDING_MAHALLA: &str = pending!("", "AND c.mahalla_id = $2 ");

impl Store {
    pub async fn create_camera(&self, c: &NewCamera) -> Result<Camera> {
        c.validate()?;
        let created_at = self.now();
        let id: i64 = with_pool!(self, |pool, _pg| {
            sqlx::query_scalar(
                "INSERT INTO cameras (name, url, mahalla_id, config_toml, lon, lat, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&c.name)
            .bind(&c.url)
            .bind(c.mahalla.0)
            .bind(&c.config_toml)
            .bind(c.position.map(|p| p.lon))
            .bind(c.position.map(|p| p.lat))
            .bind(DbTs(created_at))
            .fetch_one(pool)
            .await
            .map_err(db("register the camera"))?
        });
        Ok(Camera {
            id: CameraId(id),
            name: c.name.clone(),
            url: c.url.clone(),
            mahalla: c.mahalla,
            config_toml: c.config_toml.clone(),
            position: c.position,
            created_at,
            enabled: true,
        })
    }

    pub async fn get_camera(&self, id: CameraId) -> Result<Option<Camera>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT id, name, url, mahalla_id, config_toml, lon, lat, created_at, enabled FROM cameras WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a camera"))?;
            row.as_ref()
                .map(crate::cameras::camera_from_row)
                .transpose()
        })
    }

    /// Stores an event from the pipeline; it then waits in the review queue.
    pub async fn insert_event(&self, e: &NewEvent) -> Result<Event> {
        e.validate()?;
        let received_at = self.now();
        let id: i64 = with_pool!(self, |pool, _pg| {
            sqlx::query_scalar(
                "INSERT INTO events (camera_id, rule, at, payload, received_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(e.camera.0)
            .bind(&e.rule)
            .bind(DbTs(e.at))
            .bind(Json(&e.payload))
            .bind(DbTs(received_at))
            .fetch_one(pool)
            .await
            .map_err(db("store the event"))?
        });
        Ok(Event {
            id: EventId(id),
            camera: e.camera,
            rule: e.rule.clone(),
            at: e.at,
            payload: e.payload.clone(),
            received_at,
        })
    }

    pub async fn get_event(&self, id: EventId) -> Result<Option<Event>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_events!("WHERE e.id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read an event"))?;
            row.as_ref().map(event_from_row).transpose()
        })
    }

    /// The review queue within `scope`: up to `limit` events that have no verdict yet, oldest
    /// first.
    pub async fn list_pending_events(&self, scope: &Scope, limit: u32) -> Result<Vec<Event>> {
        let sql = match scope {
            Scope::National => PENDING_NATIONAL,
            Scope::Region(_) => PENDING_REGION,
            Scope::District(_) => PENDING_DISTRICT,
            Scope::Mahalla(_) => PENDING_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql).bind(i64::from(limit));
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list events awaiting review"))?
                .iter()
                .map(event_from_row)
                .collect()
        })
    }

    /// Records a reviewer's verdict on an event, and audits it, in one transaction. An event has
    /// one verdict: a second is a [`Error::Conflict`].
    pub async fn review_event(&self, r: &NewReview) -> Result<Review> {
        r.validate()?;
        let reviewed_at = self.now();
        let (camera, rule, event_at, id) = write_tx!(self, audit = true, |tx, _pg| {
            let ev = sqlx::query("SELECT camera_id, rule, at FROM events WHERE id = $1")
                .bind(r.event.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read the event under review"))?
                .ok_or(Error::NotFound {
                    what: "event",
                    id: r.event.0,
                })?;
            let (camera, rule, event_at) = (ev.i64("camera_id")?, ev.text("rule")?, ev.ts("at")?);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reviews (event_id, camera_id, rule, event_at, verdict, reason, note, reviewer_id, reviewed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(r.event.0)
            .bind(camera)
            .bind(&rule)
            .bind(DbTs(event_at))
            .bind(r.verdict.as_str())
            .bind(r.verdict.reason().map(|x| x.as_str()))
            .bind(&r.note)
            .bind(r.reviewer.0)
            .bind(DbTs(reviewed_at))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("record the verdict"))?;
            tx.append_audit(
                reviewed_at,
                &Actor::User(r.reviewer).to_string(),
                "event.review",
                &format!("event:{}", r.event),
                &json!({
                    "review": id,
                    "verdict": r.verdict.as_str(),
                    "reason": r.verdict.reason().map(|x| x.as_str()),
                    "rule": rule,
                    "camera": camera,
                }),
            )
            .await?;
            (camera, rule, event_at, id)
        });
        Ok(Review {
            id: ReviewId(id),
            event: Some(r.event),
            camera: CameraId(camera),
            rule,
            event_at,
            verdict: r.verdict,
            note: r.note.clone(),
            reviewer: r.reviewer,
            reviewed_at,
        })
    }

    /// The verdict on an event, if it has one.
    pub async fn get_review(&self, event: EventId) -> Result<Option<Review>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT id, event_id, camera_id, rule, event_at, verdict, reason, note, reviewer_id, reviewed_at \
                 FROM reviews WHERE event_id = $1",
            )
            .bind(event.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read a verdict"))?;
            row.as_ref().map(review_from_row).transpose()
        })
    }

    /// Retention: deletes up to `limit` events that happened more than `retention_days` days ago
    /// and that no incident names, and returns them, so that the caller can delete the evidence
    /// files their payloads name. In the same transaction it appends one audit entry, by `actor`,
    /// listing the deleted events' ids; nothing is deleted unlogged. Verdicts on deleted events
    /// are kept, without the event. Call until it returns fewer than `limit`.
    pub async fn delete_expired_events(
        &self,
        retention_days: u32,
        limit: u32,
        actor: &Actor,
    ) -> Result<Vec<Event>> {
        let now = self.now();
        let cutoff = now.minus_days(retention_days);
        let mut deleted: Vec<Event> = write_tx!(self, audit = true, |tx, _pg| {
            let deleted = sqlx::query(
                "DELETE FROM events WHERE id IN (\
                     SELECT e.id FROM events e WHERE e.at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.event_id = e.id) \
                     ORDER BY e.id LIMIT $2) \
                 RETURNING id, camera_id, rule, at, payload, received_at",
            )
            .bind(DbTs(cutoff))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db("delete expired events"))?
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<Event>>>()?;
            if !deleted.is_empty() {
                let mut ids: Vec<i64> = deleted.iter().map(|e| e.id.0).collect();
                ids.sort_unstable();
                tx.append_audit(
                    now,
                    &actor.to_string(),
                    "retention.delete_events",
                    "events",
                    &json!({
                        "retention_days": retention_days,
                        "cutoff": cutoff.to_string(),
                        "count": ids.len(),
                        "event_ids": ids,
                    }),
                )
                .await?;
            }
            deleted
        });
        deleted.sort_by_key(|e| e.id);
        if !deleted.is_empty() {
            tracing::info!(count = deleted.len(), %cutoff, "retention deleted events");
        }
        Ok(deleted)
    }
}

fn event_from_row(r: &impl RowExt) -> Result<Event> {
    Ok(Event {
        id: EventId(r.i64("id")?),
        camera: CameraId(r.i64("camera_id")?),
        rule: r.text("rule")?,
        at: r.ts("at")?,
        payload: r.json("payload")?,
        received_at: r.ts("received_at")?,
    })
}

fn review_from_row(r: &impl RowExt) -> Result<Review> {
    let reason = r.opt_text("reason")?;
    let verdict = Verdict::from_parts(&r.text("verdict")?, reason.as_deref())
        .map_err(crate::error::corrupt("verdict"))?;
    Ok(Review {
        id: ReviewId(r.i64("id")?),
        event: r.opt_i64("event_id")?.map(EventId),
        camera: CameraId(r.i64("camera_id")?),
        rule: r.text("rule")?,
        event_at: r.ts("event_at")?,
        verdict,
        note: r.text("note")?,
        reviewer: UserId(r.i64("reviewer_id")?),
        reviewed_at: r.ts("reviewed_at")?,
    })
}
