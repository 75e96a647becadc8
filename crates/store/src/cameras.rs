//! Cameras: registering, listing by scope, editing, switching on and off (each audited in the
//! same transaction as the change), their workers' health, and the verdict counts behind
//! per-rule and per-camera precision.
use domain::{
    Actor, Camera, CameraId, CameraState, CameraStatus, CameraUpdate, MahallaId, NewCamera, Scope,
    Verdict, redact_url,
};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, point, word};
use crate::error::{Error, Result, corrupt, db};

/// Camera `$id` read within the transaction `$tx`, or NotFound. A macro, so that the one text
/// serves both backends' transactions inside `write_tx!`.
macro_rules! read_camera {
    ($tx:ident, $id:expr) => {{
        let id: CameraId = $id;
        let row = sqlx::query(
            "SELECT c.id, c.name, c.url, c.mahalla_id, c.config_toml, c.lon, c.lat, c.created_at, c.enabled \
             FROM cameras c WHERE c.id = $1",
        )
        .bind(id.0)
        .fetch_optional(&mut *$tx)
        .await
        .map_err(db("read the camera"))?
        .ok_or(Error::NotFound {
            what: "camera",
            id: id.0,
        })?;
        camera_from_row(&row)?
    }};
}

/// `SELECT <camera columns> FROM cameras c <joins> WHERE <scope> ORDER BY c.id`; `$1` is the
/// scope's place (none for the national scope).
macro_rules! cameras_in_scope {
    ($join_and_where:literal) => {
        concat!(
            "SELECT c.id, c.name, c.url, c.mahalla_id, c.config_toml, c.lon, c.lat, c.created_at, c.enabled ",
            "FROM cameras c ",
            $join_and_where,
            " ORDER BY c.id"
        )
    };
}

const CAMERAS_NATIONAL: &str = cameras_in_scope!("");
const CAMERAS_REGION: &str = cameras_in_scope!(
    "JOIN mahallas m ON m.id = c.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $1"
);
const CAMERAS_DISTRICT: &str =
    cameras_in_scope!("JOIN mahallas m ON m.id = c.mahalla_id WHERE m.district_id = $1");
const CAMERAS_MAHALLA: &str = cameras_in_scope!("WHERE c.mahalla_id = $1");

/// The statuses of the cameras within a scope; `$1` is the scope's place.
macro_rules! statuses_in_scope {
    ($join_and_where:literal) => {
        concat!(
            "SELECT s.camera_id, s.state, s.fps, s.frames, s.last_frame_at, s.last_error, s.updated_at ",
            "FROM camera_status s JOIN cameras c ON c.id = s.camera_id ",
            $join_and_where,
            " ORDER BY s.camera_id"
        )
    };
}

const STATUSES_NATIONAL: &str = statuses_in_scope!("");
const STATUSES_REGION: &str = statuses_in_scope!(
    "JOIN mahallas m ON m.id = c.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $1"
);
const STATUSES_DISTRICT: &str =
    statuses_in_scope!("JOIN mahallas m ON m.id = c.mahalla_id WHERE m.district_id = $1");
const STATUSES_MAHALLA: &str = statuses_in_scope!("WHERE c.mahalla_id = $1");

/// Verdicts counted by camera, rule, UTC day of the event, verdict and reason, for events in
/// `[$1, $2)` on cameras within the scope (`$3` is its place). The day is computed in SQL on
/// each backend; weeks are made from days by the caller.
macro_rules! precision_counts {
    ($day:literal, $join_and_where:literal) => {
        concat!(
            "SELECT r.camera_id, r.rule, ",
            $day,
            " AS day, r.verdict, r.reason, COUNT(*) AS n ",
            "FROM reviews r JOIN cameras c ON c.id = r.camera_id ",
            $join_and_where,
            " AND r.event_at >= $1 AND r.event_at < $2 ",
            "GROUP BY r.camera_id, r.rule, day, r.verdict, r.reason ",
            "ORDER BY day, r.camera_id, r.rule, r.verdict, r.reason"
        )
    };
}

macro_rules! precision_variants {
    ($day:literal) => {
        [
            precision_counts!($day, "WHERE TRUE"),
            precision_counts!(
                $day,
                "JOIN mahallas m ON m.id = c.mahalla_id JOIN districts d ON d.id = m.district_id \
                 WHERE d.region_id = $3"
            ),
            precision_counts!(
                $day,
                "JOIN mahallas m ON m.id = c.mahalla_id WHERE m.district_id = $3"
            ),
            precision_counts!($day, "WHERE c.mahalla_id = $3"),
        ]
    };
}

/// SQLite keeps times as fixed-width UTC text: the day is its first ten characters.
const PRECISION_SQLITE: [&str; 4] = precision_variants!("substr(r.event_at, 1, 10)");
const PRECISION_POSTGRES: [&str; 4] =
    precision_variants!("to_char(r.event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')");

