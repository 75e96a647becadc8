//! The audit log (admins and auditors with the national scope, as in the API): entries newest
//! first, paged, and whether the hash chain verifies, walked by the store's `audit_verify` on
//! each view (it streams the log, so memory stays flat; time grows with the log's length).
use axum::extract::{Query, State};
use domain::Scope;
use serde::Deserialize;

use super::html::Html;
use super::{PageError, PageResult, Viewer, page, when};
use crate::AppState;
use crate::api::AUDIT_READERS;
use crate::error::ApiError;
use crate::html;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    after: Option<String>,
}

/// `GET /console/audit?after=SEQ`: the entries after SEQ (by default the newest page).
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    v.require(AUDIT_READERS)?;
    if v.me.user.scope != Scope::National {
        return Err(PageError(ApiError::forbidden(
            "the audit log is not divided by place, so reading it needs the national scope",
        )));
    }
    let head = state.store.audit_head().await?.map_or(0, |h| h.seq);
    let after = match q.after.as_deref().filter(|s| !s.is_empty()) {
        None => (head - PAGE).max(0),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            PageError(ApiError::bad_request(
                format!("after={s:?} is not a sequence number"),
                "use the Older and Newer links",
            ))
        })?,
    };
    let mut body = Html::new();
    match state.store.audit_verify(None).await {
        Ok(s) => {
            let head_text = s.head.map_or_else(|| "empty".to_owned(), |h| h.to_string());
            html!(body; "<p class=\"banner ok\" id=\"chain-status\">Hash chain verified: " {s.count}
                " entries, none altered, removed or reordered. Head <code class=\"hash\">" {head_text}
                "</code> (record it outside the database: <code>posbon audit verify --expect-head</code> checks against it later).</p>");
        }
        Err(store::Error::ChainBroken(b)) => {
            html!(body; "<p class=\"banner error\" id=\"chain-status\"><strong>The hash chain is broken.</strong> " {b}
                ". Run <code>posbon audit verify</code> and investigate before trusting this log.</p>");
        }
        Err(e) => return Err(e.into()),
    }
    let entries = state.store.audit_entries(Some(after), PAGE as u32).await?;
    body.raw("<table class=\"list audit\" id=\"audit\"><thead><tr><th>Seq</th><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Details</th></tr></thead><tbody>");
    for r in entries.iter().rev() {
        let e = &r.entry;
        html!(body; "<tr class=\"a-" {e.action.replace('.', "-")} "\"><td>" {e.seq} "</td><td>" {when(e.at)} "</td><td>" {e.actor}
            "</td><td class=\"action\">" {e.action} "</td><td>" {e.target} "</td><td><code class=\"details\">"
            {domain::audit::canonical_json(&e.details)} "</code></td></tr>");
    }
    body.raw("</tbody></table><p class=\"pager\">");
    if after > 0 {
        html!(body; "<a href=\"/console/audit?after=" {(after - PAGE).max(0)} "\">← Older</a> ");
    }
    if after + PAGE < head {
        html!(body; "<a href=\"/console/audit?after=" {after + PAGE} "\">Newer →</a> <a href=\"/console/audit\">Newest</a>");
    }
    body.raw("</p>");
    Ok(page(&v, "/console/audit", "Audit log", &body))
}
