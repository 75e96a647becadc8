//! Files attached to incidents: a photo an inspector took, a scanned statement, a short video.
//!
//! - Upload: `POST /api/incidents/{id}/attachments`, `multipart/form-data` with one part named
//!   `file` (its filename is kept, cleaned, for display), by the roles that record incidents,
//!   for an incident within their scope. The kind is told from the first bytes (JPEG, PNG, PDF,
//!   plain text); anything else is 415, and so are videos, whose faces posbon cannot blur yet.
//!   At most [`MAX_ATTACHMENT_BYTES`] (413); an empty file is 400; the same content twice on
//!   one incident is 409.
//! - Photos are redacted before they are stored, like camera evidence: the [`PhotoRedactor`]
//!   (`posbon serve` plugs in the cameras' face model) blurs every face and writes a new JPEG
//!   (dropping EXIF: the device, often the place). Only that is stored and shown. The original
//!   is sealed with the evidence key beside it (`<sha256>.original`), or not kept at all when
//!   the server has no key; its SHA-256 and the number of faces are recorded with the row. A
//!   server without a redactor refuses photos (503) rather than store them as sent. See
//!   docs/design/022-photo-attachments.md.
//! - The file goes to `<data dir>/attachments/incident-N/<sha256>`: written to a temporary file in
//!   that folder, synced, renamed into place, the folder synced; then the row and its audit entry
//!   (`incident.attachment_add`, with the size and SHA-256) in one transaction. If the row cannot
//!   be written the file just written is removed, so no file is stored without its row.
//! - List and download: `GET /api/incidents/{id}/attachments[/{aid}]`, for the roles that read
//!   incidents, within their scope (404 outside it, as for a missing incident). Each download is
//!   checked against its SHA-256 and audited (`attachment.view`) before a byte is sent, and is
//!   served as a download (`Content-Disposition: attachment`, `nosniff`, a sandboxing policy).
//! - A photo attached before photos were redacted (no redaction recorded) is never served: 403
//!   asking for it to be attached again.
//! - Retention never touches attachments: it deletes only events that no incident names and
//!   files under `evidence/`; incidents are never deleted.
use std::io::Write;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path as UrlPath, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::attachment::clean_file_name;
use domain::{Attachment, AttachmentId, Incident, MediaType, NewAttachment, PhotoRedaction};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::{INCIDENT_READERS, INCIDENT_WRITERS, incident_in_scope};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;

/// The largest file accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 20 << 20;
/// The body limit of the upload endpoints: the file and the multipart framing around it.
pub const MAX_UPLOAD_BODY_BYTES: usize = MAX_ATTACHMENT_BYTES + (64 << 10);
/// The multipart part that carries the file.
pub const FILE_FIELD: &str = "file";
/// Text parts besides the file (the console's `_csrf`) are read up to this size.
const MAX_TEXT_FIELD_BYTES: usize = 4 << 10;
const MAX_TEXT_FIELDS: usize = 8;

/// Writes of attachment files and rows, one at a time in this process: "is this content already
/// attached? write it, record it, or remove it again" must not interleave with another upload
/// of the same content.
static WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A photo with its faces blurred, as a JPEG.
pub struct RedactedPhoto {
    pub jpeg: Vec<u8>,
    pub faces: u32,
}

/// Why a photo could not be redacted.
pub enum PhotoRedactionError {
    /// The file is not a picture that can be read (the sender's to fix): 400.
    Unreadable(String),
    /// The face search failed (the server's): 500, nothing stored.
    Failed(String),
}

/// Blurs the faces in a photo (JPEG or PNG) before it is stored. Runs on a blocking thread.
pub trait PhotoRedactor: Send + Sync {
    fn redact(&self, photo: &[u8]) -> Result<RedactedPhoto, PhotoRedactionError>;
}

/// A file as received.
pub struct Upload {
    /// The filename the sender gave, as sent.
    pub name: String,
    pub bytes: Vec<u8>,
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the file is larger than {} MiB ({MAX_ATTACHMENT_BYTES} bytes), the most an attachment may be",
            MAX_ATTACHMENT_BYTES >> 20
        ),
        "send a smaller file: shorten or compress a video, scan at a lower resolution",
    )
}

fn how_to_send() -> String {
    format!(
        "send multipart/form-data with the file in a part named {FILE_FIELD} that has a filename (curl -F {FILE_FIELD}=@photo.jpg)"
    )
}

