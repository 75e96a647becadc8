//! Recording an incident by hand (admins, operators, inspectors): what a patrol found, what an
//! inspector saw, what someone reported in person. The form's values become the API's
//! `CreateIncident` and go through `api::record_incident`, the same role, scope and store checks
//! (and audit entry) as `POST /api/incidents`. A refused form comes back with every value kept
//! and each problem named above it.
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use domain::{Affected, Category, GeoPoint, MahallaId, Source};
use serde::Deserialize;

use super::html::Html;
use super::{
    PageError, PageResult, Viewer, error_banner, html_response, layout, mahalla_name,
    mahallas_in_scope, redirect, select_words,
};
use crate::AppState;
use crate::api::{CreateIncident, INCIDENT_WRITERS, record_incident};
use crate::error::ApiError;
use crate::html;
use crate::reports::{FORM_UTC_OFFSET_SECONDS, parse_form_time};

/// The form as typed, so that a refused one comes back filled in.
#[derive(Deserialize, Default)]
pub struct IncidentForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    occurred_at: String,
    #[serde(default)]
    mahalla: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    affected_minor: Option<String>,
    #[serde(default)]
    affected_youth: Option<String>,
    #[serde(default)]
    affected_woman: Option<String>,
    #[serde(default)]
    narrative: String,
}

/// The sources a person records by hand: camera incidents come only from confirmed events.
fn manual_sources() -> Vec<&'static str> {
    Source::ALL
        .iter()
        .filter(|s| **s != Source::Camera)
        .map(|s| s.as_str())
        .collect()
}

/// A word from a `<select>`, or what is wrong with it.
fn chosen<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    if raw.trim().is_empty() {
        return Err(ApiError::bad_request(
            format!("no {what} was chosen"),
            format!("pick the {what} from the list"),
        ));
    }
    raw.trim().parse::<T>().map_err(|e| {
        ApiError::bad_request(
            format!("{what}: {e}"),
            format!("pick the {what} from the list"),
        )
    })
}

/// The point from the two coordinate fields: both or neither.
fn point(lat: &str, lon: &str) -> Result<Option<GeoPoint>, ApiError> {
    let number = |name: &str, v: &str| {
        v.trim().parse::<f64>().map_err(|_| {
            ApiError::bad_request(
                format!("{name} {v:?} is not a number"),
                "write decimal degrees (latitude 41.3111, longitude 69.2797), or leave both empty",
            )
        })
    };
    match (lat.trim().is_empty(), lon.trim().is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(GeoPoint {
            lat: number("latitude", lat)?,
            lon: number("longitude", lon)?,
        })),
        _ => Err(ApiError::bad_request(
            "only one coordinate of the point was given",
            "give both latitude and longitude, or neither",
        )),
    }
}

