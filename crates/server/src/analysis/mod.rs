//! The safety analytics over HTTP (issue 4, items 1-4): crime-free and red mahallas, trends per
//! source, tested hot spots and their forecast scores. The statistics are the pure `analytics`
//! crate's (docs/design/013-safety-analytics.md); this module reads the store within the caller's
//! scope, checks the parameters, and answers JSON with CSV and GeoJSON twins (the twins are
//! audited as exports). The console's pages (`console::analysis`) call the same `compute`
//! functions. Decisions: docs/design/017-analytics-views.md.
//!
//! Common parameters: `from` and `to` (a date, `2024-03-01`, meaning midnight in Uzbekistan,
//! UTC+5, or an RFC 3339 time; `to` is exclusive; default: the last whole calendar month) and
//! `area` (`national`, `region:ID`, `district:ID`, `mahalla:ID`; default the caller's scope; an
//! area outside the scope is refused with 403).
use std::collections::HashMap;

use analytics::data::{IncidentRecord, MahallaRecord, Period, SourceSet, UZ_OFFSET_S};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{Area, Category, MahallaId, Role, Scope, Source, Timestamp};
use serde_json::json;
use store::MahallaInRegion;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};

pub mod crimefree;
pub mod demo;
pub mod hotspots;
mod openapi;
pub mod trends;

pub use openapi::openapi_paths;

/// Who may read the analytics: everyone who reads incidents (each within their scope). Auditors
/// audit access, not places, so they do not.
pub const ANALYTICS_READERS: &[Role] =
    &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];

/// The most incidents one request reads; more is a 400 asking for a smaller area or period.
pub const MAX_INCIDENTS: usize = 2_000_000;
/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 3_700;

/// A request's query parameters, empty values left out (a console form sends its empty
/// fields).
pub type Params = HashMap<String, String>;