fn multipart_error(e: MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::BAD_REQUEST => ApiError::bad_request(
            format!("the multipart body cannot be read: {}", e.body_text()),
            how_to_send(),
        ),
        _ => ApiError::internal("read the upload", &e.body_text()),
    }
}

/// A body that is not `multipart/form-data`, or lacks its boundary.
pub fn multipart_rejection(r: MultipartRejection, content_type: Option<&str>) -> ApiError {
    let is_multipart = content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    });
    if is_multipart {
        ApiError::bad_request(r.body_text(), how_to_send())
    } else {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the body is {}, not multipart/form-data",
                content_type.unwrap_or("of no declared type")
            ),
            how_to_send(),
        )
    }
}

/// Reads the body: the file part (exactly one, at most [`MAX_ATTACHMENT_BYTES`], read in chunks
/// so that a bigger one is refused as soon as it passes the limit) and up to a few short text
/// parts, returned by name.
pub async fn read_upload(mut mp: Multipart) -> ApiResult<(Upload, Vec<(String, String)>)> {
    let mut file: Option<Upload> = None;
    let mut texts = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == FILE_FIELD {
            if file.is_some() {
                return Err(ApiError::bad_request(
                    "the body has more than one file part",
                    "attach one file per request",
                ));
            }
            let Some(file_name) = field.file_name().map(str::to_owned) else {
                return Err(ApiError::bad_request(
                    format!("the part {FILE_FIELD} has no filename"),
                    how_to_send(),
                ));
            };
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some(Upload {
                name: file_name,
                bytes,
            });
        } else {
            if texts.len() == MAX_TEXT_FIELDS {
                return Err(ApiError::bad_request(
                    "the body has too many parts",
                    how_to_send(),
                ));
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if value.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
                    return Err(ApiError::bad_request(
                        format!("the part {name:?} is longer than {MAX_TEXT_FIELD_BYTES} bytes"),
                        how_to_send(),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            texts.push((name, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::bad_request(
            format!("the body has no part named {FILE_FIELD}"),
            how_to_send(),
        )
    })?;
    Ok((file, texts))
}

/// The incident, if `me` may attach files to it: a role that records incidents (403 otherwise)
/// and the incident within scope (404 otherwise, as for a missing one).
pub async fn writable_incident(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<Incident> {
    me.require(INCIDENT_WRITERS)?;
    incident_in_scope(state, me, raw).await
}

/// Where an incident's attachment files lie, relative to the data folder.
fn relative_path(incident: &Incident, sha256: &str) -> String {
    format!("attachments/incident-{}/{sha256}", incident.id)
}

/// Stores `upload` as an attachment of `incident` (which the caller has checked `me` may
/// write): checks its kind and size, writes the file, records the row with its audit entry.
pub async fn attach(
    state: &AppState,
    me: &CurrentUser,
    incident: &Incident,
    upload: Upload,
) -> ApiResult<Attachment> {
    if upload.bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the file is empty",
            "choose the file again; an empty file cannot be attached",
        ));
    }
    let media_type = MediaType::sniff(&upload.bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this kind of file cannot be attached (it is told from the file's content, not its name)",
            format!(
                "attach a photo or a document as one of: {} (JPEG, PNG, PDF or UTF-8 text that is not HTML)",
                MediaType::allowed()
            ),
        )
    })?;
    let file_name = clean_file_name(&upload.name);
    let (bytes, media_type, file_name, original) = match media_type {
        m if m.is_video() => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "videos cannot be attached: posbon shows nothing with faces it has not blurred, \
                 and it does not blur faces in uploaded videos yet",
                "attach still photos taken from the video (their faces are blurred), and keep \
                 the video itself with the case file",
            ));
        }
        MediaType::Jpeg | MediaType::Png => {
            let (redacted, original) = redact_photo(state, upload.bytes).await?;
            (
                redacted.jpeg,
                MediaType::Jpeg,
                as_jpeg_name(&file_name),
                Some((original, redacted.faces)),
            )
        }
        other => (upload.bytes, other, file_name, None),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let rel = relative_path(incident, &sha256);
    let _one_at_a_time = WRITES.lock().await;
    if let Some(same) = state
        .store
        .attachment_by_sha256(incident.id, &sha256)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "incident {} already has this file, as attachment {} ({})",
                incident.id, same.id, same.file_name
            ),
            "nothing to do: the file is attached once",
        ));
    }
    let size = bytes.len() as i64;
    let full = state.data_dir.join(&rel);
    // The sealed original, where the server holds the evidence key.
    let sealed = match (&original, &state.evidence_key) {
        (Some((plain, _)), Some(key)) => {
            // The seal is bound to the file's base name, as camera originals' are.
            let sealed = key
                .seal(&format!("{sha256}.original"), plain)
                .map_err(|e| ApiError::internal("seal the original photo", &e))?;
            Some((state.data_dir.join(format!("{rel}.original")), sealed))
        }
        _ => None,
    };
    let redaction = original.as_ref().map(|(plain, faces)| PhotoRedaction {
        faces_blurred: *faces,
        original_sha256: hex::encode(Sha256::digest(plain)),
        original_sealed: sealed.is_some(),
    });
    let written = {
        let full = full.clone();
        let sha = sha256.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<PathBuf>> {
            let mut created = Vec::new();
            if let Some((path, bytes)) = &sealed {
                let sealed_sha = hex::encode(Sha256::digest(bytes));
                if write_file(path, &sealed_sha, bytes)? {
                    created.push(path.clone());
                }
            }
            match write_file(&full, &sha, &bytes) {
                Ok(true) => created.push(full),
                Ok(false) => {}
                Err(e) => {
                    for p in &created {
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(e);
                }
            }
            Ok(created)
        })
        .await
        .map_err(|e| ApiError::internal("store the attachment", &e))?
        .map_err(|e| ApiError::internal("store the attachment", &e))?
    };
    let n = NewAttachment {
        incident: incident.id,
        file_name,
        media_type,
        size,
        sha256,
        stored_path: rel,
        uploaded_by: me.user.id,
        redaction,
    };
    match state.store.add_attachment(&n).await {
        Ok(a) => Ok(a),
        Err(e) => {
            for path in written {
                if let Err(rm) = std::fs::remove_file(&path) {
                    tracing::error!(path = %path.display(), error = %rm, "could not remove an attachment file whose row was not written");
                }
            }
            Err(e.into())
        }
    }
}

