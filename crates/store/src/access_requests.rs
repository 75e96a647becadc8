//! Access requests for sealed originals. Each request and each decision is written with its
//! audit entry in one transaction. The database itself refuses a request decided by its own
//! requester (a CHECK), whatever the caller checked before.
use domain::{
    AccessDecision, AccessRequest, AccessRequestId, AccessStatus, Actor, CameraId, DomainError,
    EventId, MahallaId, NewAccessRequest, Scope, UserId,
};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};

/// `SELECT <every access request column> FROM access_requests a <rest>`, as one literal.
macro_rules! select_requests {
    ($($rest:tt)*) => {
        concat!(
            "SELECT a.id, a.event_id, a.camera_id, a.mahalla_id, a.case_ref, a.reason, a.requester_id, ",
            "a.requested_at, a.status, a.approver_id, a.decided_at, a.expires_at, a.revoked_by, ",
            "a.revoked_at FROM access_requests a ",
            $($rest)*
        )
    };
}

/// Oldest first: `$1` the status (NULL for all), `$2` the limit, `$3` the scope's place.
macro_rules! list_requests {
    ($join_and_where:literal) => {
        select_requests!(
            $join_and_where,
            "($1 IS NULL OR a.status = $1) ORDER BY a.id LIMIT $2"
        )
    };
}

const LIST_NATIONAL: &str = list_requests!("WHERE ");
const LIST_REGION: &str = list_requests!(
    "JOIN mahallas m ON m.id = a.mahalla_id JOIN districts d ON d.id = m.district_id \
     WHERE d.region_id = $3 AND "
);
const LIST_DISTRICT: &str =
    list_requests!("JOIN mahallas m ON m.id = a.mahalla_id WHERE m.district_id = $3 AND ");
const LIST_MAHALLA: &str = list_requests!("WHERE a.mahalla_id = $3 AND ");

const HOUR_MICROS: i64 = 3_600 * 1_000_000;