/// `q` without empty values.
pub(crate) fn clean(q: Params) -> Params {
    q.into_iter()
        .map(|(k, v)| (k, v.trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// A date (`2024-03-01`: midnight at its start in Uzbekistan, UTC+5) or an RFC 3339 time.
pub(crate) fn parse_time(name: &str, v: &str) -> ApiResult<Timestamp> {
    let bad = || {
        ApiError::bad_request(
            format!("query parameter {name}={v:?} is not a date or time"),
            format!(
                "send {name} as a date (2024-03-01, midnight in Uzbekistan, UTC+5) or an RFC 3339 time (2024-03-01T00:00:00+05:00)"
            ),
        )
    };
    if v.len() == 10 {
        let mut parts = v.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return Err(bad());
        };
        // A date that does not exist (2024-02-30) does not survive the round trip.
        let days = analytics::data::days_from_civil(y, m, d);
        if !(1..=12).contains(&m) || analytics::data::civil_from_days(days) != (y, m, d) {
            return Err(bad());
        }
        return Ok(analytics::data::local_midnight(y, m, d, UZ_OFFSET_S));
    }
    v.parse().map_err(|_| bad())
}

/// The local date (Uzbekistan) of `t`, as `YYYY-MM-DD`.
pub(crate) fn local_date(t: Timestamp) -> String {
    let local = t.unix_micros() + i64::from(UZ_OFFSET_S) * 1_000_000;
    let (y, m, d) = analytics::data::civil_from_days(local.div_euclid(analytics::data::DAY_US));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The calendar month (Uzbekistan's) before the one `now` falls in.
pub(crate) fn last_whole_month(now: Timestamp) -> Period {
    let (y, m) = month_of(now);
    let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    analytics::data::month(py, pm, UZ_OFFSET_S)
}

/// `(year, month)` of `t` in Uzbekistan.
pub(crate) fn month_of(t: Timestamp) -> (i64, u32) {
    let local = t.unix_micros() + i64::from(UZ_OFFSET_S) * 1_000_000;
    let (y, m, _) = analytics::data::civil_from_days(local.div_euclid(analytics::data::DAY_US));
    (y, m)
}

/// The period named by `{prefix}from` and `{prefix}to`: both or neither (`None`).
pub(crate) fn period_pair(q: &Params, from_name: &str, to_name: &str) -> ApiResult<Option<Period>> {
    let (from, to) = match (q.get(from_name), q.get(to_name)) {
        (None, None) => return Ok(None),
        (Some(f), Some(t)) => (parse_time(from_name, f)?, parse_time(to_name, t)?),
        _ => {
            return Err(ApiError::bad_request(
                format!("only one of {from_name} and {to_name} was given"),
                format!("send both {from_name} and {to_name}, or neither"),
            ));
        }
    };
    if from >= to {
        return Err(ApiError::bad_request(
            format!("{from_name} ({from}) is not before {to_name} ({to})"),
            format!(
                "send a {from_name} earlier than {to_name}; {to_name} is exclusive: {from_name}=2024-03-01&{to_name}=2024-04-01 is March"
            ),
        ));
    }
    let days = (to.unix_micros() - from.unix_micros()) / analytics::data::DAY_US;
    if days > MAX_PERIOD_DAYS {
        return Err(ApiError::bad_request(
            format!(
                "the period {from_name}..{to_name} is {days} days; at most {MAX_PERIOD_DAYS} are allowed"
            ),
            "ask for a shorter period",
        ));
    }
    Ok(Some(Period {
        start: from,
        end: to,
    }))
}

/// `from`..`to`, by default the last whole calendar month before `now`.
pub(crate) fn period_param(q: &Params, now: Timestamp) -> ApiResult<Period> {
    Ok(period_pair(q, "from", "to")?.unwrap_or_else(|| last_whole_month(now)))
}

/// The area a request is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// As asked (or the caller's scope).
    pub scope: Scope,
    /// The same with the levels above it; `None` for the whole country.
    pub area: Option<Area>,
}

fn outside_scope(me: &CurrentUser, asked: &Scope) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        format!("area {asked} is not within your scope ({})", me.user.scope),
        "ask for an area within your scope, or leave area out for your whole scope",
    )
}

/// `area`: the caller's scope when absent; an area outside it is 403 (also one that does not
/// exist, for a caller without the national scope, so that the answer does not say which exist).
pub(crate) async fn area_param(state: &AppState, me: &CurrentUser, q: &Params) -> ApiResult<Place> {
    let scope: Scope = match q.get("area") {
        None => me.user.scope,
        Some(raw) => raw.parse().map_err(|e: domain::DomainError| {
            ApiError::bad_request(
                format!("area={raw:?}: {e}"),
                "send area as national, region:ID, district:ID or mahalla:ID (for example district:1726294), or leave it out for your whole scope",
            )
        })?,
    };
    let national = me.user.scope == Scope::National;
    let missing = |what: &str, id: i64| {
        if national {
            ApiError::not_found(what, id)
        } else {
            outside_scope(me, &scope)
        }
    };
    let area = match scope {
        Scope::National => None,
        Scope::Region(r) => {
            state
                .store
                .get_region(r)
                .await?
                .ok_or_else(|| missing("region", r.0))?;
            Some(Area::Region { region: r })
        }
        Scope::District(d) => {
            let district = state
                .store
                .get_district(d)
                .await?
                .ok_or_else(|| missing("district", d.0))?;
            Some(Area::District {
                region: district.region,
                district: d,
            })
        }
        Scope::Mahalla(m) => Some(
            state
                .store
                .mahalla_area(m)
                .await?
                .ok_or_else(|| missing("mahalla", m.0))?,
        ),
    };
    let covered = match &area {
        None => national,
        Some(a) => me.user.scope.covers(a),
    };
    if !covered {
        return Err(outside_scope(me, &scope));
    }
    Ok(Place { scope, area })
}

/// A comma-separated list of words (`public,camera`), or `all`.
fn words<T: std::str::FromStr<Err = domain::DomainError> + Copy>(
    q: &Params,
    name: &str,
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> ApiResult<Option<Vec<T>>> {
    let Some(raw) = q.get(name) else {
        return Ok(None);
    };
    if raw == "all" {
        return Ok(Some(all.to_vec()));
    }
    raw.split(',')
        .map(|w| {
            w.trim().parse::<T>().map_err(|_| {
                ApiError::bad_request(
                    format!("{name}={raw:?}: {:?} is not one of them", w.trim()),
                    format!(
                        "send {name} as all or a comma-separated list of: {}",
                        all.iter()
                            .map(|x| as_str(*x))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .collect::<ApiResult<Vec<T>>>()
        .map(Some)
}

/// `sources`: which sources count (default `default`).
pub(crate) fn sources_param(q: &Params, default: SourceSet) -> ApiResult<SourceSet> {
    Ok(words(q, "sources", Source::ALL, Source::as_str)?.map_or(default, |v| SourceSet::of(&v)))
}

/// `categories`: which categories count (default every one).
pub(crate) fn categories_param(q: &Params) -> ApiResult<Option<Vec<Category>>> {
    Ok(words(q, "categories", Category::ALL, Category::as_str)?
        .filter(|v| v.len() < Category::ALL.len()))
}

/// The mahallas of an area as the analytics read them, with what pages and exports show.
pub struct Mahallas {
    pub list: Vec<MahallaInRegion>,
    pub records: Vec<MahallaRecord>,
    index: HashMap<MahallaId, usize>,
}

impl Mahallas {
    fn new(list: Vec<MahallaInRegion>) -> Mahallas {
        let records = list
            .iter()
            .map(|m| MahallaRecord {
                id: m.mahalla.id,
                district: m.mahalla.district,
                region: m.region,
                // A stored population of 0 means nobody counted: unknown, as the analytics want it.
                population: m.mahalla.population.filter(|p| *p > 0),
            })
            .collect();
        let index = list
            .iter()
            .enumerate()
            .map(|(i, m)| (m.mahalla.id, i))
            .collect();
        Mahallas {
            list,
            records,
            index,
        }
    }

    pub fn get(&self, id: MahallaId) -> Option<&MahallaInRegion> {
        self.index.get(&id).map(|&i| &self.list[i])
    }

    /// The mahalla's Uzbek Latin name, or its id where unknown.
    pub fn name(&self, id: MahallaId) -> String {
        self.get(id).map_or_else(
            || format!("mahalla {id}"),
            |m| m.mahalla.names.uz_latn.clone(),
        )
    }
}

/// The mahallas within `scope`.
pub(crate) async fn load_mahallas(state: &AppState, scope: &Scope) -> ApiResult<Mahallas> {
    Ok(Mahallas::new(
        state.store.list_mahallas_in_scope(scope).await?,
    ))
}

/// The incidents within `scope` in `[from, to)`, as the analytics read them.
pub(crate) async fn load_incidents(
    state: &AppState,
    scope: &Scope,
    period: Period,
) -> ApiResult<Vec<IncidentRecord>> {
    let facts = state
        .store
        .incident_facts(scope, period.start, period.end, MAX_INCIDENTS as u32 + 1)
        .await?;
    if facts.len() > MAX_INCIDENTS {
        return Err(ApiError::bad_request(
            format!("more than {MAX_INCIDENTS} incidents lie in area {scope} and this period"),
            "narrow the area or shorten the period",
        ));
    }
    Ok(facts
        .into_iter()
        .map(|f| IncidentRecord {
            at: f.occurred_at,
            mahalla: f.mahalla,
            category: f.category,
            source: f.source,
            point: f.point.map(|p| [p.lon, p.lat]),
        })
        .collect())
}

/// What the analytics refused, as a 400: the message says what could not be used.
pub(crate) fn analytics_error(e: analytics::Error) -> ApiError {
    ApiError::bad_request(
        format!("the analysis cannot run on this selection: {e}"),
        "change the period, the area or the parameters the message names",
    )
}

/// Runs CPU-heavy work (permutations, kernels) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("finish the analysis", &e))?
}

/// A computed view that can be exported: what its audit entry names.
pub(crate) trait Exported {
    /// `crime-free`, `trends`, `hotspots`.
    const KIND: &'static str;
    fn place(&self) -> &Place;
    fn period(&self) -> Period;
    /// Rows (or features) the export holds.
    fn rows(&self) -> usize;
}

/// `view` after its export in `format` is recorded in the audit log (`analytics.export`, with
/// the area, the caller's scope, the period and the number of rows).
pub(crate) async fn audited<V: Exported>(
    state: &AppState,
    me: &CurrentUser,
    view: V,
    format: &str,
) -> ApiResult<V> {
    let period = view.period();
    state
        .store
        .audit_append(
            &me.actor(),
            "analytics.export",
            &format!("analytics:{}", V::KIND),
            &json!({
                "format": format,
                "area": view.place().scope.to_string(),
                "scope": me.user.scope.to_string(),
                "from": period.start,
                "to": period.end,
                "rows": view.rows(),
            }),
        )
        .await?;
    Ok(view)
}

/// A CSV download.
pub(crate) fn csv_response(filename: &'static str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, filename),
        ],
        body,
    )
        .into_response()
}

/// A GeoJSON FeatureCollection.
pub(crate) fn geojson_response(features: Vec<serde_json::Value>) -> Response {
    let body = json!({ "type": "FeatureCollection", "features": features });
    ([(CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response()
}

/// Appends one CSV line: numbers as they are (a negative z-score stays a number), text quoted
/// where needed and disarmed where a spreadsheet would run it as a formula.
pub(crate) fn csv_line(out: &mut String, fields: &[String]) {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.parse::<f64>().is_ok() {
                f.clone()
            } else {
                crate::api::csv_field(f)
            }
        })
        .collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

/// A number for CSV: empty when absent or not finite.
pub(crate) fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(String::new, |x| x.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_local_midnight_and_bad_ones_are_named() {
        let t = parse_time("from", "2024-03-01").unwrap();
        assert_eq!(t, "2024-02-29T19:00:00Z".parse().unwrap());
        assert_eq!(local_date(t), "2024-03-01");
        assert_eq!(
            parse_time("to", "2024-03-01T00:00:00+05:00").unwrap(),
            t,
            "an RFC 3339 time is taken as it is"
        );
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "yesterday",
            "2024-3-1",
            "01-03-2024",
        ] {
            let e = parse_time("from", bad).unwrap_err();
            assert!(e.error.contains("from="), "{bad}: {}", e.error);
        }
        let march = last_whole_month("2024-04-15T12:00:00Z".parse().unwrap());
        assert_eq!(local_date(march.start), "2024-03-01");
        assert_eq!(local_date(march.end), "2024-04-01");
        let jan = last_whole_month("2024-01-31T20:00:00Z".parse().unwrap());
        assert_eq!(
            local_date(jan.start),
            "2024-01-01",
            "1 February in Tashkent"
        );
    }

    #[test]
    fn periods_need_both_ends_in_order() {
        let q = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(period_pair(&q(&[]), "from", "to").unwrap().is_none());
        assert!(period_pair(&q(&[("from", "2024-01-01")]), "from", "to").is_err());
        let e = period_pair(
            &q(&[("from", "2024-02-01"), ("to", "2024-01-01")]),
            "from",
            "to",
        )
        .unwrap_err();
        assert!(e.error.contains("is not before"), "{}", e.error);
        assert!(
            period_pair(
                &q(&[("from", "2000-01-01"), ("to", "2024-01-01")]),
                "from",
                "to"
            )
            .is_err()
        );
        let s = sources_param(&q(&[("sources", "public,camera")]), SourceSet::all()).unwrap();
        assert!(s.contains(Source::Public) && !s.contains(Source::Patrol));
        assert!(sources_param(&q(&[("sources", "public,police")]), SourceSet::all()).is_err());
        assert_eq!(
            categories_param(&q(&[("categories", "all")])).unwrap(),
            None
        );
    }
}
