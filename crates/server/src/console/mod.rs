//! The web console: server-rendered HTML pages under `/console/...`, plus `/login`.
//!
//! - Pages are written by hand with [`html::Html`], which escapes every piece of text and takes
//!   markup only from string literals (see docs/design/011-console.md for why not a template
//!   crate).
//! - Every page answers with a strict Content-Security-Policy: no inline script or style, nothing
//!   from another origin. The only script is `/console/assets/console.js`, served from the binary.
//! - A logged-out request is redirected to `/login`. Roles and scopes are checked exactly as in
//!   the API, mostly by calling the same functions (`api::review`, `api::set_status`,
//!   `api::incident_in_scope`) and the same scoped store queries.
//! - Forms carry the session's CSRF token in a hidden `_csrf` field, checked like the API's
//!   `X-CSRF-Token` header against the hash the session keeps.
//!
//! Adding a page: write a module with its handlers (taking a [`Viewer`], calling
//! `v.require(ROLES)?`, returning [`page`]), add its routes to [`endpoints`] and its
//! [`NavItem`] to [`NAV`]. Nothing else needs to change.
use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::extract::rejection::FormRejection;
use axum::http::header::{HeaderName, HeaderValue, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use domain::{Mahalla, MahallaId, Role, Scope, Timestamp};

use self::html::Html;
use crate::AppState;
use crate::api::{AUDIT_READERS, INCIDENT_READERS, REVIEWERS};
use crate::auth::{CurrentUser, csrf_for, csrf_matches, session_of, session_token};
use crate::error::ApiError;
use crate::html;

mod analysis;
mod attachments;
mod audit;
mod bank_keys;
mod camera_page;
mod cameras;
mod campaigns;
pub mod html;
mod incidents;
mod login;
mod map;
mod new_incident;
mod patrols;
mod period_reports;
mod reports;
mod review;
mod roadmaps;
mod users;

/// One console route: registered with the router and described in the OpenAPI document from
/// this one entry.
pub(crate) struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub router: MethodRouter<AppState>,
}

fn ep(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    router: MethodRouter<AppState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        router,
    }
}

