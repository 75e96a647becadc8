//! Retention (DESIGN principle 5): events that no incident names are deleted once they are
//! older than the configured number of days, and so are the evidence files their payloads name
//! (`images`, the redacted JPEGs, and `originals`, the sealed unredacted frames, both relative to
//! the camera's evidence folder). What is deleted is written to the audit log: the store's
//! `retention.delete_events` entry lists the events (in the same transaction as the deletion),
//! and a `retention.delete_evidence` entry after it lists the files deleted, missing, kept
//! because an event still stored names them, refused (a path leading out of the camera's
//! folder) and failed.
//!
//! Incidents' attachments are never touched: incidents are never deleted, their files lie under
//! `<data dir>/attachments/`, outside every camera's evidence folder, and a path is deleted only
//! if it stays inside that folder (see [`resolve_inside`]; a link is removed as a link).
//!
//! Rows go first, files after: a crash between the two leaves files that no event names (found
//! by the next sweep of the folder, not by this one) rather than events whose evidence is gone.
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use domain::{Actor, CameraId, Event};
use serde::Serialize;
use serde_json::{Value, json};
use store::Store;

use crate::evidence_dir;

/// How often the server's retention task runs.
pub const INTERVAL: Duration = Duration::from_secs(3600);
/// Events deleted per transaction.
pub const BATCH: u32 = 500;
/// Events of one frame share its image; events this close in time to a deleted one are checked
/// before a file is deleted.
const SAME_FRAME_US: i64 = 1_000_000;

/// What one run did. Paths are `camera-N/<path in the payload>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub events: Vec<i64>,
    pub deleted: Vec<String>,
    /// Named by a deleted event but not there (already gone): reported, not an error.
    pub missing: Vec<String>,
    /// Still named by an event that is kept (events of one frame share its image).
    pub kept_shared: Vec<String>,
    /// Paths that lead out of the camera's evidence folder (absolute, `..`, a link outside):
    /// not touched.
    pub refused: Vec<String>,
    /// Files that could not be deleted, with why.
    pub failed: Vec<String>,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "{} events deleted; evidence files: {} deleted, {} already missing, {} kept (shared with a kept event), {} refused (outside the camera's folder), {} failed",
            self.events.len(),
            self.deleted.len(),
            self.missing.len(),
            self.kept_shared.len(),
            self.refused.len(),
            self.failed.len()
        )
    }
}

/// The evidence paths an event's payload names.
pub fn evidence_paths(payload: &Value) -> Vec<String> {
    ["images", "originals"]
        .iter()
        .filter_map(|k| payload.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// `rel` under `folder`, if it is a plain relative path that stays inside it; else why not.
/// Links are followed for the folders on the way (a linked folder leading outside is refused);
/// the file itself, if a link, is removed as a link.
pub fn resolve_inside(folder: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() {
        return Err("empty path".into());
    }
    for c in p.components() {
        match c {
            Component::Normal(_) => {}
            Component::ParentDir => return Err("the path goes up (..)".into()),
            Component::RootDir | Component::Prefix(_) => return Err("the path is absolute".into()),
            Component::CurDir => {}
        }
    }
    let full = folder.join(p);
    if let (Ok(base), Some(parent)) = (folder.canonicalize(), full.parent())
        && let Ok(real_parent) = parent.canonicalize()
        && !real_parent.starts_with(&base)
    {
        return Err(format!(
            "the path leads through a link to {}, outside the camera's folder",
            real_parent.display()
        ));
    }
    Ok(full)
}

enum Outcome {
    Deleted,
    Missing,
    Refused(String),
    Failed(String),
}

fn delete_one(folder: &Path, rel: &str) -> Outcome {
    let path = match resolve_inside(folder, rel) {
        Ok(p) => p,
        Err(why) => return Outcome::Refused(why),
    };
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::Missing,
        Err(e) => Outcome::Failed(e.to_string()),
        Ok(m) if m.is_dir() => Outcome::Refused("a folder, not a file".into()),
        Ok(_) => match std::fs::remove_file(&path) {
            Ok(()) => Outcome::Deleted,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::Missing,
            Err(e) => Outcome::Failed(e.to_string()),
        },
    }
}

/// Deletes the evidence files of `deleted` events, except those an event still stored names.
async fn delete_files(
    store: &Store,
    data_dir: &Path,
    deleted: &[Event],
    report: &mut Report,
) -> store::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for ev in deleted {
        let paths = evidence_paths(&ev.payload);
        if paths.is_empty() {
            continue;
        }
        let neighbours = store
            .camera_events_between(
                ev.camera,
                ev.at.saturating_add_micros(-SAME_FRAME_US),
                ev.at.saturating_add_micros(SAME_FRAME_US),
            )
            .await?;
        let still_named: Vec<String> = neighbours
            .iter()
            .flat_map(|e| evidence_paths(&e.payload))
            .collect();
        let folder = evidence_dir(data_dir, ev.camera);
        let label = |rel: &str| format!("camera-{}/{rel}", ev.camera.0);
        for rel in paths {
            if !seen.insert(label(&rel)) {
                continue; // named twice, by this event or another deleted with it
            }
            if still_named.contains(&rel) {
                report.kept_shared.push(label(&rel));
                continue;
            }
            let (folder, rel2) = (folder.clone(), rel.clone());
            let outcome = tokio::task::spawn_blocking(move || delete_one(&folder, &rel2))
                .await
                .unwrap_or_else(|e| Outcome::Failed(e.to_string()));
            match outcome {
                Outcome::Deleted => report.deleted.push(label(&rel)),
                Outcome::Missing => report.missing.push(label(&rel)),
                Outcome::Refused(why) => {
                    tracing::warn!(camera = ev.camera.0, path = %rel, %why, "retention refused an evidence path");
                    report.refused.push(format!("{}: {why}", label(&rel)));
                }
                Outcome::Failed(why) => {
                    tracing::warn!(camera = ev.camera.0, path = %rel, %why, "retention could not delete an evidence file");
                    report.failed.push(format!("{}: {why}", label(&rel)));
                }
            }
        }
    }
    Ok(())
}