impl Store {
    /// Records a request to open the originals of `n.event`, audited
    /// (`evidence.access_request`). The event's camera and mahalla are copied into it.
    pub async fn create_access_request(&self, n: &NewAccessRequest) -> Result<AccessRequest> {
        n.validate()?;
        let now = self.now();
        let actor = Actor::User(n.requester).to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let ev = sqlx::query(
                "SELECT e.camera_id, c.mahalla_id FROM events e JOIN cameras c ON c.id = e.camera_id \
                 WHERE e.id = $1",
            )
            .bind(n.event.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("read the event"))?
            .ok_or(Error::NotFound {
                what: "event",
                id: n.event.0,
            })?;
            let (camera, mahalla) = (ev.i64("camera_id")?, ev.i64("mahalla_id")?);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO access_requests (event_id, camera_id, mahalla_id, case_ref, reason, requester_id, \
                 requested_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(n.event.0)
            .bind(camera)
            .bind(mahalla)
            .bind(&n.case_ref)
            .bind(&n.reason)
            .bind(n.requester.0)
            .bind(DbTs(now))
            .bind(AccessStatus::Requested.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db("record the access request"))?;
            tx.append_audit(
                now,
                &actor,
                "evidence.access_request",
                &format!("event:{}", n.event),
                &json!({
                    "request": id,
                    "case_ref": n.case_ref,
                    "reason": n.reason,
                    "camera": camera,
                    "mahalla": mahalla,
                }),
            )
            .await?;
            id
        });
        self.get_access_request(AccessRequestId(id))
            .await?
            .ok_or(Error::NotFound {
                what: "access request",
                id,
            })
    }

    pub async fn get_access_request(&self, id: AccessRequestId) -> Result<Option<AccessRequest>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_requests!("WHERE a.id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read an access request"))?;
            row.as_ref().map(request_from_row).transpose()
        })
    }

    /// Requests whose event lies within `scope`, with `status` (all with `None`), oldest first.
    pub async fn list_access_requests(
        &self,
        scope: &Scope,
        status: Option<AccessStatus>,
        limit: u32,
    ) -> Result<Vec<AccessRequest>> {
        let sql = match scope {
            Scope::National => LIST_NATIONAL,
            Scope::Region(_) => LIST_REGION,
            Scope::District(_) => LIST_DISTRICT,
            Scope::Mahalla(_) => LIST_MAHALLA,
        };
        with_pool!(self, |pool, _pg| {
            let mut q = sqlx::query(sql)
                .bind(status.map(|s| s.as_str()))
                .bind(i64::from(limit));
            if let Some(place) = scope.place_id() {
                q = q.bind(place);
            }
            q.fetch_all(pool)
                .await
                .map_err(db("list access requests"))?
                .iter()
                .map(request_from_row)
                .collect()
        })
    }

    /// The requests `requester` made, newest first.
    pub async fn list_own_access_requests(
        &self,
        requester: UserId,
        limit: u32,
    ) -> Result<Vec<AccessRequest>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(select_requests!(
                "WHERE a.requester_id = $1 ORDER BY a.id DESC LIMIT $2"
            ))
            .bind(requester.0)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db("list access requests"))?
            .iter()
            .map(request_from_row)
            .collect()
        })
    }

    /// Approves, denies or revokes a request (see [`AccessDecision::apply`]), audited
    /// (`evidence.access_decision`). An approval runs from now (the store's clock) for its hours.
    /// Approving or denying one's own request is refused here as well as by the database; role
    /// and scope are the caller's to check.
    pub async fn decide_access_request(
        &self,
        id: AccessRequestId,
        decision: AccessDecision,
        by: UserId,
    ) -> Result<AccessRequest> {
        let now = self.now();
        let actor = Actor::User(by).to_string();
        write_tx!(self, audit = true, |tx, pg| {
            let row = sqlx::query(if pg {
                select_requests!("WHERE a.id = $1 FOR UPDATE")
            } else {
                select_requests!("WHERE a.id = $1")
            })
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("read the access request"))?
            .ok_or(Error::NotFound {
                what: "access request",
                id: id.0,
            })?;
            let req = request_from_row(&row)?;
            let to = match decision.apply(req.status) {
                Ok(to) => to,
                Err(e @ DomainError::Invalid { what: "hours", .. }) => return Err(e.into()),
                Err(e) => {
                    return Err(Error::Conflict {
                        op: "decide the access request",
                        message: e.to_string(),
                    });
                }
            };
            if req.requester == by && !matches!(decision, AccessDecision::Revoke) {
                return Err(DomainError::Invalid {
                    what: "decision",
                    reason: "a request is decided by a second person, never by its requester"
                        .into(),
                }
                .into());
            }
            let expires_at = match decision {
                AccessDecision::Approve { hours } => {
                    Some(now.saturating_add_micros(i64::from(hours) * HOUR_MICROS))
                }
                _ => req.expires_at,
            };
            match decision {
                AccessDecision::Approve { .. } | AccessDecision::Deny => {
                    sqlx::query(
                        "UPDATE access_requests SET status = $1, approver_id = $2, decided_at = $3, \
                         expires_at = $4 WHERE id = $5",
                    )
                    .bind(to.as_str())
                    .bind(by.0)
                    .bind(DbTs(now))
                    .bind(expires_at.map(DbTs))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("record the decision"))?;
                }
                AccessDecision::Revoke => {
                    sqlx::query(
                        "UPDATE access_requests SET status = $1, revoked_by = $2, revoked_at = $3 \
                         WHERE id = $4",
                    )
                    .bind(to.as_str())
                    .bind(by.0)
                    .bind(DbTs(now))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("record the revocation"))?;
                }
            }
            tx.append_audit(
                now,
                &actor,
                "evidence.access_decision",
                &format!("access_request:{id}"),
                &json!({
                    "decision": decision.word(),
                    "hours": match decision { AccessDecision::Approve { hours } => Some(hours), _ => None },
                    "expires_at": expires_at.map(|t| t.to_string()),
                    "requester": req.requester.0,
                    "event": req.event.map(|e| e.0),
                    "case_ref": req.case_ref,
                }),
            )
            .await?;
        });
        self.get_access_request(id).await?.ok_or(Error::NotFound {
            what: "access request",
            id: id.0,
        })
    }
}

fn request_from_row(r: &impl RowExt) -> Result<AccessRequest> {
    Ok(AccessRequest {
        id: AccessRequestId(r.i64("id")?),
        event: r.opt_i64("event_id")?.map(EventId),
        camera: CameraId(r.i64("camera_id")?),
        mahalla: MahallaId(r.i64("mahalla_id")?),
        case_ref: r.text("case_ref")?,
        reason: r.text("reason")?,
        requester: UserId(r.i64("requester_id")?),
        requested_at: r.ts("requested_at")?,
        status: word::<AccessStatus>("access request status", &r.text("status")?)?,
        approver: r.opt_i64("approver_id")?.map(UserId),
        decided_at: r.opt_ts("decided_at")?,
        expires_at: r.opt_ts("expires_at")?,
        revoked_by: r.opt_i64("revoked_by")?.map(UserId),
        revoked_at: r.opt_ts("revoked_at")?,
    })
}
