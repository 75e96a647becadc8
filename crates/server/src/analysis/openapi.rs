//! The OpenAPI description of the analytics endpoints, added to [`crate::openapi::document`].
use serde_json::{Value, json};

use crate::openapi::{authed, err, ok_json, op, secured};

fn query(name: &str, desc: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": schema })
}

fn text(name: &str, desc: &str) -> Value {
    query(name, desc, json!({ "type": "string" }))
}

/// `from`, `to`, `area`.
fn common() -> Vec<Value> {
    vec![
        text(
            "from",
            "a date (2024-03-01: midnight in Uzbekistan, UTC+5) or an RFC 3339 time; with to; default: the last whole calendar month",
        ),
        text("to", "exclusive; a date or an RFC 3339 time; with from"),
        text(
            "area",
            "national, region:ID, district:ID or mahalla:ID; default the caller's scope; outside it: 403",
        ),
        text(
            "categories",
            "all (default) or a comma-separated list of incident categories",
        ),
    ]
}

fn sources(default: &str) -> Value {
    text(
        "sources",
        &format!(
            "all or a comma-separated list of public, patrol, camera, inspector; default {default}"
        ),
    )
}

fn hotspot_params() -> Vec<Value> {
    let mut p = common();
    p.extend([
        sources("public,camera,inspector (patrol finds follow where patrols already go)"),
        query("method", "gistar-mahalla (default; Gi* on mahalla polygons with contiguity weights built from them), gistar-grid (Gi* on square cells over incident points) or kde (kernel density on the same cells)",
            json!({ "enum": ["gistar-mahalla", "gistar-grid", "kde"] })),
        query("permutations", "conditional permutations per place for Gi* (0..9999; 0: analytical p-values; default: as many as the work limit of 60 million place-permutations allows, from 999 to 9999, since the false-discovery-rate correction over many places needs p-values below what 999 permutations can give)", json!({ "type": "integer", "minimum": 0, "maximum": super::hotspots::MAX_PERMUTATIONS })),
        query("cell_m", "grid cell size in metres (25..10000, default 250); at most 20000 cells", json!({ "type": "number" })),
        query("bandwidth_m", "KDE bandwidth in metres (default 2 cells)", json!({ "type": "number" })),
        query("flag_pct", "KDE: the percentage of the grid's area the map flags (default 5); Gi* maps flag their places hot at 95% or more", json!({ "type": "number" })),
        text("test_from", "start of the held-out period the map is scored on (at or after to); with test_to"),
        text("test_to", "end (exclusive) of the held-out period"),
    ]);
    p
}

fn get(summary: &str, description: &str, ok: Value, params: Vec<Value>) -> Value {
    json!({ "get": secured(op(summary, description, authed(json!({
        "200": ok,
        "400": err("bad date, from not before to, unknown method or source, too many permutations or cells, or a selection the analysis cannot use; the message says which"),
        "404": err("the area does not exist (national scope only)"),
    }), false)), params, None) })
}

fn csv(desc: &str) -> Value {
    json!({ "description": desc, "content": { "text/csv": { "schema": { "type": "string" } } } })
}

fn geojson(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/geo+json": { "schema": { "type": "object" } } } })
}

const ROLES: &str = "Roles: admin, operator, inspector, analyst, each within their scope.";

