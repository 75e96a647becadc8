//! Access requests for sealed originals: ask (naming a case), decide (a second person), open
//! (the requester alone, until the approval expires). Every step is audited:
//! `evidence.access_request`, `evidence.access_decision`, `evidence.original_view` (and
//! `evidence.original_unreadable` when a sealed file does not open).
//!
//! See [`domain::evidence`] for who may do what.
use std::collections::HashMap;
use std::path::{Component, Path as FsPath, PathBuf};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, PRAGMA};
use axum::response::{IntoResponse, Response};
use domain::evidence::{
    ACCESS_APPROVERS, ACCESS_REQUESTERS, Closed, DEFAULT_ACCESS_HOURS, MAX_ACCESS_HOURS,
};
use domain::{
    AccessDecision, AccessRequest, AccessRequestId, AccessStatus, EventId, NewAccessRequest, Role,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::covers;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id, query_i64};

fn is(role: Role, set: &[Role]) -> bool {
    set.contains(&role)
}

/// The sealed originals an event's payload names (paths relative to the camera's evidence
/// folder).
fn originals(payload: &Value) -> Vec<String> {
    payload
        .get("originals")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A relative path with only plain components (no `..`, no root), or `None`.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let path = FsPath::new(p);
    if p.is_empty() || path.is_absolute() {
        return None;
    }
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| path.to_path_buf())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub event: EventId,
    pub case_ref: String,
    pub reason: String,
}

/// `POST /api/access-requests`: ask to open an event's originals for a case.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<CreateRequest>,
) -> ApiResult<Response> {
    me.require(ACCESS_REQUESTERS)?;
    let event = state
        .store
        .get_event(req.event)
        .await?
        .ok_or_else(|| ApiError::not_found("event", req.event))?;
    let camera = state
        .store
        .get_camera(event.camera)
        .await?
        .ok_or_else(|| ApiError::not_found("event", req.event))?;
    if !covers(&state, &me, camera.mahalla).await? {
        return Err(ApiError::not_found("event", req.event));
    }
    if originals(&event.payload).is_empty() {
        return Err(ApiError::bad_request(
            format!("event {} has no sealed original", event.id),
            "originals are kept only for cameras whose config names [evidence] original_key; the redacted images are all there is",
        ));
    }
    let n = NewAccessRequest {
        event: event.id,
        case_ref: req.case_ref.trim().to_owned(),
        reason: req.reason,
        requester: me.user.id,
    };
    n.validate().map_err(|e| {
        ApiError::bad_request(
            e.to_string(),
            "name the case (1 to 64 letters, digits, spaces and - / . _ : # №) and say why the original is needed",
        )
    })?;
    let r = state.store.create_access_request(&n).await?;
    let v = view(&state, &me, &r).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// A request as the lists show it, with what the caller may do with it.
async fn view(state: &AppState, me: &CurrentUser, r: &AccessRequest) -> ApiResult<Value> {
    let now = state.store_now();
    let name = |u: Option<domain::User>| u.map(|u| u.username);
    let requester = name(state.store.get_user(r.requester).await?);
    let approver = match r.approver {
        Some(a) => name(state.store.get_user(a).await?),
        None => None,
    };
    let originals = match r.event {
        Some(e) => state
            .store
            .get_event(e)
            .await?
            .map_or(0, |ev| originals(&ev.payload).len()),
        None => 0,
    };
    let mine = r.requester == me.user.id;
    let approver_here = is(me.user.role, ACCESS_APPROVERS);
    let open = r.check_open(now).is_ok();
    Ok(json!({
        "id": r.id,
        "event": r.event,
        "camera": r.camera,
        "mahalla": r.mahalla,
        "case_ref": r.case_ref,
        "reason": r.reason,
        "requester": { "id": r.requester, "username": requester },
        "requested_at": r.requested_at,
        "status": r.status,
        "shown_status": r.shown_status(now),
        "approver": r.approver.map(|a| json!({ "id": a, "username": approver })),
        "decided_at": r.decided_at,
        "expires_at": r.expires_at,
        "revoked_by": r.revoked_by,
        "revoked_at": r.revoked_at,
        "originals": originals,
        "can_decide": approver_here && !mine && r.status == AccessStatus::Requested,
        "can_revoke": (approver_here || mine) && r.status == AccessStatus::Approved,
        "can_open": mine && open,
    }))
}

/// `GET /api/access-requests?status=requested|approved|denied|revoked|all&limit=N`:
/// `{pending, mine}`. `pending` (approvers: admin, auditor) holds the requests within their
/// scope with the given status (default `requested`), oldest first; `mine` (requesters) the
/// caller's own, newest first.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let approver = is(me.user.role, ACCESS_APPROVERS);
    let requester = is(me.user.role, ACCESS_REQUESTERS);
    if !approver && !requester {
        return Err(ApiError::forbidden(format!(
            "access requests are for the roles admin, operator, inspector, analyst and auditor; you are {}",
            me.user.role
        )));
    }
    let status = match q.get("status").map(String::as_str) {
        None => Some(AccessStatus::Requested),
        Some("all") => None,
        Some(s) => Some(s.parse::<AccessStatus>().map_err(|_| {
            ApiError::bad_request(
                format!("query parameter status={s:?} is not an access request status"),
                "use status=requested (the default), approved, denied, revoked or all",
            )
        })?),
    };
    let limit = query_i64(&q, "limit", 1, 500)?.unwrap_or(100) as u32;
    let mut pending = Vec::new();
    if approver {
        for r in state
            .store
            .list_access_requests(&me.user.scope, status, limit)
            .await?
        {
            pending.push(view(&state, &me, &r).await?);
        }
    }
    let mut mine = Vec::new();
    if requester {
        for r in state
            .store
            .list_own_access_requests(me.user.id, limit)
            .await?
        {
            mine.push(view(&state, &me, &r).await?);
        }
    }
    Ok(Json(json!({ "pending": pending, "mine": mine })))
}

