//! What retention needs besides [`Store::delete_expired_events`].
use domain::{CameraId, Event, EventId, Timestamp};

use crate::Store;
use crate::codec::{DbTs, RowExt};
use crate::error::{Result, db};

impl Store {
    /// The events of `camera` that happened from `from` to `to` (inclusive), by id. Retention
    /// asks this before deleting an evidence file: events of one frame share the frame's image,
    /// and a file that an event still stored names must stay.
    pub async fn camera_events_between(
        &self,
        camera: CameraId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Event>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, camera_id, rule, at, payload, received_at FROM events \
                 WHERE camera_id = $1 AND at >= $2 AND at <= $3 ORDER BY id",
            )
            .bind(camera.0)
            .bind(DbTs(from))
            .bind(DbTs(to))
            .fetch_all(pool)
            .await
            .map_err(db("list a camera's events"))?
            .iter()
            .map(|r| {
                Ok(Event {
                    id: EventId(r.i64("id")?),
                    camera: CameraId(r.i64("camera_id")?),
                    rule: r.text("rule")?,
                    at: r.ts("at")?,
                    payload: r.json("payload")?,
                    received_at: r.ts("received_at")?,
                })
            })
            .collect()
        })
    }
}
