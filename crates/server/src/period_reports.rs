//! `GET /api/period-reports?area=district:ID&period=2026-Q3&format=html|pdf|csv`: the period
//! report of a mahalla, district or region (issue 4 item 7), gathered from the store, computed
//! with the `analytics` crate, rendered by the `reporting` crate and audited with its SHA-256.
//! `posbon report` (the CLI) calls [`produce`] and [`audit`] too, so both give the same bytes.
//! See docs/design/019-period-reports.md.
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{Area, DistrictId, MahallaId, RegionId, Role, Scope, Timestamp};
use reporting::Format;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::Store;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};

mod compute;
mod period;

use period::days_label;
pub use period::{AreaRef, ReportPeriod, recent};

/// Who may produce period reports: those who may read incidents (not auditors).
pub const REPORT_READERS: &[Role] = crate::api::INCIDENT_READERS;

/// The area as found in the store: where it lies, its name and the names above it.
pub(crate) struct ResolvedArea {
    pub area: Area,
    pub info: reporting::AreaInfo,
}

async fn resolve(store: &Store, a: AreaRef) -> store::Result<Option<ResolvedArea>> {
    let region_name = |r: Option<domain::Region>| r.map(|r| r.names.uz_latn);
    Ok(match a {
        AreaRef::Region(id) => store.get_region(RegionId(id)).await?.map(|r| ResolvedArea {
            area: Area::Region { region: r.id },
            info: reporting::AreaInfo {
                level: reporting::Level::Region,
                id,
                name: r.names.uz_latn,
                within: Vec::new(),
            },
        }),
        AreaRef::District(id) => match store.get_district(DistrictId(id)).await? {
            None => None,
            Some(d) => Some(ResolvedArea {
                area: Area::District {
                    region: d.region,
                    district: d.id,
                },
                info: reporting::AreaInfo {
                    level: reporting::Level::District,
                    id,
                    name: d.names.uz_latn,
                    within: region_name(store.get_region(d.region).await?)
                        .into_iter()
                        .collect(),
                },
            }),
        },
        AreaRef::Mahalla(id) => {
            let (Some(m), Some(area)) = (
                store.get_mahalla(MahallaId(id)).await?,
                store.mahalla_area(MahallaId(id)).await?,
            ) else {
                return Ok(None);
            };
            let mut within: Vec<String> = region_name(store.get_region(area.region()).await?)
                .into_iter()
                .collect();
            within.extend(
                store
                    .get_district(m.district)
                    .await?
                    .map(|d| d.names.uz_latn),
            );
            Some(ResolvedArea {
                area,
                info: reporting::AreaInfo {
                    level: reporting::Level::Mahalla,
                    id,
                    name: m.names.uz_latn,
                    within,
                },
            })
        }
    })
}

/// A report made: its bytes and what the audit log records of it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub format: Format,
    pub area: String,
    pub period: String,
    pub file_name: String,
}

/// The area and period of a report request, checked: the area exists within `scope` and the
/// period has ended by `now`. Errors: 400 naming the bad parameter and how to fix it; 404 for
/// an area that does not exist within the scope.
pub(crate) async fn check(
    store: &Store,
    scope: &Scope,
    area_raw: &str,
    period_raw: &str,
    now: Timestamp,
) -> ApiResult<(ResolvedArea, ReportPeriod)> {
    let area_ref = AreaRef::parse(area_raw).map_err(|e| {
        ApiError::bad_request(e, "send area as mahalla:ID, district:ID or region:ID")
    })?;
    let rp = ReportPeriod::parse(period_raw).map_err(|e| {
        ApiError::bad_request(
            e,
            "send period as YYYY-MM, YYYY-Qn (n 1 to 4) or YYYY-Hn (n 1 or 2)",
        )
    })?;
    let period = rp.period();
    if period.start > now {
        return Err(ApiError::bad_request(
            format!("period {} is in the future", rp.label()),
            "ask for a period that has ended",
        ));
    }
    if period.end > now {
        return Err(ApiError::bad_request(
            format!(
                "period {} has not ended yet (it ends on {} at midnight, Tashkent time)",
                rp.label(),
                days_label(period.end)
            ),
            "ask for a period that has ended: a report of part of a period would be compared with whole ones",
        ));
    }
    match resolve(store, area_ref).await? {
        Some(r) if scope.covers(&r.area) => Ok((r, rp)),
        // National users see every area, so "unknown" tells them nothing they could not know;
        // for others an area outside their scope answers exactly as one that does not exist.
        None if *scope == Scope::National => Err(ApiError::bad_request(
            format!("area {} does not exist", area_ref.key()),
            "pick an area id from GET /api/geography/regions or /api/geography/mahallas.geojson",
        )),
        _ => Err(ApiError::not_found("area", area_ref.key())),
    }
}