/// The request, if the caller may see it: their own, or one within an approver's scope.
async fn visible(state: &AppState, me: &CurrentUser, raw: &str) -> ApiResult<AccessRequest> {
    let id = AccessRequestId(parse_id("access request", raw)?);
    let r = state.store.get_access_request(id).await?;
    if let Some(r) = r {
        let mine = r.requester == me.user.id;
        let approver_in_scope =
            is(me.user.role, ACCESS_APPROVERS) && covers(state, me, r.mahalla).await?;
        if mine || approver_in_scope {
            return Ok(r);
        }
    }
    Err(ApiError::not_found("access request", id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve`, `deny` or `revoke`.
    pub decision: String,
    /// For an approval: how long it lasts (default 24, at most 72).
    #[serde(default)]
    pub hours: Option<u32>,
}

/// `POST /api/access-requests/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> ApiResult<Json<Value>> {
    // Who may see the request (its requester, approvers in scope) is checked first: to anyone
    // else it does not exist. Then what each decision needs.
    let r = visible(&state, &me, &raw).await?;
    let decision = match req.decision.as_str() {
        "approve" => AccessDecision::Approve {
            hours: req.hours.unwrap_or(DEFAULT_ACCESS_HOURS),
        },
        "deny" | "revoke" if req.hours.is_some() => {
            return Err(ApiError::bad_request(
                "only an approval takes hours",
                "leave out hours",
            ));
        }
        "deny" => AccessDecision::Deny,
        "revoke" => AccessDecision::Revoke,
        other => {
            return Err(ApiError::bad_request(
                format!("unknown decision {other:?}"),
                "send decision approve (with hours, default 24), deny or revoke",
            ));
        }
    };
    if let AccessDecision::Approve { hours } = decision
        && !(1..=MAX_ACCESS_HOURS).contains(&hours)
    {
        return Err(ApiError::bad_request(
            format!("hours {hours} is out of range"),
            format!("approve for 1 to {MAX_ACCESS_HOURS} hours (default {DEFAULT_ACCESS_HOURS})"),
        ));
    }
    let mine = r.requester == me.user.id;
    match decision {
        AccessDecision::Approve { .. } | AccessDecision::Deny => {
            if mine {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "you made this request, so you cannot decide it",
                    "a second person with the role admin or auditor whose scope covers the event must decide it",
                ));
            }
            me.require(ACCESS_APPROVERS)?;
        }
        AccessDecision::Revoke => {
            if !mine {
                me.require(ACCESS_APPROVERS)?;
            }
        }
    }
    let decided = state
        .store
        .decide_access_request(r.id, decision, me.user.id)
        .await?;
    Ok(Json(view(&state, &me, &decided).await?))
}

enum Opened {
    Jpeg(Vec<u8>),
    Missing,
    Unreadable(String),
}

/// `GET /api/access-requests/{id}/original/{n}`: the n-th sealed original of the request's
/// event, decrypted, for the requester while the approval is in force. Served with no-store.
pub async fn original(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((raw, n_raw)): Path<(String, String)>,
) -> ApiResult<Response> {
    let r = visible(&state, &me, &raw).await?;
    if r.requester != me.user.id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only the person who made an access request opens the originals under it",
            "make your own request with POST /api/access-requests",
        ));
    }
    // The requester must still hold a requesting role and a scope covering the event.
    me.require(ACCESS_REQUESTERS)?;
    if !covers(&state, &me, r.mahalla).await? {
        return Err(ApiError::not_found("access request", r.id));
    }
    let now = state.store_now();
    if let Err(closed) = r.check_open(now) {
        let again = "ask again with POST /api/access-requests; a second person must approve it";
        return Err(match closed {
            Closed::Expired(t) => ApiError::new(
                StatusCode::GONE,
                format!("access request {} expired at {t}", r.id),
                again,
            ),
            Closed::NotApproved => ApiError::new(
                StatusCode::FORBIDDEN,
                format!("access request {} has not been approved yet", r.id),
                "wait for an admin or auditor to approve it",
            ),
            Closed::Denied | Closed::Revoked(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                format!("access request {}: {closed}", r.id),
                again,
            ),
        });
    }
    let Some(key) = state.evidence_key.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no key for sealed originals",
            "start the server with --evidence-key FILE (the key the cameras' configs name)",
        ));
    };
    let gone = |what: String| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            what,
            "the event or its files were deleted by retention; the redacted record is all that is left",
        )
    };
    let event_id = r.event.ok_or_else(|| {
        gone(format!(
            "the event of access request {} no longer exists",
            r.id
        ))
    })?;
    let event = state
        .store
        .get_event(event_id)
        .await?
        .ok_or_else(|| gone(format!("event {event_id} no longer exists")))?;
    let list = originals(&event.payload);
    let n: usize = n_raw
        .parse()
        .ok()
        .filter(|n| *n < list.len())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "event {event_id} has no original {n_raw:?}; it has {} (numbered from 0)",
                    list.len()
                ),
                "ask for an original by its index in the event's originals",
            )
        })?;
    let rel = safe_relative(&list[n]).ok_or_else(|| {
        ApiError::internal(
            "open the original",
            &format!("event {event_id} names an unsafe path {:?}", list[n]),
        )
    })?;
    let path = crate::evidence_dir(&state.data_dir, event.camera).join(&rel);
    let opened = tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return Opened::Missing;
        }
        match key.open_file(&path) {
            Ok(jpeg) => Opened::Jpeg(jpeg),
            Err(e) => Opened::Unreadable(e.to_string()),
        }
    })
    .await
    .map_err(|e| ApiError::internal("open the original", &e))?;
    let details = json!({
        "request": r.id,
        "case_ref": r.case_ref,
        "index": n,
        "file": list[n],
    });
    match opened {
        Opened::Missing => Err(gone(format!(
            "original {n} of event {event_id} is not on disk"
        ))),
        Opened::Unreadable(why) => {
            let mut d = details;
            d["error"] = json!(why);
            state
                .store
                .audit_append(
                    &me.actor(),
                    "evidence.original_unreadable",
                    &format!("event:{event_id}"),
                    &d,
                )
                .await?;
            tracing::error!(event = %event_id, error = %why, "a sealed original does not open");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the sealed original does not open: {why}"),
                "tell an administrator: the file was altered, or the server has another key than the camera",
            ))
        }
        Opened::Jpeg(jpeg) => {
            // Audited before a byte is sent.
            state
                .store
                .audit_append(
                    &me.actor(),
                    "evidence.original_view",
                    &format!("event:{event_id}"),
                    &details,
                )
                .await?;
            Ok((
                [
                    (CONTENT_TYPE, "image/jpeg".to_owned()),
                    (CACHE_CONTROL, "no-store, private".to_owned()),
                    (PRAGMA, "no-cache".to_owned()),
                    (
                        CONTENT_DISPOSITION,
                        format!("inline; filename=\"event-{event_id}-original-{n}.jpg\""),
                    ),
                ],
                jpeg,
            )
                .into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_relative;

    #[test]
    fn only_plain_relative_paths_are_opened() {
        assert!(safe_relative("evidence/originals/a.jpg.sealed").is_some());
        for bad in [
            "",
            "/etc/passwd",
            "../camera-2/x.sealed",
            "evidence/../../x",
            "./x",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad:?}");
        }
    }
}
