//! `/login` and `/logout` for the console. The login form goes through the same
//! [`auth::start_session`] as `POST /api/login` (rate limit, Argon2id, audit), so the console
//! adds no second way in.
//!
//! The form itself is protected against login CSRF (a foreign page logging the browser into the
//! attacker's account) by a double-submitted token: showing the form sets a short-lived
//! `posbon_login` cookie (HttpOnly, SameSite=Strict, path `/login`) and puts the same random
//! value in a hidden field; a submission whose field and cookie differ is refused.
use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::html::Html;
use super::{PageError, PageResult, Viewer, html_response, layout, redirect};
use crate::AppState;
use crate::auth::{self, CLEAR_SESSION_COOKIE, random_hex};
use crate::html;

const LOGIN_COOKIE: &str = "posbon_login";

/// Where to go after logging in: only a console path, else the console's first page.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/console")
                && !n.contains("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/console",
    }
}

fn login_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_COOKIE)
        .map(|(_, v)| v)
}

/// The form, with a fresh login token set as a cookie and put in the form.
fn form_page(
    status: StatusCode,
    error: Option<(&str, &str)>,
    username: &str,
    next: &str,
) -> Response {
    let token = random_hex(16);
    let mut body = Html::new();
    body.raw("<div class=\"login\">");
    if let Some((e, fix)) = error {
        html!(body; "<p class=\"banner error\" role=\"alert\" id=\"login-error\"><strong>" {e} "</strong><br>" {fix} "</p>");
    }
    html!(body;
        "<form method=\"post\" action=\"/login\" class=\"card\">"
        "<input type=\"hidden\" name=\"_login\" value=\"" {token} "\">"
        "<input type=\"hidden\" name=\"next\" value=\"" {next} "\">"
        "<label for=\"username\">Username <span class=\"uz\">Foydalanuvchi nomi</span></label>"
        "<input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus value=\"" {username} "\">"
        "<label for=\"password\">Password <span class=\"uz\">Parol</span></label>"
        "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
        "<button type=\"submit\" id=\"login-submit\">Log in <span class=\"uz\">Kirish</span></button>"
        "</form><p class=\"muted\">posbon detects events in places, never identities. Every login and every view of evidence is recorded in the audit log.</p></div>");
    let mut resp = html_response(status, layout(None, "", "Log in", &body));
    let cookie =
        format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=900");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the form; a user already logged in goes on to the console.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = safe_next(q.next.as_deref());
    if auth::session_of(&state, &headers).await?.is_some() {
        return Ok(redirect(next));
    }
    Ok(form_page(StatusCode::OK, None, "", next))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_login")]
    login_token: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks the password as the API does; errors (wrong password, the rate limit)
/// are shown on the form with the API's own words.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> PageResult {
    let Form(f) = form?;
    let next = safe_next(f.next.as_deref()).to_owned();
    let cookie = login_cookie(&headers).unwrap_or_default();
    if f.login_token.len() != 32 || cookie != f.login_token {
        return Ok(form_page(
            StatusCode::FORBIDDEN,
            Some((
                "the login form had expired or did not come from this site",
                "log in again with the form below",
            )),
            "",
            &next,
        ));
    }
    match auth::start_session(&state, peer.ip(), &f.username, f.password).await {
        Ok(s) => {
            let mut resp = redirect(&next);
            resp.headers_mut()
                .append(SET_COOKIE, auth::session_cookie(&state, &s.token)?);
            resp.headers_mut().append(
                SET_COOKIE,
                HeaderValue::from_static(
                    "posbon_login=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            Ok(resp)
        }
        Err(e)
            if e.status == StatusCode::UNAUTHORIZED
                || e.status == StatusCode::TOO_MANY_REQUESTS =>
        {
            let shown: String = f.username.chars().take(64).collect();
            Ok(form_page(e.status, Some((&e.error, &e.fix)), &shown, &next))
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /logout`: ends the session (audited as `auth.logout`) and shows the login form.
pub async fn logout(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> PageResult {
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    state.store.delete_session(&v.me.token_hash).await?;
    let actor = v.me.actor();
    state
        .store
        .audit_append(&actor, "auth.logout", &actor, &json!({ "via": "console" }))
        .await?;
    let mut resp = redirect("/login");
    resp.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static(CLEAR_SESSION_COOKIE));
    Ok(resp.into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_within_the_console() {
        assert_eq!(safe_next(Some("/console/map")), "/console/map");
        assert_eq!(
            safe_next(Some("/console/incidents?status=new")),
            "/console/incidents?status=new"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/console//evil",
            "/api/incidents.csv",
            "/console\\x",
            "/console x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console", "{bad}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}
