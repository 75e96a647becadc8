//! The JSON endpoints: the review queue, incidents, exports and the audit log. Each handler
//! checks the caller's role first and then that the record lies within the caller's scope; a
//! record outside it is answered 404, exactly as one that does not exist.
use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{
    Affected, Category, DismissReason, EventId, GeoPoint, Incident, IncidentId, MahallaId,
    NewIncident, NewReview, Review, Role, Scope, Source, Status, Timestamp, UserId, Verdict,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id, query_i64};

/// Who may review camera events.
pub const REVIEWERS: &[Role] = &[Role::Admin, Role::Operator];
/// Who may read incidents (and export them).
pub const INCIDENT_READERS: &[Role] =
    &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];
/// Who may record incidents and change their status.
pub const INCIDENT_WRITERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector];
/// Who may read the audit log (with the national scope: the log is not divided by place).
pub const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Auditor];

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;
/// Exports stop here; a bigger one must be paged through the list endpoint.
const MAX_EXPORT: usize = 100_000;

/// Whether the user's scope covers the mahalla. A mahalla that does not exist is covered by no
/// scope but the national one.
pub(crate) async fn covers(
    state: &AppState,
    me: &CurrentUser,
    mahalla: MahallaId,
) -> ApiResult<bool> {
    if me.user.scope == Scope::National {
        return Ok(true);
    }
    Ok(state
        .store
        .mahalla_area(mahalla)
        .await?
        .is_some_and(|a| me.user.scope.covers(&a)))
}

