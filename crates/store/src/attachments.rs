//! Files attached to incidents: the rows that describe them. The files themselves are written by
//! the server under its data folder before the row; recording one writes its audit entry
//! (`incident.attachment_add`) in the same transaction as the row.
use std::collections::HashMap;

use domain::{
    Actor, Attachment, AttachmentId, IncidentId, MediaType, NewAttachment, PhotoRedaction, UserId,
};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};

/// `SELECT <every attachment column> FROM incident_attachments <rest>`, as one literal.
macro_rules! select_attachments {
    ($rest:literal) => {
        concat!(
            "SELECT id, incident_id, file_name, media_type, size_bytes, sha256, stored_path, ",
            "uploaded_by, uploaded_at, faces_blurred, original_sha256, original_sealed ",
            "FROM incident_attachments ",
            $rest
        )
    };
}

impl Store {
    /// Records an attachment whose file is already stored, with its audit entry. The incident
    /// must exist ([`Error::NotFound`]); the same content on the same incident is refused
    /// ([`Error::Conflict`], naming the attachment that holds it).
    pub async fn add_attachment(&self, n: &NewAttachment) -> Result<Attachment> {
        n.validate()?;
        let now = self.now();
        let actor = Actor::User(n.uploaded_by).to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM incidents WHERE id = $1")
                .bind(n.incident.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read the incident"))?;
            if found.is_none() {
                return Err(Error::NotFound {
                    what: "incident",
                    id: n.incident.0,
                });
            }
            let same: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM incident_attachments WHERE incident_id = $1 AND sha256 = $2",
            )
            .bind(n.incident.0)
            .bind(&n.sha256)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("look for the same file"))?;
            if let Some(same) = same {
                return Err(Error::Conflict {
                    op: "attach the file",
                    message: format!(
                        "incident {} already has this content (sha256 {}) as attachment {same}",
                        n.incident, n.sha256
                    ),
                });
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO incident_attachments (incident_id, file_name, media_type, size_bytes, \
                 sha256, stored_path, uploaded_by, uploaded_at, faces_blurred, original_sha256, \
                 original_sealed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(n.incident.0)
            .bind(&n.file_name)
            .bind(n.media_type.as_str())
            .bind(n.size)
            .bind(&n.sha256)
            .bind(&n.stored_path)
            .bind(n.uploaded_by.0)
            .bind(DbTs(now))
            .bind(n.redaction.as_ref().map(|r| i64::from(r.faces_blurred)))
            .bind(n.redaction.as_ref().map(|r| r.original_sha256.clone()))
            .bind(n.redaction.as_ref().map(|r| r.original_sealed))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("record the attachment"))?;
            tx.append_audit(
                now,
                &actor,
                "incident.attachment_add",
                &format!("incident:{}", n.incident),
                &json!({
                    "attachment": id,
                    "file_name": n.file_name,
                    "media_type": n.media_type.as_str(),
                    "size": n.size,
                    "sha256": n.sha256,
                    "redaction": n.redaction,
                }),
            )
            .await?;
            id
        });
        Ok(Attachment {
            id: AttachmentId(id),
            incident: n.incident,
            file_name: n.file_name.clone(),
            media_type: n.media_type,
            size: n.size,
            sha256: n.sha256.clone(),
            stored_path: n.stored_path.clone(),
            uploaded_by: n.uploaded_by,
            uploaded_at: now,
            redaction: n.redaction.clone(),
        })
    }

    /// The incident's attachments, oldest first.
    pub async fn list_attachments(&self, incident: IncidentId) -> Result<Vec<Attachment>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(select_attachments!("WHERE incident_id = $1 ORDER BY id"))
                .bind(incident.0)
                .fetch_all(pool)
                .await
                .map_err(db("list an incident's attachments"))?
                .iter()
                .map(attachment_from_row)
                .collect()
        })
    }

    /// Attachment `id` of `incident` (`None` if it belongs to another incident).
    pub async fn get_attachment(
        &self,
        incident: IncidentId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_attachments!("WHERE incident_id = $1 AND id = $2"))
                .bind(incident.0)
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read an attachment"))?;
            row.as_ref().map(attachment_from_row).transpose()
        })
    }

    /// The attachment of `incident` with this content, if any.
    pub async fn attachment_by_sha256(
        &self,
        incident: IncidentId,
        sha256: &str,
    ) -> Result<Option<Attachment>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_attachments!(
                "WHERE incident_id = $1 AND sha256 = $2"
            ))
            .bind(incident.0)
            .bind(sha256)
            .fetch_optional(pool)
            .await
            .map_err(db("read an attachment"))?;
            row.as_ref().map(attachment_from_row).transpose()
        })
    }

    /// How many attachments each incident with ids from `from` to `to` (inclusive) has; incidents
    /// without any are absent. For exports, which read incidents in id order.
    pub async fn attachment_counts(
        &self,
        from: IncidentId,
        to: IncidentId,
    ) -> Result<HashMap<IncidentId, i64>> {
        with_pool!(self, |pool, _pg| {
            let rows = sqlx::query(
                "SELECT incident_id, COUNT(*) AS n FROM incident_attachments \
                 WHERE incident_id >= $1 AND incident_id <= $2 GROUP BY incident_id",
            )
            .bind(from.0)
            .bind(to.0)
            .fetch_all(pool)
            .await
            .map_err(db("count attachments"))?;
            rows.iter()
                .map(|r| Ok((IncidentId(r.i64("incident_id")?), r.i64("n")?)))
                .collect()
        })
    }
}

fn attachment_from_row(r: &impl RowExt) -> Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.i64("id")?),
        incident: IncidentId(r.i64("incident_id")?),
        file_name: r.text("file_name")?,
        media_type: word::<MediaType>("attachment type", &r.text("media_type")?)?,
        size: r.i64("size_bytes")?,
        sha256: r.text("sha256")?,
        stored_path: r.text("stored_path")?,
        uploaded_by: UserId(r.i64("uploaded_by")?),
        uploaded_at: r.ts("uploaded_at")?,
        redaction: match (r.opt_i64("faces_blurred")?, r.opt_text("original_sha256")?) {
            (Some(faces), Some(original_sha256)) => Some(PhotoRedaction {
                faces_blurred: u32::try_from(faces).unwrap_or(u32::MAX),
                original_sha256,
                original_sealed: r.boolean("original_sealed")?,
            }),
            _ => None,
        },
    })
}
