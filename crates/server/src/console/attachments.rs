//! An incident's attachments on its page: the list with download links (the API's audited
//! download) and, for the roles that record incidents, an upload form (`multipart/form-data`
//! with the session's CSRF token in `_csrf`), which goes through the API's own checks and
//! storage (`crate::attachments`).
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use domain::{Incident, MediaType, UserId};

use super::html::Html;
use super::incidents::render_detail;
use super::{PageError, PageResult, Viewer, error_banner, redirect, when};
use crate::AppState;
use crate::api::INCIDENT_WRITERS;
use crate::attachments::{
    FILE_FIELD, MAX_ATTACHMENT_BYTES, attach, multipart_rejection, read_upload, writable_incident,
};
use crate::html;

/// A size as people read it.
fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1 << 10 => format!("{b} B"),
        b if b < 1 << 20 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// How a photo was redacted, as the list shows it.
fn redaction_note(a: &domain::Attachment) -> String {
    match &a.redaction {
        None => String::new(),
        Some(r) => format!(
            " · faces blurred: {}{}",
            r.faces_blurred,
            if r.original_sealed {
                " (original sealed)"
            } else {
                ""
            }
        ),
    }
}

/// The attachments section of incident `i`'s page.
pub(super) async fn section(
    state: &AppState,
    v: &Viewer,
    i: &Incident,
    user_name: &(dyn Fn(UserId) -> String + Sync),
) -> Result<Html, PageError> {
    let list = state.store.list_attachments(i.id).await?;
    let mut body = Html::new();
    body.raw("<section class=\"card wide\" id=\"attachments\"><h2>Attachments <span class=\"uz\">Ilovalar</span></h2>");
    if list.is_empty() {
        body.raw("<p class=\"muted\" id=\"no-attachments\">No files are attached.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"attachment-list\"><thead><tr><th>File</th><th>Type</th><th>Size</th><th>SHA-256</th><th>Attached by</th><th>When</th></tr></thead><tbody>");
        for a in &list {
            html!(body; "<tr><td><a href=\"/api/incidents/" {i.id} "/attachments/" {a.id} "\" download>" {a.file_name}
                "</a></td><td>" {a.media_type} {redaction_note(a)} "</td><td>" {size(a.size)} "</td><td><code title=\"" {a.sha256} "\">"
                {a.sha256.get(..12).unwrap_or(&a.sha256)} "…</code></td><td>" {user_name(a.uploaded_by)}
                "</td><td>" {when(a.uploaded_at)} "</td></tr>");
        }
        body.raw(
            "</tbody></table><p class=\"muted\">Each download is recorded in the audit log.</p>",
        );
    }
    if v.may(INCIDENT_WRITERS) {
        // The browser's file chooser offers the kinds the server takes (it checks the content).
        let accept: Vec<&str> = MediaType::ALL
            .iter()
            .filter(|m| !m.is_video())
            .map(|m| m.as_str())
            .chain([".jpg", ".jpeg", ".png", ".pdf", ".txt"])
            .collect();
        html!(body; "<form method=\"post\" action=\"/console/incidents/" {i.id} "/attachments\" enctype=\"multipart/form-data\" class=\"grid-form\" id=\"attach-form\">"
            [v.csrf_field()]
            "<label>File <input type=\"file\" name=\"" {FILE_FIELD} "\" required accept=\"" {accept.join(",")} "\"></label>"
            "<button type=\"submit\">Attach</button></form>"
            "<p class=\"muted\">" {format!("JPEG, PNG, PDF or plain text, at most {} MiB; the kind is read from the file itself. Faces in photos are blurred before they are stored; videos are not taken yet.", MAX_ATTACHMENT_BYTES >> 20)} "</p>");
    }
    body.raw("</section>");
    Ok(body)
}

/// `POST /console/incidents/{id}/attachments` (multipart form).
pub async fn upload(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> PageResult {
    v.require(INCIDENT_WRITERS)?;
    let incident = writable_incident(&state, &v.me, &raw).await?;
    let result = async {
        let content_type = headers.get(CONTENT_TYPE).and_then(|h| h.to_str().ok());
        let mp = mp.map_err(|r| multipart_rejection(r, content_type))?;
        let (file, texts) = read_upload(mp).await?;
        let csrf = texts
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map_or("", |(_, t)| t.as_str());
        v.check_csrf(csrf).map_err(|e| e.0)?;
        attach(&state, &v.me, &incident, file).await
    }
    .await;
    match result {
        Ok(a) => Ok(redirect(&format!(
            "/console/incidents/{}?attached={}#attachments",
            incident.id, a.id
        ))),
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(PageError(e)),
        Err(e) if e.status.is_client_error() => {
            render_detail(&state, &v, &raw, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}