/// The incident, if it exists and lies within the user's scope.
pub(crate) async fn incident_in_scope(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<Incident> {
    let id = IncidentId(parse_id("incident", raw)?);
    match state.store.get_incident(id).await? {
        Some(i) if covers(state, me, i.mahalla).await? => Ok(i),
        _ => Err(ApiError::not_found("incident", id)),
    }
}

/// `GET /api/events/pending?limit=N`
pub async fn pending_events(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(REVIEWERS)?;
    let limit = query_i64(&q, "limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let events = state
        .store
        .list_pending_events(&me.user.scope, limit as u32)
        .await?;
    Ok(Json(json!({ "events": events })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `confirm` or `dismiss`.
    pub verdict: String,
    /// For a dismissal: one of domain's dismiss reasons.
    #[serde(default)]
    pub reason: Option<DismissReason>,
    #[serde(default)]
    pub note: String,
    /// For a confirmation: the new incident's category (default `other`).
    #[serde(default)]
    pub category: Option<Category>,
}

/// `POST /api/events/{id}/review`: a verdict; a confirmation opens an incident draft (status
/// `new`, source `camera`) at the camera's mahalla and position.
pub async fn review_event(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<Value>> {
    let (review, incident) = review(&state, &me, &raw, req).await?;
    Ok(Json(json!({ "review": review, "incident": incident })))
}

/// A verdict on event `raw` (role, then scope, then the verdict's rules), and for a
/// confirmation the incident it opens. The API and the console's review queue share it.
pub(crate) async fn review(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    req: ReviewRequest,
) -> ApiResult<(Review, Option<Incident>)> {
    me.require(REVIEWERS)?;
    let id = EventId(parse_id("event", raw)?);
    let event = state
        .store
        .get_event(id)
        .await?
        .ok_or_else(|| ApiError::not_found("event", id))?;
    let camera = state
        .store
        .get_camera(event.camera)
        .await?
        .ok_or_else(|| ApiError::not_found("event", id))?;
    if !covers(state, me, camera.mahalla).await? {
        return Err(ApiError::not_found("event", id));
    }
    let verdict = Verdict::from_parts(&req.verdict, req.reason.map(|r| r.as_str()))
        .map_err(|e| {
            ApiError::bad_request(
                e.to_string(),
                format!(
                    "send {{\"verdict\":\"confirm\"}} or {{\"verdict\":\"dismiss\",\"reason\":R}} with R one of: {}",
                    DismissReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    if verdict == Verdict::Confirm && req.reason.is_some() {
        return Err(ApiError::bad_request(
            "a confirmation has no dismiss reason",
            "leave out reason when confirming",
        ));
    }
    if req.category.is_some() && verdict != Verdict::Confirm {
        return Err(ApiError::bad_request(
            "only a confirmation opens an incident, so only it takes a category",
            "leave out category when dismissing",
        ));
    }
    let review = state
        .store
        .review_event(&NewReview {
            event: id,
            verdict,
            note: req.note.clone(),
            reviewer: me.user.id,
        })
        .await?;
    let incident = if verdict == Verdict::Confirm {
        let n = NewIncident {
            category: req.category.unwrap_or(Category::Other),
            source: Source::Camera,
            occurred_at: event.at,
            mahalla: camera.mahalla,
            point: camera.position,
            affected: Affected::default(),
            narrative: req.note,
            event: Some(id),
        };
        Some(
            state
                .store
                .create_incident(&n, &domain::Actor::User(me.user.id))
                .await?,
        )
    } else {
        None
    };
    Ok((review, incident))
}

/// `GET /api/incidents?before=ID&limit=N`: newest first; page on with the last id as `before`.
pub async fn list_incidents(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(INCIDENT_READERS)?;
    let limit = query_i64(&q, "limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let before = query_i64(&q, "before", 1, i64::MAX)?.map(IncidentId);
    let incidents = state
        .store
        .list_incidents(&me.user.scope, before, limit as u32)
        .await?;
    let next_before = if incidents.len() as i64 == limit {
        incidents.last().map(|i| i.id)
    } else {
        None
    };
    Ok(Json(
        json!({ "incidents": incidents, "next_before": next_before }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateIncident {
    pub category: Category,
    pub source: Source,
    pub occurred_at: Timestamp,
    pub mahalla: MahallaId,
    #[serde(default)]
    pub point: Option<GeoPoint>,
    #[serde(default)]
    pub affected: Affected,
    #[serde(default)]
    pub narrative: String,
}

/// `POST /api/incidents`: an incident reported by the public, found by a patrol or recorded by
/// an inspector, within the caller's scope. Camera incidents come only from confirmed events.
pub async fn create_incident(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<CreateIncident>,
) -> ApiResult<Response> {
    me.require(INCIDENT_WRITERS)?;
    if req.source == Source::Camera {
        return Err(ApiError::bad_request(
            "camera incidents are opened by confirming an event, not recorded directly",
            "use POST /api/events/{id}/review with {\"verdict\":\"confirm\"}, or pick source public, patrol or inspector",
        ));
    }
    if !covers(&state, &me, req.mahalla).await? {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "mahalla {} is not within your scope ({})",
                req.mahalla, me.user.scope
            ),
            "record incidents only for places within your scope",
        ));
    }
    let n = NewIncident {
        category: req.category,
        source: req.source,
        occurred_at: req.occurred_at,
        mahalla: req.mahalla,
        point: req.point,
        affected: req.affected,
        narrative: req.narrative,
        event: None,
    };
    let incident = state
        .store
        .create_incident(&n, &domain::Actor::User(me.user.id))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(incident)).into_response())
}

/// `GET /api/incidents/{id}`: the incident with its status history.
pub async fn get_incident(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(INCIDENT_READERS)?;
    let incident = incident_in_scope(&state, &me, &raw).await?;
    let history = state.store.incident_history(incident.id).await?;
    Ok(Json(json!({ "incident": incident, "history": history })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub to: Status,
    #[serde(default)]
    pub assignee: Option<UserId>,
    #[serde(default)]
    pub note: String,
}

/// `POST /api/incidents/{id}/status`
pub async fn change_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> ApiResult<Json<Value>> {
    let updated = set_status(&state, &me, &raw, req).await?;
    let history = state.store.incident_history(updated.id).await?;
    Ok(Json(json!({ "incident": updated, "history": history })))
}

/// A status change of incident `raw` (role, scope, the assignee's scope, the life cycle). The
/// API and the console share it.
pub(crate) async fn set_status(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    req: StatusRequest,
) -> ApiResult<Incident> {
    me.require(INCIDENT_WRITERS)?;
    let incident = incident_in_scope(state, me, raw).await?;
    if let Some(a) = req.assignee {
        // The assignee must be someone the caller could see working the case: an active user
        // whose scope covers the incident's place.
        let area = state.store.mahalla_area(incident.mahalla).await?;
        let ok = state
            .store
            .get_user(a)
            .await?
            .is_some_and(|u| !u.disabled && area.is_some_and(|ar| u.scope.covers(&ar)));
        if !ok {
            return Err(ApiError::bad_request(
                format!("user {a} cannot be assigned this incident"),
                "assign an active user whose scope covers the incident's mahalla",
            ));
        }
    }
    let updated = state
        .store
        .update_incident_status(
            incident.id,
            &store::StatusUpdate {
                to: req.to,
                assignee: req.assignee,
                note: req.note,
            },
            &domain::Actor::User(me.user.id),
        )
        .await?;
    Ok(updated)
}

/// Every incident within the user's scope, newest first, up to [`MAX_EXPORT`].
pub(crate) async fn all_in_scope(state: &AppState, me: &CurrentUser) -> ApiResult<Vec<Incident>> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = state
            .store
            .list_incidents(&me.user.scope, before, 1000)
            .await?;
        let done = page.len() < 1000;
        before = page.last().map(|i| i.id);
        out.extend(page);
        if done || out.len() >= MAX_EXPORT {
            out.truncate(MAX_EXPORT);
            return Ok(out);
        }
    }
}

async fn audit_export(
    state: &AppState,
    me: &CurrentUser,
    format: &str,
    rows: &[Incident],
) -> ApiResult<()> {
    let ids: Vec<i64> = rows.iter().map(|i| i.id.0).take(5000).collect();
    state
        .store
        .audit_append(
            &me.actor(),
            "incidents.export",
            "incidents",
            &json!({
                "format": format,
                "scope": me.user.scope.to_string(),
                "count": rows.len(),
                "first_ids": ids,
            }),
        )
        .await?;
    Ok(())
}

/// A CSV field: quoted when needed, and a leading `= + - @` (which spreadsheets run as a
/// formula) disarmed with a `'`.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub const CSV_HEADER: &str = "id,category,source,status,occurred_at,reported_at,mahalla_id,lon,lat,affected_minor,affected_youth,affected_woman,assignee_id,event_id,created_by,updated_at,narrative";

/// `GET /api/incidents.csv` (audited).
pub async fn export_csv(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Response> {
    me.require(INCIDENT_READERS)?;
    let rows = all_in_scope(&state, &me).await?;
    audit_export(&state, &me, "csv", &rows).await?;
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let opt = |o: Option<String>| o.unwrap_or_default();
    for i in &rows {
        let fields = [
            i.id.to_string(),
            i.category.to_string(),
            i.source.to_string(),
            i.status.to_string(),
            i.occurred_at.to_string(),
            i.reported_at.to_string(),
            i.mahalla.to_string(),
            opt(i.point.map(|p| p.lon.to_string())),
            opt(i.point.map(|p| p.lat.to_string())),
            i.affected.minor.to_string(),
            i.affected.youth.to_string(),
            i.affected.woman.to_string(),
            opt(i.assignee.map(|a| a.to_string())),
            opt(i.event.map(|e| e.to_string())),
            i.created_by.to_string(),
            i.updated_at.to_string(),
            csv_field(&i.narrative),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"incidents.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// `GET /api/incidents.geojson` (audited): a FeatureCollection; incidents without a point have
/// a null geometry.
pub async fn export_geojson(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Response> {
    me.require(INCIDENT_READERS)?;
    let rows = all_in_scope(&state, &me).await?;
    audit_export(&state, &me, "geojson", &rows).await?;
    let features: Vec<Value> = rows
        .iter()
        .map(|i| {
            let geometry = i.point.map_or(
                Value::Null,
                |p| json!({"type": "Point", "coordinates": [p.lon, p.lat]}),
            );
            let mut props = serde_json::to_value(i).unwrap_or(Value::Null);
            if let Some(o) = props.as_object_mut() {
                o.remove("point");
            }
            json!({"type": "Feature", "id": i.id, "geometry": geometry, "properties": props})
        })
        .collect();
    let body = json!({"type": "FeatureCollection", "features": features});
    Ok(([(CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

/// `GET /api/audit?after=SEQ&limit=N`: national-scope auditors and admins only.
pub async fn audit_log(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(AUDIT_READERS)?;
    if me.user.scope != Scope::National {
        return Err(ApiError::forbidden(
            "the audit log is not divided by place, so reading it needs the national scope",
        ));
    }
    let limit = query_i64(&q, "limit", 1, MAX_PAGE)?.unwrap_or(DEFAULT_PAGE);
    let after = query_i64(&q, "after", 0, i64::MAX)?;
    let entries = state.store.audit_entries(after, limit as u32).await?;
    let rows: Vec<Value> = entries
        .iter()
        .map(|r| {
            json!({
                "seq": r.entry.seq, "at": r.entry.at, "actor": r.entry.actor,
                "action": r.entry.action, "target": r.entry.target, "details": r.entry.details,
                "hash": r.hash.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({ "entries": rows })))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_disarmed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