/// Every console route.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        ep("GET", "/", "Redirects to the console", get(root)),
        ep("GET", "/login", "Login form", get(login::form)),
        ep("POST", "/login", "Log in (form)", post(login::submit)),
        ep("POST", "/logout", "Log out (form)", post(login::logout)),
        ep(
            "GET",
            "/console",
            "The console's first page for the user's role",
            get(home),
        ),
        ep(
            "GET",
            "/console/assets/console.css",
            "The console's style sheet",
            get(css),
        ),
        ep(
            "GET",
            "/console/assets/console.js",
            "The console's script",
            get(js),
        ),
        ep(
            "GET",
            "/console/assets/icon.svg",
            "The console's icon",
            get(icon),
        ),
        ep(
            "GET",
            "/console/review",
            "Review queue",
            get(review::page_get),
        ),
        ep(
            "POST",
            "/console/review/{id}",
            "Confirm or dismiss an event (form)",
            post(review::submit),
        ),
        ep(
            "GET",
            "/console/incidents",
            "Incidents, with filters",
            get(incidents::list),
        ),
        ep(
            "GET",
            "/console/incidents/{id}",
            "One incident with its history",
            get(incidents::detail),
        ),
        ep(
            "POST",
            "/console/incidents/{id}/status",
            "Change an incident's status (form)",
            post(incidents::change_status),
        ),
        ep(
            "GET",
            "/console/map",
            "Map of mahallas and incidents",
            get(map::page_get),
        ),
        ep("GET", "/console/users", "Users", get(users::page_get)),
        ep(
            "POST",
            "/console/users",
            "Create a user (form)",
            post(users::create),
        ),
        ep(
            "POST",
            "/console/users/{id}/disabled",
            "Disable or enable a user (form)",
            post(users::set_disabled),
        ),
        ep(
            "GET",
            "/console/audit",
            "Audit log with chain verification",
            get(audit::page_get),
        ),
        ep(
            "GET",
            "/console/cameras",
            "Cameras with their health and the precision of their rules",
            get(cameras::page_get),
        ),
        ep(
            "POST",
            "/console/cameras",
            "Register a camera (form)",
            post(cameras::create),
        ),
        ep(
            "GET",
            "/console/reports",
            "Citizen reports waiting for moderation",
            get(reports::page_get),
        ),
        ep(
            "POST",
            "/console/reports/{id}/moderate",
            "Accept or reject a citizen report (form)",
            post(reports::moderate),
        ),
        ep(
            "GET",
            "/console/cameras/{id}",
            "One camera: health, settings, rules TOML and the zone editor over its snapshot",
            get(camera_page::page_get),
        ),
        ep(
            "POST",
            "/console/cameras/{id}",
            "Change a camera's settings and rules (form)",
            post(camera_page::save),
        ),
        ep(
            "GET",
            "/console/assets/zones.js",
            "The zone editor's script",
            get(camera_page::zones_js),
        ),
        ep(
            "GET",
            "/console/incidents/new",
            "Form to record an incident by hand",
            get(new_incident::form),
        ),
        ep(
            "POST",
            "/console/incidents/new",
            "Record an incident by hand (form)",
            post(new_incident::submit),
        ),
        ep(
            "POST",
            "/console/incidents/{id}/attachments",
            "Attach a file to an incident (multipart/form-data form with _csrf and file)",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::attachments::MAX_UPLOAD_BODY_BYTES,
            )),
        ),
        ep(
            "GET",
            "/console/campaigns",
            "Fraud campaigns touching the user's scope",
            get(campaigns::list),
        ),
        ep(
            "GET",
            "/console/campaigns/{id}",
            "One fraud campaign with its time line, indicators and reports",
            get(campaigns::detail),
        ),
        ep(
            "GET",
            "/console/fraud-reports",
            "Victims' fraud reports waiting for moderation",
            get(campaigns::queue),
        ),
        ep(
            "POST",
            "/console/fraud-reports/{id}/moderate",
            "Accept or reject a victim's fraud report (form)",
            post(campaigns::moderate),
        ),
        ep(
            "GET",
            "/console/period-reports",
            "Period reports: pick an area and a period, open HTML, PDF or CSV",
            get(period_reports::page_get),
        ),
        ep(
            "GET",
            analysis::crimefree::PATH,
            "Crime-free and red mahallas with a map",
            get(analysis::crimefree::page_get),
        ),
        ep(
            "GET",
            analysis::trends::PATH,
            "Trends per source against the previous period and a year before",
            get(analysis::trends::page_get),
        ),
        ep(
            "GET",
            analysis::hotspots::PATH,
            "Tested hot spots with their forecast score",
            get(analysis::hotspots::page_get),
        ),
        ep(
            "GET",
            "/console/patrols",
            "Patrol plans, patrol logs and patrol time against harm",
            get(patrols::page_get),
        ),
        ep(
            "POST",
            "/console/patrols/plans",
            "Plan a shift's patrols (form)",
            post(patrols::create_plan),
        ),
        ep(
            "GET",
            "/console/patrols/plans/{id}",
            "One patrol plan as a timetable per unit",
            get(patrols::plan_page),
        ),
        ep(
            "POST",
            "/console/patrols/logs",
            "Log patrol time (form)",
            post(patrols::create_log),
        ),
        ep(
            "GET",
            "/console/roadmaps",
            "Roadmap progress by region, district and mahalla, overdue measures",
            get(roadmaps::page_get),
        ),
        ep(
            "POST",
            "/console/roadmaps",
            "Start a roadmap (form)",
            post(roadmaps::create),
        ),
        ep(
            "GET",
            "/console/roadmaps/{id}",
            "One roadmap with its measures",
            get(roadmaps::detail),
        ),
        ep(
            "POST",
            "/console/roadmaps/{id}/measures",
            "Add a measure (form)",
            post(roadmaps::create_measure),
        ),
        ep(
            "POST",
            "/console/roadmaps/measures/{id}/status",
            "Change a measure's status with evidence (form)",
            post(roadmaps::set_status),
        ),
        ep(
            "POST",
            "/console/roadmaps/measures/{id}/verify",
            "Verify a measure's evidence (form)",
            post(roadmaps::verify_measure),
        ),
        ep(
            "GET",
            "/console/bank-keys",
            "Bank API keys for the payee check",
            get(bank_keys::page_get),
        ),
        ep(
            "POST",
            "/console/bank-keys",
            "Issue a bank API key (form; the key is shown once)",
            post(bank_keys::create),
        ),
        ep(
            "POST",
            "/console/bank-keys/{id}/revoke",
            "Revoke a bank API key (form)",
            post(bank_keys::revoke),
        ),
    ]
}

