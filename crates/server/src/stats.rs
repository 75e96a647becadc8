//! `GET /api/stats/precision`: how often each rule's and each camera's alerts were confirmed by
//! a reviewer, over time, with 95% Wilson intervals and the reasons for dismissals, so operators
//! see which rules need tuning.
use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use domain::precision::{Period, Tally};
use domain::{CameraId, Role, Timestamp};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};

/// Who may read precision statistics.
pub const PRECISION_READERS: &[Role] = &[Role::Admin, Role::Operator, Role::Analyst];

/// Without `from`, this many days before `to`.
const DEFAULT_DAYS: u32 = 84;
/// The longest window one request may cover.
const MAX_DAYS: i64 = 731;

pub const METHOD: &str = "precision = confirmed / (confirmed + dismissed) over reviewed events whose event time is in [from, to); low and high bound the 95% Wilson score interval (z = 1.96), wide when few events were reviewed; periods are UTC days or ISO weeks (Monday to Sunday) named by their first day; events not yet reviewed are not counted";

/// A time parameter: RFC 3339 (`2024-05-01T00:00:00Z`) or a UTC day (`2024-05-01`).
pub(crate) fn time_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<Timestamp>> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    let text = if v.len() == 10 {
        format!("{v}T00:00:00Z")
    } else {
        v.clone()
    };
    text.parse().map(Some).map_err(|_| {
        ApiError::bad_request(
            format!("query parameter {name}={v:?} is not a date or time"),
            format!(
                "send {name} as a UTC day (2024-05-01) or an RFC 3339 time (2024-05-01T09:30:00Z)"
            ),
        )
    })
}

fn tally_json(mut head: serde_json::Map<String, Value>, t: &Tally) -> Value {
    if let Value::Object(body) = t.to_json() {
        head.extend(body);
    }
    Value::Object(head)
}

/// `GET /api/stats/precision?from=&to=&period=week|day`
pub async fn precision(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(PRECISION_READERS)?;
    let period: Period = match q.get("period") {
        None => Period::Week,
        Some(p) => p.parse().map_err(|e: domain::DomainError| {
            ApiError::bad_request(
                e.to_string(),
                "send period=day or period=week, or leave it out (week)",
            )
        })?,
    };
    let to = time_param(&q, "to")?.unwrap_or_else(|| state.store_now());
    let from = time_param(&q, "from")?.unwrap_or_else(|| to.minus_days(DEFAULT_DAYS));
    if from >= to {
        return Err(ApiError::bad_request(
            format!("from ({from}) is not before to ({to})"),
            "send a from earlier than to",
        ));
    }
    let span_days = (to.unix_micros() - from.unix_micros()) / 86_400_000_000;
    if span_days > MAX_DAYS {
        return Err(ApiError::bad_request(
            format!("the window is {span_days} days; at most {MAX_DAYS} are allowed"),
            "ask for a shorter window, or several",
        ));
    }
    let scope = &me.user.scope;
    let counts = state.store.precision_counts(scope, from, to).await?;
    let names: HashMap<CameraId, String> = state
        .store
        .list_cameras(scope)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();

    let mut total = Tally::default();
    let mut by_rule: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_camera: BTreeMap<CameraId, Tally> = BTreeMap::new();
    let mut by_camera_rule: BTreeMap<(CameraId, String), Tally> = BTreeMap::new();
    let mut series: BTreeMap<(String, CameraId, String), Tally> = BTreeMap::new();
    for c in &counts {
        let start = period
            .start_of(&c.day)
            .map_err(|e| ApiError::internal("count verdicts", &e))?;
        total.add(c.verdict, c.count);
        by_rule
            .entry(c.rule.clone())
            .or_default()
            .add(c.verdict, c.count);
        by_camera
            .entry(c.camera)
            .or_default()
            .add(c.verdict, c.count);
        by_camera_rule
            .entry((c.camera, c.rule.clone()))
            .or_default()
            .add(c.verdict, c.count);
        series
            .entry((start, c.camera, c.rule.clone()))
            .or_default()
            .add(c.verdict, c.count);
    }
    let head = |pairs: Vec<(&str, Value)>| -> serde_json::Map<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    let camera_name = |id: &CameraId| names.get(id).cloned().map_or(Value::Null, Value::String);
    let rules: Vec<Value> = by_rule
        .iter()
        .map(|(r, t)| tally_json(head(vec![("rule", json!(r))]), t))
        .collect();
    let cameras: Vec<Value> = by_camera
        .iter()
        .map(|(c, t)| {
            tally_json(
                head(vec![("camera", json!(c)), ("name", camera_name(c))]),
                t,
            )
        })
        .collect();
    let camera_rules: Vec<Value> = by_camera_rule
        .iter()
        .map(|((c, r), t)| tally_json(head(vec![("camera", json!(c)), ("rule", json!(r))]), t))
        .collect();
    let periods: Vec<Value> = series
        .iter()
        .map(|((p, c, r), t)| {
            tally_json(
                head(vec![
                    ("period_start", json!(p)),
                    ("camera", json!(c)),
                    ("rule", json!(r)),
                ]),
                t,
            )
        })
        .collect();
    Ok(Json(json!({
        "from": from,
        "to": to,
        "period": period,
        "scope": scope.to_string(),
        "method": METHOD,
        "total": total.to_json(),
        "by_rule": rules,
        "by_camera": cameras,
        "by_camera_rule": camera_rules,
        "series": periods,
    })))
}
