//! Redacted evidence: `GET /api/events/{id}/evidence/{n}` serves the `n`-th redacted image of an
//! event (counting from 0), as the pipeline wrote it under the camera's evidence folder.
//!
//! Who may look: admins and operators for events whose camera lies within their scope (they
//! review them); inspectors and analysts only for an event that was confirmed into an incident
//! within their scope (they read that incident). Anything else answers 404 as a missing event
//! does. Every image served is audited as `evidence.view` (who, which event, which image).
//! Unredacted originals are never served here: a path naming `originals/` or a sealed file is
//! refused, as is any path that is absolute, climbs out with `..`, or leads out of the camera's
//! folder through a link.
use std::path::{Component, Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use domain::{Event, EventId, Role};
use serde_json::{Value, json};

use crate::AppState;
use crate::api::{REVIEWERS, covers};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;

/// Who may see redacted evidence at all (scope and the incident decide the rest).
pub const EVIDENCE_VIEWERS: &[Role] =
    &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];

/// A redacted image bigger than this is not served (the pipeline writes JPEGs of a few hundred
/// kilobytes).
const MAX_IMAGE_BYTES: u64 = 32 << 20;

/// The redacted images an event's payload names, as paths relative to its camera's evidence
/// folder: the payload's `images`, or, where it has none, `evidence` (the field name of the
/// pipeline's `vision::Event`). Never `originals`.
pub fn redacted_images(payload: &Value) -> Vec<String> {
    let list = payload
        .get("images")
        .or_else(|| payload.get("evidence"))
        .and_then(Value::as_array);
    list.map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

/// The event, if `me` may see its evidence; 404 (as for a missing event) otherwise, 403 for a
/// role that never may.
pub async fn event_for_viewer(state: &AppState, me: &CurrentUser, id: EventId) -> ApiResult<Event> {
    me.require(EVIDENCE_VIEWERS)?;
    let missing = || ApiError::not_found("event", id);
    let event = state.store.get_event(id).await?.ok_or_else(missing)?;
    let allowed = if REVIEWERS.contains(&me.user.role) {
        match state.store.get_camera(event.camera).await? {
            Some(c) => covers(state, me, c.mahalla).await?,
            None => false,
        }
    } else {
        match state.store.incident_for_event(id).await? {
            Some(i) => covers(state, me, i.mahalla).await?,
            None => false,
        }
    };
    if allowed { Ok(event) } else { Err(missing()) }
}

/// The media type of a redacted image, from its name; `None` for anything that is not one.
fn image_type(rel: &str) -> Option<&'static str> {
    let ext = Path::new(rel).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        _ => None,
    }
}

/// Why a payload's path is not served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Absolute, empty, or with `..` or other non-plain parts.
    NotRelative,
    /// Names the sealed originals.
    Original,
    /// Not a JPEG or PNG.
    NotAnImage,
    /// Resolves (through a link) outside the camera's folder.
    Escapes,
    /// No such file (deleted by retention, or never written).
    Missing,
}

/// The file `rel` names under `base`, if it is a redacted image inside it.
pub fn resolve(base: &Path, rel: &str) -> Result<PathBuf, Refused> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Refused::NotRelative);
    }
    if p.components().any(|c| c.as_os_str() == "originals") || rel.ends_with(".sealed") {
        return Err(Refused::Original);
    }
    if image_type(rel).is_none() {
        return Err(Refused::NotAnImage);
    }
    let base = base.canonicalize().map_err(|_| Refused::Missing)?;
    let full = base.join(p).canonicalize().map_err(|_| Refused::Missing)?;
    let inside = full.strip_prefix(&base).map_err(|_| Refused::Escapes)?;
    // A link inside the folder may still point into originals/.
    if inside.components().any(|c| c.as_os_str() == "originals") {
        return Err(Refused::Original);
    }
    Ok(full)
}

