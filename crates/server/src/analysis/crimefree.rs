//! `GET /api/analytics/crime-free` (and `.csv`, `.geojson`): the crime-free mahallas of an area
//! in a period, how surprising each zero is, and the red list.
//!
//! Reference rates come from the whole region around the area (every mahalla of the country for
//! the national area): a mahalla's zero is judged against its district's rate without it, the red
//! list against the region's overall rate. Only the area's mahallas are listed; what the caller
//! learns of the rest of the region is those aggregate rates, never a record.
use analytics::crimefree::{CrimeFreeQuery, CrimeFreeReport, MahallaRow};
use analytics::data::SourceSet;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::{Scope, Source};
use serde_json::{Value, json};

use super::{
    ANALYTICS_READERS, Mahallas, Params, Place, analytics_error, area_param, audited,
    categories_param, clean, csv_line, csv_response, geojson_response, load_incidents,
    load_mahallas, num, period_param, sources_param,
};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;

pub const METHOD: &str = "A mahalla is crime-free when none of the selected incidents occurred in it in [from, to). How surprising its zero is: P(0) = exp(-expected), expected = its exposure (population, or the district's mean where unknown) times its district's rate without it (the rest of the region if it is alone in its district); q_low is P(X <= count) after Benjamini-Hochberg over the area, and a zero with q_low < alpha is surprising. expected_crime_free is how many zeros chance alone would give. Red: significantly above the region's overall rate (exact Poisson upper tail, Benjamini-Hochberg, q_high < alpha), ranked by an empirical-Bayes rate; mahallas with an unknown population stay off the red list.";

/// A crime-free report with the mahallas it names.
pub struct CrimeFree {
    pub place: Place,
    /// Where reference rates come from (the region around the area, or the country).
    pub reference: Scope,
    pub mahallas: Mahallas,
    pub report: CrimeFreeReport,
}

impl super::Exported for CrimeFree {
    const KIND: &'static str = "crime-free";
    fn place(&self) -> &Place {
        &self.place
    }
    fn period(&self) -> analytics::data::Period {
        self.report.period
    }
    fn rows(&self) -> usize {
        self.report.rows.len()
    }
}

/// Role, parameters, the store's rows and the report; the API and the console share it.
pub(crate) async fn compute(
    state: &AppState,
    me: &CurrentUser,
    q: &Params,
) -> ApiResult<CrimeFree> {
    me.require(ANALYTICS_READERS)?;
    let period = period_param(q, state.store_now())?;
    let place = area_param(state, me, q).await?;
    let sources = sources_param(q, SourceSet::all())?;
    let categories = categories_param(q)?;
    let reference = match place.area {
        None => Scope::National,
        Some(a) => Scope::Region(a.region()),
    };
    let mahallas = load_mahallas(state, &reference).await?;
    let incidents = load_incidents(state, &reference, period).await?;
    let query = CrimeFreeQuery {
        area: place.area,
        sources,
        categories,
        ..CrimeFreeQuery::new(period)
    };
    let report = analytics::crimefree::crime_free(&mahallas.records, &incidents, &query)
        .map_err(analytics_error)?;
    Ok(CrimeFree {
        place,
        reference,
        mahallas,
        report,
    })
}

/// What a row's mahalla is on the map: `surprising_zero`, `crime_free`, `red` or `other`.
pub fn status(r: &MahallaRow) -> &'static str {
    if r.surprising_zero {
        "surprising_zero"
    } else if r.crime_free {
        "crime_free"
    } else if r.red {
        "red"
    } else {
        "other"
    }
}

/// A row as JSON, with the mahalla's name and synthetic flag.
fn row_json(cf: &CrimeFree, r: &MahallaRow) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let (Some(o), Some(m)) = (v.as_object_mut(), cf.mahallas.get(r.mahalla)) {
        o.insert("name".into(), json!(m.mahalla.names.uz_latn));
        o.insert("synthetic".into(), json!(m.mahalla.synthetic));
        o.insert("status".into(), json!(status(r)));
    }
    v
}

/// `GET /api/analytics/crime-free?from=&to=&area=&sources=&categories=`
pub async fn json(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Json<Value>> {
    let cf = compute(&state, &me, &clean(q)).await?;
    let mut report = serde_json::to_value(&cf.report).unwrap_or(Value::Null);
    report["rows"] = Value::Array(cf.report.rows.iter().map(|r| row_json(&cf, r)).collect());
    Ok(Json(json!({
        "area": cf.place.scope.to_string(),
        "reference_area": cf.reference.to_string(),
        "method": METHOD,
        "report": report,
    })))
}

pub const CSV_HEADER: &str = "mahalla_id,name,synthetic,district_id,count,public,patrol,camera,inspector,population,exposure,exposure_basis,rate,eb_rate,rate_unit,reference,reference_rate,expected,p_low,q_low,crime_free,surprising_zero,expected_overall,p_high,q_high,red,red_rank";

/// `GET /api/analytics/crime-free.csv` (audited): one row per mahalla of the area.
pub async fn csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let cf = audited(&state, &me, compute(&state, &me, &clean(q)).await?, "csv").await?;
    let r = &cf.report;
    let unit = serde_json::to_value(r.rate_unit)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for row in &r.rows {
        let by = |s: Source| {
            row.by_source
                .get(&s)
                .map_or_else(String::new, u64::to_string)
        };
        let word = |v: Value| v.as_str().unwrap_or_default().to_owned();
        let rank = r.red.mahallas.iter().position(|m| *m == row.mahalla);
        csv_line(
            &mut out,
            &[
                row.mahalla.to_string(),
                cf.mahallas.name(row.mahalla),
                cf.mahallas
                    .get(row.mahalla)
                    .is_some_and(|m| m.mahalla.synthetic)
                    .to_string(),
                row.district.to_string(),
                row.count.to_string(),
                by(Source::Public),
                by(Source::Patrol),
                by(Source::Camera),
                by(Source::Inspector),
                row.population.map_or_else(String::new, |p| p.to_string()),
                num(Some(row.exposure)),
                word(json!(row.exposure_basis)),
                num(Some(row.rate)),
                num(Some(row.eb_rate)),
                unit.clone(),
                word(json!(row.reference)),
                num(row.reference_rate),
                num(row.expected),
                num(Some(row.p_low)),
                num(Some(row.q_low)),
                row.crime_free.to_string(),
                row.surprising_zero.to_string(),
                num(row.expected_overall),
                num(Some(row.p_high)),
                num(Some(row.q_high)),
                row.red.to_string(),
                rank.map_or_else(String::new, |k| (k + 1).to_string()),
            ],
        );
    }
    Ok(csv_response("attachment; filename=\"crime-free.csv\"", out))
}

/// `GET /api/analytics/crime-free.geojson` (audited): the area's mahallas with their rows.
pub async fn geojson(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let cf = audited(
        &state,
        &me,
        compute(&state, &me, &clean(q)).await?,
        "geojson",
    )
    .await?;
    let r = &cf.report;
    let features = r
        .rows
        .iter()
        .map(|row| {
            let geometry = crate::geography::geometry_value(
                cf.mahallas
                    .get(row.mahalla)
                    .and_then(|m| m.mahalla.geometry.as_deref()),
            );
            json!({ "type": "Feature", "id": row.mahalla, "geometry": geometry, "properties": row_json(&cf, row) })
        })
        .collect();
    Ok(geojson_response(features))
}
