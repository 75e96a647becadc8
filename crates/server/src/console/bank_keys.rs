//! Bank API keys (administrators with the national scope): the keys with their bank, prefix,
//! rate, state and use since the server started; a form that issues a key and shows it once
//! (posbon keeps only its SHA-256); a button that revokes one (at once on this server). Issuing
//! and revoking go through the API's own functions, so the checks and the audit entries
//! (`bank_key.create`, `bank_key.revoke`) are the same (docs/design/021-payee-check.md).
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::Actor;
use serde::Deserialize;

use super::html::Html;
use super::{PageError, PageResult, Viewer, error_banner, html_response, layout, redirect, when};
use crate::AppState;
use crate::bank_keys::{DEFAULT_RATE, issue, require_key_admin, revoke_key};
use crate::error::ApiError;
use crate::html;

const PATH: &str = "/console/bank-keys";

async fn render(state: &AppState, v: &Viewer, banner: Html, status: StatusCode) -> PageResult {
    let keys = state.store.list_bank_keys().await?;
    let counts = state.payee.keys.counts();
    let mut body = Html::new();
    body.push(&banner);
    body.raw("<p class=\"muted\">Banks call <code>POST /api/payee-check</code> with one of these keys to ask, before a payment, whether its card, phone number or IBAN was named in victims' fraud reports. Checks are counted per key (since the server started), not audited one by one.</p>");
    body.raw("<table class=\"list\" id=\"bank-keys\"><thead><tr><th>#</th><th>Bank</th><th>Key starts</th><th>Checks a second</th><th>Issued</th><th>State</th><th>Checks</th><th>Refused (rate)</th><th></th></tr></thead><tbody>");
    for k in &keys {
        let (checks, limited) = counts
            .iter()
            .find(|c| c.0 == k.id)
            .map_or((0, 0), |c| (c.1, c.2));
        html!(body; "<tr id=\"bank-key-" {k.id} "\"><td>" {k.id} "</td><td>" {k.bank} "</td><td><code>" {k.prefix} "…</code></td><td>"
            {k.rate_per_second} "</td><td>" {when(k.created_at)} " by " {k.created_by} "</td><td>");
        match k.revoked_at {
            Some(at) => {
                html!(body; "revoked " {when(at)} " by " {k.revoked_by.as_deref().unwrap_or("–")});
            }
            None => {
                body.raw("active");
            }
        }
        html!(body; "</td><td>" {checks} "</td><td>" {limited} "</td><td>");
        if !k.revoked() {
            html!(body; "<form method=\"post\" action=\"/console/bank-keys/" {k.id} "/revoke\" class=\"inline\">" [v.csrf_field()]
                "<button type=\"submit\" class=\"dismiss\">Revoke</button></form>");
        }
        body.raw("</td></tr>");
    }
    body.raw("</tbody></table>");
    if keys.is_empty() {
        body.raw("<p class=\"empty\">No bank has a key yet.</p>");
    }
    html!(body; "<section class=\"card\"><h2>New key <span class=\"uz\">Yangi kalit</span></h2>"
        "<form method=\"post\" action=\"/console/bank-keys\" class=\"grid-form\" id=\"new-bank-key\">" [v.csrf_field()]
        "<label>Bank <input name=\"bank\" required maxlength=\"200\"></label>"
        "<label>Checks a second <input name=\"rate_per_second\" type=\"number\" min=\"1\" max=\"100000\" value=\"" {DEFAULT_RATE} "\"></label>"
        "<button type=\"submit\">Issue</button></form>"
        "<p class=\"muted\">The key is shown once, on the next page; posbon keeps only its SHA-256. Give it to the bank over a channel you trust.</p></section>");
    Ok(html_response(
        status,
        layout(Some(v), PATH, "Bank API keys", &body),
    ))
}

/// `GET /console/bank-keys`
pub async fn page_get(State(state): State<AppState>, v: Viewer) -> PageResult {
    require_key_admin(&v.me)?;
    render(&state, &v, Html::new(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    bank: String,
    #[serde(default)]
    rate_per_second: String,
}

/// `POST /console/bank-keys`: issues a key and shows it once.
pub async fn create(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<IssueForm>, FormRejection>,
) -> PageResult {
    require_key_admin(&v.me)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let rate = match f.rate_per_second.trim() {
        "" => Ok(DEFAULT_RATE),
        r => r.parse::<u32>().map_err(|_| {
            ApiError::bad_request(
                format!("{r:?} is not a whole number of checks a second"),
                format!("write a number from 1 to {}", store::MAX_BANK_KEY_RATE),
            )
        }),
    };
    let issued = match rate {
        Ok(rate) => issue(&state.store, &f.bank, rate, &Actor::User(v.me.user.id)).await,
        Err(e) => Err(e),
    };
    match issued {
        Ok((k, fresh)) => {
            state.payee.keys.invalidate();
            let mut banner = Html::new();
            html!(banner; "<div class=\"banner ok\" role=\"status\" id=\"issued\"><p>Issued key " {k.id} " for <strong>" {k.bank}
                "</strong> (" {k.rate_per_second} " checks a second). Give the bank this key now; it is not shown again and not stored:</p>"
                "<p><code class=\"password\" id=\"new-key\">" {fresh.key} "</code></p></div>");
            render(&state, &v, banner, StatusCode::OK).await
        }
        Err(e) if e.status.is_client_error() => {
            render(&state, &v, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /console/bank-keys/{id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> PageResult {
    require_key_admin(&v.me)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    match revoke_key(&state, &v.me, &raw).await {
        Ok(_) => Ok(redirect(PATH)),
        Err(e) if e.status == StatusCode::CONFLICT => {
            render(&state, &v, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}
