//! Geography endpoints: regions and districts (public geography, for every logged-in role),
//! mahallas as GeoJSON within the caller's scope (the console's map), and the administrators'
//! import of a mahalla list (CSV or GeoJSON), all rows or none.
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Area, Role, Scope};
use registry::{DistrictIndex, Format, ImportErrors};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};

/// Who may import mahallas.
pub const IMPORTERS: &[Role] = &[Role::Admin];

pub(crate) fn geometry_value(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// `GET /api/geography/regions[?geometry=true]`: every region with its districts; with
/// `geometry=true` each region's outline (GeoJSON geometry) too.
pub async fn regions(
    State(state): State<AppState>,
    _me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let with_geometry = match q.get("geometry").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                format!("query parameter geometry={other:?} is neither true nor false"),
                "send geometry=true to include region outlines, or leave it out",
            ));
        }
    };
    let regions = state.store.list_regions().await?;
    let districts = state.store.list_all_districts().await?;
    let out: Vec<Value> = regions
        .iter()
        .map(|r| {
            let ds: Vec<Value> = districts
                .iter()
                .filter(|d| d.region == r.id)
                .map(|d| json!({ "id": d.id, "names": d.names }))
                .collect();
            let mut v = json!({ "id": r.id, "names": r.names, "districts": ds });
            if with_geometry {
                v["geometry"] = geometry_value(r.geometry.as_deref());
            }
            v
        })
        .collect();
    Ok(Json(json!({ "regions": out })))
}

/// `GET /api/geography/mahallas.geojson`: a FeatureCollection of the mahallas within the
/// caller's scope, each with its id, names, district, region, population and synthetic flag.
pub async fn mahallas_geojson(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<Response> {
    let rows = state.store.list_mahallas_in_scope(&me.user.scope).await?;
    let features: Vec<Value> = rows
        .iter()
        .map(|r| {
            let m = &r.mahalla;
            json!({
                "type": "Feature",
                "id": m.id,
                "geometry": geometry_value(m.geometry.as_deref()),
                "properties": {
                    "id": m.id,
                    "name": m.names.uz_latn,
                    "names": m.names,
                    "district": m.district,
                    "region": r.region,
                    "population": m.population,
                    "synthetic": m.synthetic,
                }
            })
        })
        .collect();
    let body = json!({ "type": "FeatureCollection", "features": features });
    Ok(([(CONTENT_TYPE, "application/geo+json")], body.to_string()).into_response())
}

/// A 400 listing every bad row: `{error, fix, count, rows: [{row, unit, error, fix}]}`.
fn rows_rejected(e: &ImportErrors) -> Response {
    let body = json!({
        "error": format!(
            "{} of {} rows have errors ({} in all); nothing was imported",
            e.bad_rows, e.rows, e.count
        ),
        "fix": "correct the rows listed under \"rows\" and send the whole file again",
        "count": e.count,
        "rows": e.errors,
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// `POST /api/geography/mahallas/import`: the body is a CSV (`Content-Type: text/csv`) or
/// GeoJSON (`application/geo+json` or `application/json`) list of mahallas. Every row is
/// checked first; any bad row answers 400 with all of them and nothing is written. Admins
/// only; an admin whose scope is not national may import only into districts within it.
pub async fn import_mahallas(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    me.require(IMPORTERS)?;
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = Format::from_content_type(ct).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("a mahalla list cannot be read from Content-Type {ct:?}"),
            "send text/csv for CSV, or application/geo+json for a GeoJSON FeatureCollection",
        )
    })?;
    let body = body.map_err(|r| {
        let status = r.status();
        let fix = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "send at most {} bytes; split the list by district and import each part",
                crate::MAX_BODY_BYTES
            )
        } else {
            "send the file as the request body".to_owned()
        };
        ApiError::new(status, r.body_text(), fix)
    })?;
    let districts = state.store.list_all_districts().await?;
    let index = DistrictIndex::new(&districts);
    let rows = match registry::parse_mahallas(format, &body, &index) {
        Ok(rows) => rows,
        Err(e) => return Ok(rows_rejected(&e)),
    };
    if me.user.scope != Scope::National {
        let region_of: HashMap<_, _> = districts.iter().map(|d| (d.id, d.region)).collect();
        let outside: Vec<registry::RowError> = rows
            .iter()
            .filter(|r| {
                let d = r.mahalla.district;
                !me.user.scope.covers(&Area::District {
                    region: region_of[&d],
                    district: d,
                })
            })
            .map(|r| registry::RowError {
                row: r.row,
                unit: match format {
                    Format::Csv => registry::mahallas::Unit::Row,
                    Format::GeoJson => registry::mahallas::Unit::Feature,
                },
                error: format!("district {} is outside your scope ({})", r.mahalla.district, me.user.scope),
                fix: "import only mahallas of districts within your scope, or ask a national administrator".into(),
            })
            .collect();
        if !outside.is_empty() {
            let n = outside.len();
            return Ok(rows_rejected(&ImportErrors {
                errors: outside
                    .into_iter()
                    .take(registry::mahallas::MAX_ERRORS)
                    .collect(),
                count: n,
                bad_rows: n,
                rows: rows.len(),
            }));
        }
    }
    let source = json!({
        "via": "http",
        "format": match format { Format::Csv => "csv", Format::GeoJson => "geojson" },
        "bytes": body.len(),
        "sha256": hex::encode(Sha256::digest(&body)),
    });
    let new: Vec<domain::NewMahalla> = rows.iter().map(|r| r.mahalla.clone()).collect();
    let actor = domain::Actor::User(me.user.id);
    let done = match state.store.import_mahallas(&actor, &source, &new).await {
        Ok(done) => done,
        Err(store::Error::Row { index, error, .. }) => {
            let row = rows.get(index).map_or(index, |r| r.row);
            return Ok(rows_rejected(&ImportErrors {
                errors: vec![registry::RowError {
                    row,
                    unit: match format {
                        Format::Csv => registry::mahallas::Unit::Row,
                        Format::GeoJson => registry::mahallas::Unit::Feature,
                    },
                    error: error.to_string(),
                    fix: "correct this row and send the whole file again".into(),
                }],
                count: 1,
                bad_rows: 1,
                rows: rows.len(),
            }));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(json!({
        "rows": rows.len(),
        "inserted": done.inserted,
        "updated": done.updated,
        "ids": done.ids,
    }))
    .into_response())
}

