//! Citizen reports waiting for moderation (admin, operator, inspector; the report's mahalla in
//! scope): what was reported, when and where, and a form to accept it (it becomes an incident of
//! source `public`) or reject it with one of the fixed public reasons. The decision goes through
//! the API's own handler, so roles, scope, CSRF and the audit entry are exactly the API's.
//! Contacts are not shown here: `GET /api/reports/{id}` shows one, audited.
use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use domain::{Category, RejectReason};
use serde::Deserialize;

use super::html::Html;
use super::show as s;
use super::{PageResult, Viewer, page, redirect};
use crate::AppState;
use crate::extract::ApiJson;
use crate::html;
use crate::reports::{ModerateRequest, REPORT_MODERATORS};

/// `GET /console/reports`
pub async fn page_get(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(REPORT_MODERATORS)?;
    let list = crate::reports::list(State(state), v.me.clone(), Query(HashMap::new()))
        .await?
        .0;
    let mut body = Html::new();
    body.raw("<p class=\"muted\">Reports sent through the public page (/report). None counts until a person accepts it; accepting opens an incident of source <em>public</em>.</p>");
    body.raw("<table class=\"list\" id=\"reports\"><thead><tr><th>Code</th><th>Category</th><th>When</th><th>Mahalla</th><th>Affected</th><th>What happened</th><th>Status</th><th>Decision</th></tr></thead><tbody>");
    let empty = Vec::new();
    let rows = list["reports"].as_array().unwrap_or(&empty);
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    for r in rows {
        let a = &r["affected"];
        let affected: Vec<&str> = ["minor", "youth", "woman"]
            .into_iter()
            .filter(|k| a[*k].as_bool() == Some(true))
            .collect();
        html!(body; "<tr id=\"report-" {s(&r["id"])} "\"><td><code>" {s(&r["code"])} "</code></td><td>" {s(&r["category"])}
            "</td><td>" {s(&r["occurred_at"])} "</td><td>" {s(&r["mahalla"])} "</td><td>" {affected.join(", ")}
            "</td><td>" {s(&r["narrative"])} "</td><td>" {s(&r["status"])} "</td><td>"
            "<form method=\"post\" action=\"/console/reports/" {s(&r["id"])} "/moderate\" class=\"inline\">" [v.csrf_field()]
            "<input type=\"hidden\" name=\"decision\" value=\"accept\">"
            [super::select_words("category", &categories, r["category"].as_str(), None)]
            "<button type=\"submit\">Accept</button></form> "
            "<form method=\"post\" action=\"/console/reports/" {s(&r["id"])} "/moderate\" class=\"inline\">" [v.csrf_field()]
            "<input type=\"hidden\" name=\"decision\" value=\"reject\">");
        body.raw("<select name=\"reason\">");
        for reason in RejectReason::ALL {
            html!(body; "<option value=\"" {reason.as_str()} "\">" {reason.as_str()} "</option>");
        }
        body.raw(
            "</select><button type=\"submit\" class=\"dismiss\">Reject</button></form></td></tr>",
        );
    }
    body.raw("</tbody></table>");
    if rows.is_empty() {
        body.raw("<p class=\"muted\">No report is waiting.</p>");
    }
    Ok(page(&v, "/console/reports", "Citizen reports", &body))
}

#[derive(Deserialize)]
pub struct ModerateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    decision: String,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    reason: Option<RejectReason>,
}

impl ModerateForm {
    /// The API's request, once the form's CSRF token is checked (citizen and fraud reports).
    pub(super) fn checked(self, v: &Viewer) -> Result<ModerateRequest, super::PageError> {
        v.check_csrf(&self.csrf)?;
        Ok(ModerateRequest {
            decision: self.decision,
            category: self.category,
            mahalla: None,
            reason: self.reason,
            note: String::new(),
        })
    }
}

/// `POST /console/reports/{id}/moderate`
pub async fn moderate(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    Form(f): Form<ModerateForm>,
) -> PageResult {
    v.require(REPORT_MODERATORS)?;
    let req = f.checked(&v)?;
    // the answer (the report and its incident) is shown by the page redirected to
    let _ = crate::reports::moderate(State(state), v.me.clone(), Path(raw), ApiJson(req)).await?;
    Ok(redirect("/console/reports"))
}