/// The report of `area_raw` over `period_raw` in `format_raw` (`html`, `pdf`, `csv`) for
/// someone whose scope is `scope`, at `now`; errors as [`check`]'s.
pub async fn produce(
    store: &Store,
    scope: &Scope,
    area_raw: &str,
    period_raw: &str,
    format_raw: &str,
    now: Timestamp,
) -> ApiResult<Rendered> {
    let format = Format::parse(format_raw).ok_or_else(|| {
        ApiError::bad_request(
            format!("format {format_raw:?} is not html, pdf or csv"),
            "send format=html, format=pdf or format=csv",
        )
    })?;
    let (resolved, rp) = check(store, scope, area_raw, period_raw, now).await?;
    let data = compute::gather(store, &resolved, rp).await?;
    tokio::task::spawn_blocking(move || {
        let data = compute::compute(data)?;
        let bytes = reporting::render(&data, format);
        Ok(Rendered {
            sha256: hex::encode(Sha256::digest(&bytes)),
            file_name: reporting::file_name(&data, format),
            bytes,
            format,
            area: data.area.key(),
            period: data.period.label.clone(),
        })
    })
    .await
    .map_err(|e| ApiError::internal("make the report", &e))?
}

/// Writes the audit entry of a report made by `actor`: area, period, format, size and SHA-256.
pub async fn audit(store: &Store, actor: &str, r: &Rendered) -> store::Result<()> {
    store
        .audit_append(
            actor,
            "period_report.export",
            &r.area,
            &json!({
                "area": r.area,
                "period": r.period,
                "format": r.format.as_str(),
                "bytes": r.bytes.len(),
                "sha256": r.sha256,
            }),
        )
        .await?;
    Ok(())
}

/// `GET /api/period-reports?area=&period=&format=`
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    me.require(REPORT_READERS)?;
    let param = |name: &str, example: &str| {
        q.get(name).map(String::as_str).ok_or_else(|| {
            ApiError::bad_request(
                format!("query parameter {name} is missing"),
                format!("send {name}, e.g. {name}={example}"),
            )
        })
    };
    let area = param("area", "district:1726262")?;
    let period = param("period", "2026-Q3")?;
    let format = q.get("format").map_or("html", String::as_str);
    let r = produce(
        &state.store,
        &me.user.scope,
        area,
        period,
        format,
        state.store_now(),
    )
    .await?;
    audit(&state.store, &me.actor(), &r).await?;
    Ok(response(r))
}

fn response(r: Rendered) -> Response {
    let disposition = match r.format {
        Format::Html => format!("inline; filename=\"{}\"", r.file_name),
        _ => format!("attachment; filename=\"{}\"", r.file_name),
    };
    let mut resp = (
        StatusCode::OK,
        [
            (CONTENT_TYPE, r.format.content_type().to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        r.bytes,
    )
        .into_response();
    let h = resp.headers_mut();
    let pairs = [
        ("x-report-sha256", r.sha256.as_str()),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        // The page carries its own <style> and inline SVG, nothing else.
        (
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    ];
    for (k, v) in pairs {
        if let Ok(v) = axum::http::HeaderValue::from_str(v) {
            h.insert(axum::http::HeaderName::from_static(k), v);
        }
    }
    resp
}

/// This endpoint's OpenAPI description (merged into [`crate::openapi::document`]).
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    let err = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    vec![(
        "/api/period-reports",
        json!({ "get": {
            "summary": "A period report of a mahalla, district or region",
            "description": "Counts by source and category against the previous period and a year before (exact tests), crime-free mahallas with the number expected by chance, Gi* hot spots with a forecast check (PAI and PEI* of last period's hot spots on this period beside the baseline), roadmap progress (not recorded yet), minors, youth and women affected (aggregate), the fraud and cybercrime share, a map. HTML (self-contained, printable), PDF or tidy CSV (section,metric,breakdown,value). The same data give the same bytes; the SHA-256 is in the X-Report-SHA256 header and the audit log (period_report.export). The area must lie within the caller's scope and the period must have ended. Roles: admin, operator, inspector, analyst.",
            "security": [{ "session": [] }],
            "parameters": [
                { "name": "area", "in": "query", "required": true, "description": "mahalla:ID, district:ID or region:ID", "schema": { "type": "string", "pattern": "^(mahalla|district|region):[0-9]+$" } },
                { "name": "period", "in": "query", "required": true, "description": "a month (2026-10), quarter (2026-Q3) or half year (2026-H1), Tashkent time; it must have ended", "schema": { "type": "string", "pattern": "^[0-9]{4}-([0-9]{2}|[Qq][1-4]|[Hh][12])$" } },
                { "name": "format", "in": "query", "required": false, "description": "html (default), pdf or csv", "schema": { "enum": ["html", "pdf", "csv"] } }
            ],
            "responses": {
                "200": { "description": "the report", "content": {
                    "text/html": { "schema": { "type": "string" } },
                    "application/pdf": { "schema": { "type": "string", "format": "binary" } },
                    "text/csv": { "schema": { "type": "string" } } } },
                "400": err("a parameter is missing or malformed, the period has not ended, or (national scope) the area does not exist"),
                "401": err("not logged in, or the session expired"),
                "403": err("the role may not do this"),
                "404": err("no such area within the caller's scope"),
            }
        }}),
    )]
}