/// An API error shown above a page's content: what was wrong, and what to do.
pub(crate) fn error_banner(e: &ApiError) -> Html {
    let mut h = Html::new();
    html!(h; "<p class=\"banner error\" role=\"alert\"><strong>" {e.error} "</strong><br>" {e.fix} "</p>");
    h
}

/// A value of an API answer as page text: strings without quotes, a missing value as a dash.
pub(crate) fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "–".to_owned(),
        serde_json::Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// An entry of the navigation bar, shown to the roles that may open it.
pub struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
    /// The label in Uzbek (Latin), shown beside the English one.
    pub label_uz: &'static str,
    pub roles: &'static [Role],
}

pub const ADMINS: &[Role] = &[Role::Admin];

/// The navigation bar, in order. `/console` opens the first entry the user's role may see.
pub const NAV: &[NavItem] = &[
    NavItem {
        path: "/console/review",
        label: "Review queue",
        label_uz: "Ko'rib chiqish",
        roles: REVIEWERS,
    },
    NavItem {
        path: "/console/incidents",
        label: "Incidents",
        label_uz: "Hodisalar",
        roles: INCIDENT_READERS,
    },
    NavItem {
        path: "/console/map",
        label: "Map",
        label_uz: "Xarita",
        roles: INCIDENT_READERS,
    },
    NavItem {
        path: "/console/cameras",
        label: "Cameras",
        label_uz: "Kameralar",
        roles: crate::cameras::CAMERA_READERS,
    },
    NavItem {
        path: "/console/reports",
        label: "Citizen reports",
        label_uz: "Fuqarolar murojaatlari",
        roles: crate::reports::REPORT_MODERATORS,
    },
    NavItem {
        path: "/console/users",
        label: "Users",
        label_uz: "Foydalanuvchilar",
        roles: ADMINS,
    },
    NavItem {
        path: "/console/audit",
        label: "Audit log",
        label_uz: "Audit jurnali",
        roles: AUDIT_READERS,
    },
    NavItem {
        path: "/console/campaigns",
        label: "Campaigns",
        label_uz: "Firibgarlik kampaniyalari",
        roles: crate::campaigns::CAMPAIGN_READERS,
    },
    NavItem {
        path: "/console/fraud-reports",
        label: "Fraud reports",
        label_uz: "Firibgarlik xabarlari",
        roles: crate::fraud::FRAUD_MODERATORS,
    },
    NavItem {
        path: "/console/period-reports",
        label: "Reports",
        label_uz: "Hisobotlar",
        roles: crate::period_reports::REPORT_READERS,
    },
    NavItem {
        path: analysis::crimefree::PATH,
        label: "Crime-free",
        label_uz: "Jinoyatsiz mahallalar",
        roles: crate::analysis::ANALYTICS_READERS,
    },
    NavItem {
        path: analysis::trends::PATH,
        label: "Trends",
        label_uz: "Dinamika",
        roles: crate::analysis::ANALYTICS_READERS,
    },
    NavItem {
        path: analysis::hotspots::PATH,
        label: "Hot spots",
        label_uz: "Qaynoq nuqtalar",
        roles: crate::analysis::ANALYTICS_READERS,
    },
    NavItem {
        path: "/console/patrols",
        label: "Patrols",
        label_uz: "Patrullar",
        roles: crate::patrols::PATROL_READERS,
    },
    NavItem {
        path: "/console/roadmaps",
        label: "Roadmaps",
        label_uz: "Yo'l xaritalari",
        roles: crate::roadmaps::ROADMAP_READERS,
    },
    NavItem {
        path: "/console/bank-keys",
        label: "Bank API keys",
        label_uz: "Bank API kalitlari",
        roles: crate::bank_keys::KEY_ADMINS,
    },
];