/// The API's request from the form, or every problem with it.
fn request(f: &IncidentForm) -> Result<CreateIncident, Vec<ApiError>> {
    let category = chosen::<Category>("category", &f.category);
    let source = chosen::<Source>("source", &f.source);
    let occurred_at = if f.occurred_at.trim().is_empty() {
        Err(ApiError::bad_request(
            "when it happened is missing",
            "give the date and time, e.g. 2024-05-01T09:30 (Tashkent time)",
        ))
    } else {
        parse_form_time(&f.occurred_at)
    };
    let mahalla = f.mahalla.trim().parse::<i64>().map(MahallaId).map_err(|_| {
        ApiError::bad_request(
            if f.mahalla.trim().is_empty() {
                "no mahalla was chosen".to_owned()
            } else {
                format!("mahalla {:?} is not a mahalla id", f.mahalla)
            },
            "pick the mahalla from the list",
        )
    });
    let point = point(&f.lat, &f.lon);
    match (category, source, occurred_at, mahalla, point) {
        (Ok(category), Ok(source), Ok(occurred_at), Ok(mahalla), Ok(point)) => Ok(CreateIncident {
            category,
            source,
            occurred_at,
            mahalla,
            point,
            affected: Affected {
                minor: f.affected_minor.is_some(),
                youth: f.affected_youth.is_some(),
                woman: f.affected_woman.is_some(),
            },
            narrative: f.narrative.clone(),
        }),
        (c, s, o, m, p) => Err([c.err(), s.err(), o.err(), m.err(), p.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// Now, as the form's local date and time (Tashkent).
fn local_now(state: &AppState) -> String {
    let t = state
        .store_now()
        .saturating_add_micros(i64::from(FORM_UTC_OFFSET_SECONDS) * 1_000_000)
        .to_string();
    t.get(..16).unwrap_or_default().to_owned()
}

async fn render(
    state: &AppState,
    v: &Viewer,
    f: &IncidentForm,
    errors: &[ApiError],
    status: StatusCode,
) -> PageResult {
    let mut body = Html::new();
    for e in errors {
        body.push(&error_banner(e));
    }
    let cats: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let occurred = nonempty(&f.occurred_at).unwrap_or_else(|| local_now(state));
    let mahallas = mahallas_in_scope(state, &v.me.user.scope).await?;
    html!(body; "<section class=\"card wide\"><form method=\"post\" action=\"/console/incidents/new\" class=\"grid-form\" id=\"new-incident\">"
        [v.csrf_field()]
        "<label>Category " [select_words("category", &cats, nonempty(&f.category).as_deref(), Some("choose"))] "</label>"
        "<label>Source " [select_words("source", &manual_sources(), nonempty(&f.source).as_deref(), Some("choose"))] "</label>"
        "<label>When it happened (Tashkent time) <input type=\"datetime-local\" name=\"occurred_at\" id=\"occurred_at\" required value=\"" {occurred} "\"></label>"
        "<label>Mahalla <select name=\"mahalla\" id=\"mahalla\"><option value=\"\">choose</option>");
    let only = (mahallas.len() == 1).then(|| mahallas[0].id.to_string());
    let picked = nonempty(&f.mahalla).or(only);
    for m in &mahallas {
        body.raw("<option value=\"").text(m.id).raw("\"");
        if picked.as_deref() == Some(m.id.to_string().as_str()) {
            body.raw(" selected");
        }
        html!(body; ">" {mahalla_name(m)} "</option>");
    }
    html!(body; "</select></label>"
        "<label>Latitude (optional) <input name=\"lat\" id=\"lat\" inputmode=\"decimal\" placeholder=\"41.3111\" value=\"" {f.lat} "\"></label>"
        "<label>Longitude (optional) <input name=\"lon\" id=\"lon\" inputmode=\"decimal\" placeholder=\"69.2797\" value=\"" {f.lon} "\"></label>"
        "<fieldset><legend>Affected (no names are recorded)</legend>");
    for (name, text, on) in [
        (
            "affected_minor",
            "a minor (under 18)",
            f.affected_minor.is_some(),
        ),
        (
            "affected_youth",
            "a young person (18 to 30)",
            f.affected_youth.is_some(),
        ),
        ("affected_woman", "a woman", f.affected_woman.is_some()),
    ] {
        html!(body; "<label><input type=\"checkbox\" name=\"" {name} "\" id=\"" {name} "\" value=\"on\"");
        if on {
            body.raw(" checked");
        }
        html!(body; "> " {text} "</label> ");
    }
    html!(body; "</fieldset>"
        "<label>What happened <textarea name=\"narrative\" id=\"narrative\" rows=\"6\" cols=\"80\" maxlength=\""
        {domain::incident::MAX_NARRATIVE_CHARS} "\">" {f.narrative} "</textarea></label>"
        "<button type=\"submit\">Record</button></form>"
        "<p class=\"muted\">Recorded with status new, in your name, and written to the audit log. Files can be attached on the incident's page. Incidents seen by a camera are recorded by confirming the event in the review queue.</p></section>");
    Ok(html_response(
        status,
        layout(Some(v), "/console/incidents", "Record an incident", &body),
    ))
}

/// `GET /console/incidents/new`
pub async fn form(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(INCIDENT_WRITERS)?;
    render(&state, &v, &IncidentForm::default(), &[], StatusCode::OK).await
}

/// `POST /console/incidents/new`
pub async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<IncidentForm>, FormRejection>,
) -> PageResult {
    v.require(INCIDENT_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let req = match request(&f) {
        Ok(r) => r,
        Err(errors) => return render(&state, &v, &f, &errors, StatusCode::BAD_REQUEST).await,
    };
    match record_incident(&state, &v.me, req).await {
        Ok(i) => Ok(redirect(&format!("/console/incidents/{}?created=1", i.id))),
        Err(e) if e.status.is_client_error() => {
            let status = e.status;
            render(&state, &v, &f, &[e], status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> IncidentForm {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(fields).unwrap()).unwrap()
    }

    #[test]
    fn a_complete_form_becomes_the_apis_request() {
        let r = request(&form(&[
            ("category", "theft"),
            ("source", "patrol"),
            ("occurred_at", "2024-05-01T09:30"),
            ("mahalla", "7"),
            ("lat", "41.3"),
            ("lon", "69.25"),
            ("affected_youth", "on"),
            ("narrative", "a bicycle"),
        ]))
        .unwrap_or_else(|e| panic!("{:?}", e));
        assert_eq!(r.category, Category::Theft);
        assert_eq!(r.source, Source::Patrol);
        assert_eq!(r.occurred_at.to_string(), "2024-05-01T04:30:00.000000Z");
        assert_eq!(r.mahalla, MahallaId(7));
        assert_eq!(
            r.point,
            Some(GeoPoint {
                lat: 41.3,
                lon: 69.25
            })
        );
        assert_eq!(
            r.affected,
            Affected {
                minor: false,
                youth: true,
                woman: false
            }
        );
    }

    #[test]
    fn every_problem_is_named() {
        let errors = request(&form(&[
            ("category", "arson"),
            ("source", ""),
            ("occurred_at", "yesterday"),
            ("mahalla", ""),
            ("lat", "41.3"),
        ]))
        .err()
        .unwrap();
        let text: Vec<String> = errors.iter().map(|e| e.error.clone()).collect();
        assert_eq!(errors.len(), 5, "{text:?}");
        assert!(text[0].contains("arson"), "{text:?}");
        assert!(text[1].contains("no source"), "{text:?}");
        assert!(text[2].contains("yesterday"), "{text:?}");
        assert!(text[3].contains("no mahalla"), "{text:?}");
        assert!(text[4].contains("one coordinate"), "{text:?}");
        assert!(!manual_sources().contains(&"camera"));
    }
}