fn scope_index(scope: &Scope) -> usize {
    match scope {
        Scope::National => 0,
        Scope::Region(_) => 1,
        Scope::District(_) => 2,
        Scope::Mahalla(_) => 3,
    }
}

/// How many verdicts of one kind one camera's rule received on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct PrecisionCount {
    pub camera: CameraId,
    pub rule: String,
    /// The event's UTC day, `YYYY-MM-DD`.
    pub day: String,
    pub verdict: Verdict,
    pub count: u64,
}

/// What the audit log keeps of a camera's settings: the URL without its password, and a digest
/// of the configuration (which may be long) so that a change can be traced.
fn audit_settings(c: &Camera) -> serde_json::Value {
    json!({
        "name": c.name,
        "url": redact_url(&c.url),
        "mahalla": c.mahalla.0,
        "position": c.position.map(|p| [p.lon, p.lat]),
        "config_sha256": c.config_sha256(),
        "enabled": c.enabled,
    })
}

impl Store {
    /// Registers a camera (enabled) and audits it (`camera.create`) in one transaction.
    pub async fn register_camera(&self, c: &NewCamera, actor: &Actor) -> Result<Camera> {
        c.validate()?;
        let created_at = self.now();
        let actor = actor.to_string();
        let camera = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cameras (name, url, mahalla_id, config_toml, lon, lat, created_at, enabled) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&c.name)
            .bind(&c.url)
            .bind(c.mahalla.0)
            .bind(&c.config_toml)
            .bind(c.position.map(|p| p.lon))
            .bind(c.position.map(|p| p.lat))
            .bind(DbTs(created_at))
            .bind(true)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("register the camera"))?;
            let camera = Camera {
                id: CameraId(id),
                name: c.name.clone(),
                url: c.url.clone(),
                mahalla: c.mahalla,
                config_toml: c.config_toml.clone(),
                position: c.position,
                created_at,
                enabled: true,
            };
            tx.append_audit(
                created_at,
                &actor,
                "camera.create",
                &format!("camera:{id}"),
                &audit_settings(&camera),
            )
            .await?;
            camera
        });
        Ok(camera)
    }

    /// The cameras within `scope`, by id.
    pub async fn list_cameras(&self, scope: &Scope) -> Result<Vec<Camera>> {
        let sql = [
            CAMERAS_NATIONAL,
            CAMERAS_REGION,
            CAMERAS_DISTRICT,
            CAMERAS_MAHALLA,
        ][scope_index(scope)];
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql);
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list cameras"))?
                .iter()
                .map(camera_from_row)
                .collect()
        })
    }

    /// Every enabled camera, by id: what the workers run.
    pub async fn list_enabled_cameras(&self) -> Result<Vec<Camera>> {
        Ok(self
            .list_cameras(&Scope::National)
            .await?
            .into_iter()
            .filter(|c| c.enabled)
            .collect())
    }

    /// Applies `u` to camera `id` and audits it (`camera.update`, naming the fields changed and
    /// the settings before and after) in one transaction.
    pub async fn update_camera(
        &self,
        id: CameraId,
        u: &CameraUpdate,
        actor: &Actor,
    ) -> Result<Camera> {
        u.validate()?;
        let now = self.now();
        let actor = actor.to_string();
        Ok(write_tx!(self, audit = true, |tx, _pg| {
            let before = read_camera!(tx, id);
            let after = u.apply_to(&before);
            sqlx::query(
                "UPDATE cameras SET name = $1, url = $2, mahalla_id = $3, config_toml = $4, lon = $5, lat = $6 \
                 WHERE id = $7",
            )
            .bind(&after.name)
            .bind(&after.url)
            .bind(after.mahalla.0)
            .bind(&after.config_toml)
            .bind(after.position.map(|p| p.lon))
            .bind(after.position.map(|p| p.lat))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db("update the camera"))?;
            tx.append_audit(
                now,
                &actor,
                "camera.update",
                &format!("camera:{id}"),
                &json!({
                    "fields": u.fields(),
                    "before": audit_settings(&before),
                    "after": audit_settings(&after),
                }),
            )
            .await?;
            after
        }))
    }

    /// Switches camera `id`'s pipeline on or off, audited as `camera.enable` / `camera.disable`
    /// in the same transaction. Setting the state it already has changes and logs nothing.
    pub async fn set_camera_enabled(
        &self,
        id: CameraId,
        enabled: bool,
        actor: &Actor,
    ) -> Result<Camera> {
        let now = self.now();
        let actor = actor.to_string();
        Ok(write_tx!(self, audit = true, |tx, _pg| {
            let mut camera = read_camera!(tx, id);
            if camera.enabled != enabled {
                sqlx::query("UPDATE cameras SET enabled = $1 WHERE id = $2")
                    .bind(enabled)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("switch the camera on or off"))?;
                camera.enabled = enabled;
                tx.append_audit(
                    now,
                    &actor,
                    if enabled {
                        "camera.enable"
                    } else {
                        "camera.disable"
                    },
                    &format!("camera:{id}"),
                    &json!({ "name": camera.name, "mahalla": camera.mahalla.0 }),
                )
                .await?;
            }
            camera
        }))
    }

    /// Records a camera's health, replacing what was there.
    pub async fn put_camera_status(&self, s: &CameraStatus) -> Result<()> {
        if !s.fps.is_finite() || s.fps < 0.0 {
            return Err(Error::Invalid(domain::DomainError::Invalid {
                what: "camera status",
                reason: format!("fps {} is not a finite number of at least 0", s.fps),
            }));
        }
        let frames = i64::try_from(s.frames).unwrap_or(i64::MAX);
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "INSERT INTO camera_status (camera_id, state, fps, frames, last_frame_at, last_error, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (camera_id) DO UPDATE SET state = excluded.state, fps = excluded.fps, \
                 frames = excluded.frames, last_frame_at = excluded.last_frame_at, \
                 last_error = excluded.last_error, updated_at = excluded.updated_at",
            )
            .bind(s.camera.0)
            .bind(s.state.as_str())
            .bind(s.fps)
            .bind(frames)
            .bind(s.last_frame_at.map(DbTs))
            .bind(s.last_error.as_deref())
            .bind(DbTs(s.updated_at))
            .execute(pool)
            .await
            .map_err(db("record the camera's health"))?;
        });
        Ok(())
    }

    pub async fn get_camera_status(&self, id: CameraId) -> Result<Option<CameraStatus>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT camera_id, state, fps, frames, last_frame_at, last_error, updated_at \
                 FROM camera_status WHERE camera_id = $1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await
            .map_err(db("read the camera's health"))?
            .as_ref()
            .map(status_from_row)
            .transpose()
        })
    }

    /// The recorded health of the cameras within `scope` that have any, by camera id.
    pub async fn list_camera_statuses(&self, scope: &Scope) -> Result<Vec<CameraStatus>> {
        let sql = [
            STATUSES_NATIONAL,
            STATUSES_REGION,
            STATUSES_DISTRICT,
            STATUSES_MAHALLA,
        ][scope_index(scope)];
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql);
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list the cameras' health"))?
                .iter()
                .map(status_from_row)
                .collect()
        })
    }

    /// Verdicts on events that happened in `[from, to)`, from cameras within `scope`, counted
    /// per camera, rule, UTC day, verdict and dismiss reason. Verdicts outlive their events
    /// (retention keeps them), so old periods stay countable.
    pub async fn precision_counts(
        &self,
        scope: &Scope,
        from: domain::Timestamp,
        to: domain::Timestamp,
    ) -> Result<Vec<PrecisionCount>> {
        let i = scope_index(scope);
        with_pool!(self, |pool, pg| {
            let sql = if pg {
                PRECISION_POSTGRES[i]
            } else {
                PRECISION_SQLITE[i]
            };
            let mut q = sqlx::query(sql).bind(DbTs(from)).bind(DbTs(to));
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("count verdicts"))?
                .iter()
                .map(|r| {
                    let reason = r.opt_text("reason")?;
                    Ok(PrecisionCount {
                        camera: CameraId(r.i64("camera_id")?),
                        rule: r.text("rule")?,
                        day: r.text("day")?,
                        verdict: Verdict::from_parts(&r.text("verdict")?, reason.as_deref())
                            .map_err(corrupt("verdict"))?,
                        count: u64::try_from(r.i64("n")?).unwrap_or(0),
                    })
                })
                .collect()
        })
    }
}

pub(crate) fn camera_from_row(r: &impl RowExt) -> Result<Camera> {
    Ok(Camera {
        id: CameraId(r.i64("id")?),
        name: r.text("name")?,
        url: r.text("url")?,
        mahalla: MahallaId(r.i64("mahalla_id")?),
        config_toml: r.text("config_toml")?,
        position: point(r)?,
        created_at: r.ts("created_at")?,
        enabled: r.boolean("enabled")?,
    })
}

fn status_from_row(r: &impl RowExt) -> Result<CameraStatus> {
    let state: CameraState = word("camera state", &r.text("state")?)?;
    Ok(CameraStatus {
        camera: CameraId(r.i64("camera_id")?),
        state,
        fps: r.f64_opt("fps")?.unwrap_or(0.0),
        frames: u64::try_from(r.i64("frames")?).unwrap_or(0),
        last_frame_at: r.opt_ts("last_frame_at")?,
        last_error: r.opt_text("last_error")?,
        updated_at: r.ts("updated_at")?,
    })
}