/// The policy every console page is served with: this origin's own script, style sheet and
/// images only; no inline script or style; forms only to this origin; no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn security_headers(h: &mut HeaderMap) {
    let pairs: [(&str, &str); 5] = [
        ("content-security-policy", CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ];
    for (k, v) in pairs {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
}

/// An HTML response with the console's security headers.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    security_headers(h);
    resp
}

/// `303 See Other` to `to` (a path of this server).
pub(crate) fn redirect(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    security_headers(resp.headers_mut());
    resp
}

/// The logged-in user of a console request. Without a live session the request is redirected
/// to `/login` (and comes back to the page it asked for after logging in).
pub struct Viewer {
    pub me: CurrentUser,
    session: store::Session,
    /// The session's CSRF token, for the forms of the page.
    csrf: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let found = session_of(state, &parts.headers)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let token = session_token(&parts.headers).unwrap_or_default();
        match found {
            Some((user, session, token_hash)) => Ok(Viewer {
                csrf: csrf_for(token),
                me: CurrentUser { user, token_hash },
                session,
            }),
            None => {
                let back = parts.uri.path();
                Err(
                    if back.starts_with("/console/") && parts.method == axum::http::Method::GET {
                        redirect(&format!("/login?next={back}"))
                    } else {
                        redirect("/login")
                    },
                )
            }
        }
    }
}

impl Viewer {
    /// A page for `roles` only; others get a 403 page that says which roles it needs.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        self.me.require(roles).map_err(PageError::from)
    }

    /// Whether the user's role may open a navigation entry.
    pub fn may(&self, roles: &[Role]) -> bool {
        roles.contains(&self.me.user.role)
    }

    /// The form's `_csrf` field must be this session's CSRF token; 403 otherwise.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if csrf_matches(Some(sent), &self.session) {
            Ok(())
        } else {
            Err(PageError(ApiError::new(
                StatusCode::FORBIDDEN,
                "this form did not carry this session's security token",
                "reload the page and submit the form again",
            )))
        }
    }

    /// The hidden field every form of the console carries.
    pub fn csrf_field(&self) -> Html {
        let mut h = Html::new();
        html!(h; "<input type=\"hidden\" name=\"_csrf\" value=\"" {self.csrf} "\">");
        h
    }
}

/// A failed console request: an HTML page with what went wrong and what to do, and the status
/// the API would have answered.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<store::Error> for PageError {
    fn from(e: store::Error) -> Self {
        PageError(ApiError::from(e))
    }
}

impl From<FormRejection> for PageError {
    fn from(r: FormRejection) -> Self {
        PageError(ApiError::bad_request(
            r.body_text(),
            "submit the form from the console page again",
        ))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let mut body = Html::new();
        html!(body;
            "<div class=\"error-page\"><p class=\"banner error\"><strong>" {e.error} "</strong><br>"
            {e.fix} "</p><p><a href=\"/console\">Back to the console</a> · <a href=\"/login\">Log in</a></p></div>");
        html_response(e.status, layout(None, "", "Something went wrong", &body))
    }
}

pub type PageResult = Result<Response, PageError>;

/// A console page: the navigation for the viewer's role, the title and the body.
pub(crate) fn page(v: &Viewer, active: &str, title: &str, body: &Html) -> Response {
    html_response(StatusCode::OK, layout(Some(v), active, title, body))
}