/// The photo's name once it is a JPEG: `scan.png` becomes `scan.jpg`.
fn as_jpeg_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case("png") && !stem.is_empty() => {
            format!("{stem}.jpg")
        }
        _ => name.to_owned(),
    }
}

/// Runs the server's photo redactor on `photo` on a blocking thread, and hands the photo back
/// with the result; 503 when the server has none (a photo is never stored as sent), 400 for a
/// file that is no readable picture.
async fn redact_photo(state: &AppState, photo: Vec<u8>) -> ApiResult<(RedactedPhoto, Vec<u8>)> {
    let Some(r) = state.photos.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server cannot blur faces in photos, so it does not accept them",
            "run the server with `posbon serve`, which loads the face model (fetch it first \
             with `posbon assets fetch`)",
        ));
    };
    let started = std::time::Instant::now();
    let (out, photo) = tokio::task::spawn_blocking(move || (r.redact(&photo), photo))
        .await
        .map_err(|e| ApiError::internal("blur the faces in the photo", &e))?;
    match out {
        Ok(p) => {
            tracing::info!(
                faces = p.faces,
                ms = started.elapsed().as_millis() as u64,
                "photo attachment redacted"
            );
            Ok((p, photo))
        }
        Err(PhotoRedactionError::Unreadable(m)) => Err(ApiError::bad_request(
            format!("the photo cannot be read: {m}"),
            "send the photo again as a JPEG or PNG file; if it opens on your device, export it \
             as JPEG first",
        )),
        Err(PhotoRedactionError::Failed(m)) => {
            Err(ApiError::internal("blur the faces in the photo", &m))
        }
    }
}

/// Puts `bytes` at `path` (named by their SHA-256 `sha`) whole or not at all: a temporary file
/// in the same folder, synced, renamed into place, the folder synced. `Ok(false)` when the same
/// content is already there (left by an earlier attempt), `Ok(true)` when this call wrote it.
fn write_file(path: &Path, sha: &str, bytes: &[u8]) -> std::io::Result<bool> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("an attachment path has no folder"))?;
    std::fs::create_dir_all(dir)?;
    if let Ok(existing) = std::fs::read(path)
        && hex::encode(Sha256::digest(&existing)) == sha
    {
        return Ok(false);
    }
    let tmp = dir.join(format!(".upload-{}", crate::auth::random_hex(8)));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(true)
}