/// `GET /api/events/{id}/evidence/{n}`.
pub async fn image(
    State(state): State<AppState>,
    me: CurrentUser,
    UrlPath((raw_id, raw_n)): UrlPath<(String, String)>,
) -> ApiResult<Response> {
    let id = EventId(parse_id("event", &raw_id)?);
    let event = event_for_viewer(&state, &me, id).await?;
    let images = redacted_images(&event.payload);
    let no_image = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("event {id} has no evidence image {raw_n:?}"),
            format!(
                "event {id} has {} redacted image(s), numbered from 0",
                images.len()
            ),
        )
    };
    let n: usize = raw_n.parse().map_err(|_| no_image())?;
    let rel = images.get(n).ok_or_else(no_image)?;
    let base = crate::evidence_dir(&state.data_dir, event.camera);
    let path = match resolve(&base, rel) {
        Ok(p) => p,
        Err(Refused::Missing) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("evidence image {n} of event {id} is no longer stored"),
                "it may have been deleted by retention; an incident's evidence is kept",
            ));
        }
        Err(why) => {
            tracing::warn!(event = %id, image = n, path = %rel.escape_debug(), ?why, "refused an evidence path");
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("evidence image {n} of event {id} cannot be served"),
                "the event's payload names a path that is not a redacted image in its camera's evidence folder; the server's log says why",
            ));
        }
    };
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|e| ApiError::internal("read an evidence image", &e))?;
    if !meta.is_file() || meta.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("evidence image {n} of event {id} cannot be served"),
            "it is not a file, or is too large to be a redacted image",
        ));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::internal("read an evidence image", &e))?;
    // Audited before a byte is sent: if the log cannot be written, nothing is shown.
    state
        .store
        .audit_append(
            &me.actor(),
            "evidence.view",
            &format!("event:{id}"),
            &json!({ "image": n, "camera": event.camera, "path": rel, "bytes": bytes.len() }),
        )
        .await?;
    let content_type = image_type(rel).unwrap_or("application/octet-stream");
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                HeaderName::from_static("content-security-policy"),
                HeaderValue::from_static("default-src 'none'"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_paths_are_taken_from_images_or_evidence_never_originals() {
        let p = json!({"images": ["evidence/a.jpg"], "evidence": ["x.jpg"], "originals": ["evidence/originals/a.jpg.sealed"]});
        assert_eq!(redacted_images(&p), vec!["evidence/a.jpg"]);
        let p = json!({"evidence": ["evidence/b.jpg", 3], "originals": ["o"]});
        assert_eq!(redacted_images(&p), vec!["evidence/b.jpg"]);
        assert!(redacted_images(&json!({"originals": ["o.jpg"]})).is_empty());
    }

    #[test]
    fn only_plain_relative_image_paths_inside_the_folder_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("camera-1");
        std::fs::create_dir_all(base.join("evidence/originals")).unwrap();
        std::fs::write(base.join("evidence/a.jpg"), b"jpeg").unwrap();
        std::fs::write(base.join("evidence/originals/a.jpg"), b"secret").unwrap();
        std::fs::write(dir.path().join("outside.jpg"), b"secret").unwrap();
        assert_eq!(
            resolve(&base, "evidence/a.jpg").unwrap(),
            base.join("evidence/a.jpg").canonicalize().unwrap()
        );
        for (rel, why) in [
            ("", Refused::NotRelative),
            ("/etc/passwd.jpg", Refused::NotRelative),
            ("../outside.jpg", Refused::NotRelative),
            ("evidence/../../outside.jpg", Refused::NotRelative),
            ("./evidence/a.jpg", Refused::NotRelative),
            ("evidence/originals/a.jpg", Refused::Original),
            ("evidence/a.jpg.sealed", Refused::Original),
            ("evidence/a.txt", Refused::NotAnImage),
            ("evidence/gone.jpg", Refused::Missing),
        ] {
            assert_eq!(resolve(&base, rel), Err(why), "{rel}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(
                dir.path().join("outside.jpg"),
                base.join("evidence/link.jpg"),
            )
            .unwrap();
            std::os::unix::fs::symlink(
                base.join("evidence/originals/a.jpg"),
                base.join("evidence/orig-link.jpg"),
            )
            .unwrap();
            assert_eq!(resolve(&base, "evidence/link.jpg"), Err(Refused::Escapes));
            assert_eq!(
                resolve(&base, "evidence/orig-link.jpg"),
                Err(Refused::Original)
            );
        }
    }
}