/// The OpenAPI paths of these endpoints, added to [`crate::openapi::document`].
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    let err = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let sec = json!([{ "session": [] }]);
    vec![
        (
            "/api/geography/regions",
            json!({ "get": {
                "summary": "Regions and their districts",
                "description": "Every region (id: SOATO code) with its names in Uzbek Latin, Uzbek Cyrillic, Russian and English, and its districts. geometry=true adds each region's outline. Any logged-in role.",
                "security": sec,
                "parameters": [{ "name": "geometry", "in": "query", "required": false, "description": "true to include outlines", "schema": { "type": "boolean" } }],
                "responses": {
                    "200": { "description": "{regions: [{id, names, districts: [{id, names}], geometry?}]}", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "400": err("bad query parameter"),
                    "401": err("not logged in, or the session expired"),
                }
            }}),
        ),
        (
            "/api/geography/mahallas.geojson",
            json!({ "get": {
                "summary": "Mahallas within the caller's scope, as GeoJSON",
                "description": "A FeatureCollection; each feature's properties: id, name, names, district, region, population (or null), synthetic. Synthetic mahallas were made by the demo generator and are no real places. Any logged-in role.",
                "security": sec,
                "responses": {
                    "200": { "description": "GeoJSON", "content": { "application/geo+json": { "schema": { "type": "object" } } } },
                    "401": err("not logged in, or the session expired"),
                }
            }}),
        ),
        (
            "/api/geography/mahallas/import",
            json!({ "post": {
                "summary": "Import a list of mahallas",
                "description": "CSV (text/csv; header: name, name_uz_cyrl, name_ru, name_en, district, population, lon+lat or geometry as WKT or GeoJSON) or a GeoJSON FeatureCollection (application/geo+json; properties name, district, population). A mahalla of the same district and name is updated, others are added. If any row is bad, nothing is written and the 400 lists every bad row. Audited. Admins only.",
                "security": sec,
                "requestBody": { "required": true, "content": {
                    "text/csv": { "schema": { "type": "string" } },
                    "application/geo+json": { "schema": { "type": "object" } }
                } },
                "responses": {
                    "200": { "description": "{rows, inserted, updated, ids}", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "400": { "description": "{error, fix, count, rows: [{row, unit, error, fix}]}: nothing was imported", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "401": err("not logged in, or the session expired"),
                    "403": err("not an admin, or the X-CSRF-Token header is missing or wrong"),
                    "413": err("the body is over the size limit"),
                    "415": err("neither CSV nor GeoJSON"),
                }
            }}),
        ),
    ]
}