/// The file of a stored attachment, if its path is a plain one inside the data folder's
/// `attachments/`.
fn stored_file(data_dir: &Path, a: &Attachment) -> Option<PathBuf> {
    let rel = Path::new(&a.stored_path);
    let plain = rel
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    (plain && rel.starts_with("attachments")).then(|| data_dir.join(rel))
}

/// An attachment as the API shows it: its fields and where to download it.
pub fn attachment_json(a: &Attachment) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "url".into(),
            json!(format!(
                "/api/incidents/{}/attachments/{}",
                a.incident, a.id
            )),
        );
    }
    v
}

/// `POST /api/incidents/{id}/attachments`
pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    UrlPath(raw): UrlPath<String>,
    headers: axum::http::HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let incident = writable_incident(&state, &me, &raw).await?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mp = mp.map_err(|r| multipart_rejection(r, content_type))?;
    let (file, texts) = read_upload(mp).await?;
    if let Some((name, _)) = texts.first() {
        return Err(ApiError::bad_request(
            format!("unexpected part {name:?}"),
            how_to_send(),
        ));
    }
    let a = attach(&state, &me, &incident, file).await?;
    Ok((StatusCode::CREATED, Json(attachment_json(&a))).into_response())
}

/// `GET /api/incidents/{id}/attachments`
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    UrlPath(raw): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    me.require(INCIDENT_READERS)?;
    let incident = incident_in_scope(&state, &me, &raw).await?;
    let list = state.store.list_attachments(incident.id).await?;
    Ok(Json(
        json!({ "attachments": list.iter().map(attachment_json).collect::<Vec<_>>() }),
    ))
}