/// One retention run: events older than `days` days that no incident names are deleted (in
/// batches of [`BATCH`], each with its audit entry), then their evidence files, and each batch's
/// files are audited as `retention.delete_evidence`. `days` must be at least 1.
pub async fn run(
    store: &Store,
    data_dir: &Path,
    days: u32,
    actor: &Actor,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        days >= 1,
        "a retention period of 0 days would delete every event not attached to an incident; give at least 1"
    );
    let mut report = Report::default();
    loop {
        let deleted = store.delete_expired_events(days, BATCH, actor).await?;
        if deleted.is_empty() {
            break;
        }
        let mut batch = Report {
            events: deleted.iter().map(|e| e.id.0).collect(),
            ..Report::default()
        };
        delete_files(store, data_dir, &deleted, &mut batch).await?;
        let cameras: std::collections::BTreeSet<CameraId> =
            deleted.iter().map(|e| e.camera).collect();
        store
            .audit_append(
                &actor.to_string(),
                "retention.delete_evidence",
                "evidence",
                &json!({
                    "retention_days": days,
                    "event_ids": batch.events,
                    "cameras": cameras.iter().map(|c| c.0).collect::<Vec<_>>(),
                    "deleted": batch.deleted,
                    "missing": batch.missing,
                    "kept_shared": batch.kept_shared,
                    "refused": batch.refused,
                    "failed": batch.failed,
                    "counts": {
                        "events": batch.events.len(),
                        "deleted": batch.deleted.len(),
                        "missing": batch.missing.len(),
                        "kept_shared": batch.kept_shared.len(),
                        "refused": batch.refused.len(),
                        "failed": batch.failed.len(),
                    },
                }),
            )
            .await?;
        let full = deleted.len() as u32 == BATCH;
        report.events.extend(batch.events);
        report.deleted.extend(batch.deleted);
        report.missing.extend(batch.missing);
        report.kept_shared.extend(batch.kept_shared);
        report.refused.extend(batch.refused);
        report.failed.extend(batch.failed);
        if !full {
            break;
        }
    }
    Ok(report)
}

/// Runs retention every [`INTERVAL`] (the first run at once) with the system actor `retention`.
pub fn spawn(store: Store, data_dir: PathBuf, days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let actor = Actor::System("retention".into());
        let mut tick = tokio::time::interval(INTERVAL);
        loop {
            tick.tick().await;
            match run(&store, &data_dir, days, &actor).await {
                Ok(r) if r.events.is_empty() => {}
                Ok(r) => tracing::info!(summary = %r.summary(), "retention"),
                Err(e) => tracing::warn!(error = %e, "retention failed; it will try again"),
            }
        }
    })
}