/// The whole document around `body`.
pub(crate) fn layout(v: Option<&Viewer>, active: &str, title: &str, body: &Html) -> String {
    let mut h = Html::new();
    html!(h;
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" {title} " · posbon</title>"
        "<link rel=\"stylesheet\" href=\"/console/assets/console.css\">"
        "<link rel=\"icon\" href=\"/console/assets/icon.svg\" type=\"image/svg+xml\">"
        "<script src=\"/console/assets/console.js\" defer></script>"
        "</head><body><header class=\"top\"><a class=\"brand\" href=\"/console\">posbon</a>");
    if let Some(v) = v {
        h.raw("<nav>");
        for item in NAV.iter().filter(|i| v.may(i.roles)) {
            h.raw("<a href=\"")
                .text(item.path)
                .raw(if item.path == active {
                    "\" class=\"active\" aria-current=\"page\">"
                } else {
                    "\">"
                });
            html!(h; {item.label} "<span class=\"uz\">" {item.label_uz} "</span></a>");
        }
        html!(h;
            "</nav><div class=\"who\"><span>" {v.me.user.display_name} " · " {v.me.user.role}
            " · " {v.me.user.scope} "</span>"
            "<form method=\"post\" action=\"/logout\">" [v.csrf_field()]
            "<button type=\"submit\" class=\"link\">Log out</button></form></div>");
    }
    html!(h; "</header><main><h1>" {title} "</h1>" [body] "</main>"
        "<footer>posbon · events, not identities · every view of evidence is audited</footer>"
        "</body></html>");
    h.into_string()
}

async fn root() -> Response {
    redirect("/console")
}

/// `/console`: the first page the user's role may open.
async fn home(v: Viewer) -> Response {
    match NAV.iter().find(|i| v.may(i.roles)) {
        Some(i) => redirect(i.path),
        None => {
            PageError(ApiError::forbidden("no console page is open to your role")).into_response()
        }
    }
}

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
const ICON: &str = include_str!("assets/icon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

/// A timestamp as people read it: `2024-05-01 09:30:12 UTC`.
pub(crate) fn when(t: Timestamp) -> String {
    let s = t.to_string();
    match (s.get(..10), s.get(11..19)) {
        (Some(d), Some(tm)) => format!("{d} {tm} UTC"),
        _ => s,
    }
}

/// A word from the API (`in_progress`) as a label (`in progress`).
pub(crate) fn label(word: &str) -> String {
    word.replace('_', " ")
}

/// Mahallas looked up once per page.
#[derive(Default)]
pub(crate) struct Places {
    cache: HashMap<MahallaId, Option<Mahalla>>,
}

impl Places {
    pub async fn get(
        &mut self,
        state: &AppState,
        id: MahallaId,
    ) -> Result<Option<&Mahalla>, PageError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.cache.entry(id) {
            slot.insert(state.store.get_mahalla(id).await?);
        }
        Ok(self.cache.get(&id).and_then(Option::as_ref))
    }

    /// The mahalla's Uzbek name, marked when synthetic; its id when unknown.
    pub async fn name(&mut self, state: &AppState, id: MahallaId) -> Result<String, PageError> {
        Ok(match self.get(state, id).await? {
            Some(m) => mahalla_name(m),
            None => format!("mahalla {id}"),
        })
    }
}

/// The name shown for a mahalla (its Uzbek Latin name).
pub(crate) fn mahalla_name(m: &Mahalla) -> String {
    m.names.uz_latn.clone()
}

/// Every mahalla within `scope`, by district and id.
pub(crate) async fn mahallas_in_scope(
    state: &AppState,
    scope: &Scope,
) -> Result<Vec<Mahalla>, PageError> {
    let s = &state.store;
    let mut out = Vec::new();
    match *scope {
        Scope::National => {
            for r in s.list_regions().await? {
                for d in s.list_districts(r.id).await? {
                    out.extend(s.list_mahallas(d.id).await?);
                }
            }
        }
        Scope::Region(r) => {
            for d in s.list_districts(r).await? {
                out.extend(s.list_mahallas(d.id).await?);
            }
        }
        Scope::District(d) => out.extend(s.list_mahallas(d).await?),
        Scope::Mahalla(m) => out.extend(s.get_mahalla(m).await?),
    }
    Ok(out)
}

/// A `<select>` of words with one chosen.
pub(crate) fn select_words(
    name: &'static str,
    words: &[&str],
    chosen: Option<&str>,
    any: Option<&'static str>,
) -> Html {
    let mut h = Html::new();
    html!(h; "<select name=\"" {name} "\" id=\"" {name} "\">");
    if let Some(any) = any {
        html!(h; "<option value=\"\">" {any} "</option>");
    }
    for w in words {
        h.raw("<option value=\"").text(w).raw("\"");
        if chosen == Some(*w) {
            h.raw(" selected");
        }
        html!(h; ">" {label(w)} "</option>");
    }
    h.raw("</select>");
    h
}