/// `Content-Disposition: attachment` with the file name: an ASCII fallback and the UTF-8 name
/// (RFC 6266, RFC 8187).
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// `GET /api/incidents/{id}/attachments/{aid}`: the file, audited.
pub async fn download(
    State(state): State<AppState>,
    me: CurrentUser,
    UrlPath((raw, raw_aid)): UrlPath<(String, String)>,
) -> ApiResult<Response> {
    me.require(INCIDENT_READERS)?;
    let incident = incident_in_scope(&state, &me, &raw).await?;
    let aid = AttachmentId(parse_id("attachment", &raw_aid)?);
    let a = state
        .store
        .get_attachment(incident.id, aid)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment", aid))?;
    if matches!(a.media_type, MediaType::Jpeg | MediaType::Png) && a.redaction.is_none() {
        // Attached before photos were redacted (schema 10): stored as sent, so never shown.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "attachment {aid} is a photo stored before posbon blurred faces in photos, so it is not shown"
            ),
            "attach the photo again: it will be stored with its faces blurred",
        ));
    }
    let Some(path) = stored_file(&state.data_dir, &a) else {
        tracing::error!(attachment = %aid, path = %a.stored_path.escape_debug(), "an attachment's stored path is not under attachments/");
        return Err(ApiError::internal(
            "find the attachment's file",
            &"its stored path is not a plain path under attachments/",
        ));
    };
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::internal("read the attachment's file", &e))?;
    if hex::encode(Sha256::digest(&bytes)) != a.sha256 {
        tracing::error!(attachment = %aid, path = %path.display(), "an attachment's file no longer matches its sha256");
        return Err(ApiError::internal(
            "serve the attachment",
            &"the file no longer matches the SHA-256 recorded when it was attached",
        ));
    }
    // Audited before a byte is sent: if the log cannot be written, nothing is shown.
    state
        .store
        .audit_append(
            &me.actor(),
            "attachment.view",
            &format!("incident:{}", incident.id),
            &json!({ "attachment": a.id, "file_name": a.file_name, "sha256": a.sha256, "bytes": bytes.len() }),
        )
        .await?;
    let content_type = match a.media_type {
        MediaType::Text => "text/plain; charset=utf-8",
        m => m.as_str(),
    };
    let disposition = HeaderValue::from_str(&content_disposition(&a.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                HeaderName::from_static("content-security-policy"),
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The OpenAPI description of the three endpoints.
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    use crate::openapi::{authed, err, id_param, ok_json, op, secured};
    let aid = json!({ "name": "aid", "in": "path", "required": true, "description": "the attachment's id", "schema": { "type": "integer", "minimum": 1 } });
    let upload_body = json!({ "required": true, "content": { "multipart/form-data": { "schema": {
        "type": "object", "required": [FILE_FIELD], "additionalProperties": false,
        "properties": { FILE_FIELD: { "type": "string", "format": "binary", "description": "the file, with its filename" } } } } } });
    let attachment = json!({ "type": "object", "description": "id, incident, file_name (cleaned for display), media_type, size (bytes), sha256, uploaded_by, uploaded_at, redaction (photos: faces_blurred, original_sha256, original_sealed; size and sha256 are then the redacted JPEG's), url (where to download it)" });
    vec![
        (
            "/api/incidents/{id}/attachments",
            json!({
                "get": secured(op("An incident's attachments", "Oldest first. 404 outside the caller's scope. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("{attachments: [Attachment]}", json!({ "type": "object" })),
                        "404": err("no such incident within the caller's scope") }), false)),
                    vec![id_param("incident")], None),
                "post": secured(op("Attach a file to an incident",
                    &format!("multipart/form-data with one part named file. Its kind is told from its first bytes: JPEG, PNG, PDF or UTF-8 text that is not HTML; videos ({}) are refused (415) until their faces can be blurred. Photos are stored with every face blurred, as a new JPEG without EXIF; the original is kept only sealed with the evidence key (or not at all without one). At most {MAX_ATTACHMENT_BYTES} bytes. Stored under the data folder as attachments/incident-N/SHA256. Roles: admin, operator, inspector, within their scope. Audited (incident.attachment_add, with the size and SHA-256).", "video/mp4, video/quicktime"),
                    authed(json!({ "201": ok_json("the attachment", attachment),
                        "400": err("an empty file, a photo that cannot be read, no part named file, or a malformed body"),
                        "503": err("the server has no face model to blur photos with"),
                        "404": err("no such incident within the caller's scope"),
                        "409": err("the incident already has this file"),
                        "413": err("the file is larger than the limit"),
                        "415": err("not multipart/form-data, or a kind of file that cannot be attached") }), true)),
                    vec![id_param("incident")], Some(upload_body)),
            }),
        ),
        (
            "/api/incidents/{id}/attachments/{aid}",
            json!({ "get": secured(op("Download an attachment",
                "The file as stored (for a photo: with its faces blurred), with its media type, as a download (Content-Disposition: attachment; nosniff). Checked against its SHA-256 first. Roles: admin, operator, inspector, analyst, within their scope. Each download is audited (attachment.view).",
                authed(json!({ "200": { "description": "the file", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": err("no such incident or attachment within the caller's scope") }), false)),
                vec![id_param("incident"), aid], None) }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_carry_a_safe_file_name() {
        assert_eq!(
            content_disposition("photo 1.jpg"),
            "attachment; filename=\"photo 1.jpg\"; filename*=UTF-8''photo%201.jpg"
        );
        let d = content_disposition("hujjat \"x\";\\ ж.pdf");
        assert!(
            d.starts_with("attachment; filename=\"hujjat _x___ _.pdf\"; "),
            "{d}"
        );
        assert!(
            d.ends_with("filename*=UTF-8''hujjat%20%22x%22%3B%5C%20%D0%B6.pdf"),
            "{d}"
        );
        assert!(HeaderValue::from_str(&d).is_ok());
    }

    #[test]
    fn files_are_written_whole_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"%PDF-1.4 test".to_vec();
        let sha = hex::encode(Sha256::digest(&bytes));
        let path = dir.path().join("attachments/incident-1").join(&sha);
        assert!(write_file(&path, &sha, &bytes).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert!(!write_file(&path, &sha, &bytes).unwrap(), "already there");
        // A damaged file of that name is replaced.
        std::fs::write(&path, b"damaged").unwrap();
        assert!(write_file(&path, &sha, &bytes).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }

    #[test]
    fn only_plain_paths_under_attachments_are_served() {
        let a = |p: &str| Attachment {
            id: AttachmentId(1),
            incident: domain::IncidentId(1),
            file_name: "a".into(),
            media_type: MediaType::Text,
            size: 1,
            sha256: "0".repeat(64),
            stored_path: p.into(),
            uploaded_by: domain::UserId(1),
            uploaded_at: domain::Timestamp::UNIX_EPOCH,
            redaction: None,
        };
        let d = Path::new("/data");
        assert_eq!(
            stored_file(d, &a("attachments/incident-1/ab")),
            Some(PathBuf::from("/data/attachments/incident-1/ab"))
        );
        for bad in [
            "/etc/passwd",
            "attachments/../posbon.db",
            "evidence/camera-1/x.jpg",
            "./attachments/x",
        ] {
            assert_eq!(stored_file(d, &a(bad)), None, "{bad}");
        }
    }
}