/// The analytics' paths.
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    let obj = json!({ "type": "object" });
    let mut cf = common();
    cf.push(sources(
        "all (crime-free then means nothing known from anyone)",
    ));
    let mut tr = common();
    tr.truncate(3);
    let cf_desc = format!(
        "Crime-free mahallas of the area in [from, to): count, how many chance alone would give, and per mahalla its exposure (population, or the district's mean where unknown, with exposure_basis), P(0) at its district's rate without it (p_low), q_low after Benjamini-Hochberg, surprising_zero; the red list (significantly above the region's rate, ranked by an empirical-Bayes rate). Reference rates use the whole region around the area. {ROLES}"
    );
    let tr_desc = format!(
        "Counts and rates of the area in [from, to) against the previous period and the same period a year before, per source (public, patrol, camera, inspector: never summed) and category, exact conditional binomial tests with Benjamini-Hochberg; up/down only when q < alpha. series: counts per period for the 12 periods up to this one, per source. {ROLES}"
    );
    let hs_desc = format!(
        "A hot-spot map of the area in [from, to) (Gi* with conditional permutations and false-discovery-rate correction, or kernel density), and with test_from/test_to its score on that held-out period: PAI and PEI* of the method and of the baseline (last period's counts per place, flagging the same area) and which is preferred. Runs on the blocking pool. {ROLES}"
    );
    vec![
        (
            "/api/analytics/crime-free",
            get(
                "Crime-free and red mahallas",
                &cf_desc,
                ok_json(
                    "{area, reference_area, method, report: {period, sources, mixes_public_and_patrol, rate_unit, alpha, mahallas, incidents, exposure_imputed, crime_free: {count, expected, expected_sd, surprising, mahallas}, red: {overall_rate, qualifying, mahallas}, rows: [{mahalla, name, synthetic, status, count, by_source, population, exposure, exposure_basis, rate, eb_rate, reference, reference_rate, expected, p_low, q_low, crime_free, surprising_zero, p_high, q_high, red, ...}]}}",
                    obj.clone(),
                ),
                cf.clone(),
            ),
        ),
        (
            "/api/analytics/crime-free.csv",
            get(
                "Crime-free and red mahallas as CSV",
                &format!("One row per mahalla of the area. Audited (analytics.export). {ROLES}"),
                csv("CSV"),
                cf.clone(),
            ),
        ),
        (
            "/api/analytics/crime-free.geojson",
            get(
                "Crime-free and red mahallas as GeoJSON",
                &format!(
                    "The area's mahallas with their rows as properties (status: surprising_zero, crime_free, red, other). Audited (analytics.export). {ROLES}"
                ),
                geojson("GeoJSON"),
                cf,
            ),
        ),
        (
            "/api/analytics/trends",
            get(
                "Trends per source and category",
                &tr_desc,
                ok_json(
                    "{area, method, report: {current, previous, year_before, mahallas, population, rate_unit, alpha, tests, by_source: {public|patrol|camera|inspector: {all_categories, by_category}}}, series: {bins, by_source}}",
                    obj.clone(),
                ),
                tr.clone(),
            ),
        ),
        (
            "/api/analytics/trends.csv",
            get(
                "Trends as CSV",
                &format!("One row per source and category. Audited (analytics.export). {ROLES}"),
                csv("CSV"),
                tr,
            ),
        ),
        (
            "/api/analytics/hotspots",
            get(
                "Tested hot spots and their forecast score",
                &hs_desc,
                ok_json(
                    "{area, method, method_text, period, held_out, sources, mixes_public_and_patrol, permutations, flag_confidence, grid, classes, places: [{mahalla|cell, name, ring, area_km2, count, held_out, density_per_km2, z, p_sim, p_fdr, class, flagged}], score: {held_out, flagged, baseline, forecast: {method: {pai, pei_star, ...}, baseline: {pai, pei_star, ...}, pai_ratio, preferred}} | null, notes}",
                    obj,
                ),
                hotspot_params(),
            ),
        ),
        (
            "/api/analytics/hotspots.csv",
            get(
                "Hot spots as CSV",
                &format!("One row per mahalla or cell. Audited (analytics.export). {ROLES}"),
                csv("CSV"),
                hotspot_params(),
            ),
        ),
        (
            "/api/analytics/hotspots.geojson",
            get(
                "Hot spots as GeoJSON",
                &format!(
                    "Mahalla polygons or grid cells with their statistics. Audited (analytics.export). {ROLES}"
                ),
                geojson("GeoJSON"),
                hotspot_params(),
            ),
        ),
    ]
}
