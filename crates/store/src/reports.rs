//! Citizen reports: stored as sent (never with the sender's address), found by their reference
//! code, and moderated. Accepting a report records its incident in the same transaction, so a
//! report is accepted exactly when its incident exists.
use domain::{
    Actor, Affected, Category, DomainError, Incident, IncidentId, MahallaId, Moderation,
    NewIncident, NewReport, RejectReason, Report, ReportCode, ReportId, ReportStatus, Scope,
    Source, Timestamp, UserId,
};
use serde_json::json;

use sqlx::{PgConnection, SqliteConnection};

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, point, word};
use crate::error::{Error, Result, db};
use crate::incidents::IncidentConn;
use crate::patrols::{fetch_scoped, per_level};

/// `SELECT <every report column> FROM citizen_reports r <rest>`, as one literal.
macro_rules! select_reports {
    ($($rest:tt)*) => {
        concat!(
            "SELECT r.id, r.code, r.category, r.narrative, r.occurred_at, r.mahalla_id, r.lon, r.lat, ",
            "r.affected_minor, r.affected_youth, r.affected_woman, r.anonymous, r.contact, r.status, ",
            "r.reject_reason, r.moderator_id, r.moderation_note, r.incident_id, r.submitted_at, ",
            "r.updated_at FROM citizen_reports r ",
            $($rest)*
        )
    };
}

/// Oldest first, keyset-paged, per level of a scope: `$1` the id to start after (NULL from the
/// first), `$2` the limit, `$3`/`$4` the statuses to show (both NULL for all), `$5` the scope's
/// place. A report without a mahalla joins no mahalla, so only the national scope sees it.
const LIST: [&str; 4] = per_level!(
    select_reports!(),
    "r.mahalla_id",
    "$5",
    "($3 IS NULL OR r.status = $3 OR r.status = $4) ",
    "AND ($1 IS NULL OR r.id > $1) ORDER BY r.id LIMIT $2"
);

/// Which reports a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFilter {
    /// Received or under review: the moderation queue.
    Pending,
    Only(ReportStatus),
    All,
}

/// What [`Store::submit_report`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub report: Report,
    /// False when the same report had been sent within the window: the earlier one is returned
    /// and nothing is written.
    pub created: bool,
}

/// What [`Store::moderate_report`] (or `moderate_fraud_report`) did.
#[derive(Debug, Clone, PartialEq)]
pub struct Moderated<R = Report> {
    pub report: R,
    /// The incident an accepted report became.
    pub incident: Option<Incident>,
}

impl ReportFilter {
    /// The two statuses a list query keeps (`$3`, `$4`), both `None` for all.
    pub(crate) fn statuses(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            ReportFilter::Pending => (
                Some(ReportStatus::Received.as_str()),
                Some(ReportStatus::UnderReview.as_str()),
            ),
            ReportFilter::Only(s) => (Some(s.as_str()), Some(s.as_str())),
            ReportFilter::All => (None, None),
        }
    }
}

/// Where a kind of report is moderated: its row's status read under the write lock (`$1` id;
/// `FOR UPDATE` on PostgreSQL), its row's update (`$1` status, `$2` reject reason, `$3`
/// moderator, `$4` note, `$5` incident, `$6` time, `$7` id), what it is called in errors and
/// its audit words.
pub(crate) struct ReportTable {
    pub lock_status_pg: &'static str,
    pub lock_status_sqlite: &'static str,
    pub update: &'static str,
    pub what: &'static str,
    pub op: &'static str,
    pub action: &'static str,
    pub target: &'static str,
}

const CITIZEN_REPORTS: ReportTable = ReportTable {
    lock_status_pg: "SELECT status FROM citizen_reports WHERE id = $1 FOR UPDATE",
    lock_status_sqlite: "SELECT status FROM citizen_reports WHERE id = $1",
    update: "UPDATE citizen_reports SET status = $1, reject_reason = $2, moderator_id = $3, \
             moderation_note = $4, incident_id = $5, updated_at = $6 WHERE id = $7",
    what: "report",
    op: "moderate the report",
    action: "report.moderate",
    target: "report",
};

/// A moderator's decision as it is written.
#[derive(Clone, Copy)]
pub(crate) struct Decision<'a> {
    pub id: i64,
    pub m: &'a Moderation,
    pub note: &'a str,
    pub moderator: UserId,
    pub actor: &'a str,
    pub now: Timestamp,
    pub from: ReportStatus,
    pub to: ReportStatus,
    /// What an acceptance recorded: the incident, its category and mahalla.
    pub accepted: Option<(i64, Category, MahallaId)>,
}

/// Writing a decision inside a write transaction the caller holds (opened with
/// `write_tx!(.., audit = true, ..)`): the report's row and the audit entry.
pub(crate) trait ModerationConn {
    async fn record_decision(&mut self, table: &ReportTable, d: &Decision<'_>) -> Result<()>;
}

macro_rules! impl_moderation_conn {
    ($conn:ty) => {
        impl ModerationConn for $conn {
            async fn record_decision(
                &mut self,
                table: &ReportTable,
                d: &Decision<'_>,
            ) -> Result<()> {
                let reason = match d.m {
                    Moderation::Reject(r) => Some(*r),
                    _ => None,
                };
                let incident = d.accepted.map(|a| a.0);
                sqlx::query(table.update)
                    .bind(d.to.as_str())
                    .bind(reason.map(|r| r.as_str()))
                    .bind(d.moderator.0)
                    .bind(d.note)
                    .bind(incident)
                    .bind(DbTs(d.now))
                    .bind(d.id)
                    .execute(&mut *self)
                    .await
                    .map_err(db("record the moderation"))?;
                self.append_audit(
                    d.now,
                    d.actor,
                    table.action,
                    &format!("{}:{}", table.target, d.id),
                    &json!({
                        "decision": d.m.word(),
                        "from": d.from.as_str(),
                        "to": d.to.as_str(),
                        "reject_reason": reason.map(|r| r.as_str()),
                        "incident": incident,
                        "category": d.accepted.map(|a| a.1.as_str()),
                        "mahalla": d.accepted.map(|a| a.2.0),
                        "note": d.note,
                    }),
                )
                .await?;
                Ok(())
            }
        }
    };
}

impl_moderation_conn!(SqliteConnection);
impl_moderation_conn!(PgConnection);

/// A moderator's note is internal and bounded.
pub(crate) fn check_moderation_note(note: &str) -> Result<()> {
    if note.chars().count() > domain::report::MAX_MODERATION_NOTE_CHARS {
        return Err(DomainError::Invalid {
            what: "moderation note",
            reason: format!(
                "is longer than {} characters",
                domain::report::MAX_MODERATION_NOTE_CHARS
            ),
        }
        .into());
    }
    Ok(())
}

impl Store {
    /// Stores a citizen's report under `code`, unless the same report (same
    /// [`NewReport::fingerprint`]) was sent within `dedup_window_micros`, in which case that one
    /// is returned. Audited (`report.submit`, by `public`; never the contact). A code already
    /// taken is a [`Error::Conflict`]: draw another and try again.
    pub async fn submit_report(
        &self,
        r: &NewReport,
        code: &ReportCode,
        dedup_window_micros: i64,
    ) -> Result<Submitted> {
        let now = self.now();
        r.validate(now)?;
        let fingerprint = r.fingerprint();
        let since = now.saturating_add_micros(-dedup_window_micros);
        let (id, created) = write_tx!(self, audit = true, |tx, _pg| {
            let earlier: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM citizen_reports WHERE fingerprint = $1 AND submitted_at >= $2 \
                 ORDER BY id LIMIT 1",
            )
            .bind(&fingerprint)
            .bind(DbTs(since))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("look for the same report sent earlier"))?;
            match earlier {
                Some(id) => (id, false),
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO citizen_reports (code, category, narrative, occurred_at, mahalla_id, lon, lat, \
                         affected_minor, affected_youth, affected_woman, anonymous, contact, fingerprint, status, \
                         reject_reason, moderator_id, moderation_note, incident_id, submitted_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, NULL, '', NULL, $15, $15) \
                         RETURNING id",
                    )
                    .bind(code.as_str())
                    .bind(r.category.as_str())
                    .bind(&r.narrative)
                    .bind(DbTs(r.occurred_at))
                    .bind(r.mahalla.map(|m| m.0))
                    .bind(r.point.map(|p| p.lon))
                    .bind(r.point.map(|p| p.lat))
                    .bind(r.affected.minor)
                    .bind(r.affected.youth)
                    .bind(r.affected.woman)
                    .bind(r.anonymous)
                    .bind(r.contact.as_deref())
                    .bind(&fingerprint)
                    .bind(ReportStatus::Received.as_str())
                    .bind(DbTs(now))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("store the report"))?;
                    tx.append_audit(
                        now,
                        &Actor::Public.to_string(),
                        "report.submit",
                        &format!("report:{id}"),
                        &json!({
                            "code": code.as_str(),
                            "category": r.category.as_str(),
                            "mahalla": r.mahalla.map(|m| m.0),
                            "anonymous": r.anonymous,
                            "has_contact": r.contact.is_some(),
                        }),
                    )
                    .await?;
                    (id, true)
                }
            }
        });
        let report = self
            .get_report(ReportId(id))
            .await?
            .ok_or(Error::NotFound { what: "report", id })?;
        Ok(Submitted { report, created })
    }

    pub async fn get_report(&self, id: ReportId) -> Result<Option<Report>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_reports!("WHERE r.id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read a report"))?;
            row.as_ref().map(report_from_row).transpose()
        })
    }

    pub async fn get_report_by_code(&self, code: &ReportCode) -> Result<Option<Report>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_reports!("WHERE r.code = $1"))
                .bind(code.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db("read a report"))?;
            row.as_ref().map(report_from_row).transpose()
        })
    }

    /// Reports within `scope` that pass `filter`, oldest first: up to `limit` with ids above
    /// `after`. Reports without a mahalla are within the national scope only.
    pub async fn list_reports(
        &self,
        scope: &Scope,
        filter: ReportFilter,
        after: Option<ReportId>,
        limit: u32,
    ) -> Result<Vec<Report>> {
        let (s1, s2) = filter.statuses();
        fetch_scoped!(
            self,
            LIST,
            scope,
            [after.map(|a| a.0), i64::from(limit), s1, s2],
            "list reports",
            report_from_row
        )
    }

    /// A moderator's decision on a report (see [`Moderation::apply`]), audited
    /// (`report.moderate`). Accepting records the incident (source `public`, reported when the
    /// report was sent, created by the moderator) in the same transaction and links it.
    pub async fn moderate_report(
        &self,
        id: ReportId,
        m: &Moderation,
        note: &str,
        moderator: UserId,
    ) -> Result<Moderated> {
        let report = self.get_report(id).await?.ok_or(Error::NotFound {
            what: "report",
            id: id.0,
        })?;
        let incident_id = self
            .moderate_in(
                &CITIZEN_REPORTS,
                id.0,
                m,
                note,
                moderator,
                report.submitted_at,
                |category, mahalla| {
                    let mahalla = mahalla.or(report.mahalla).ok_or_else(|| {
                        Error::Invalid(DomainError::Invalid {
                            what: "acceptance",
                            reason: "the report names no mahalla; say which one it happened in"
                                .into(),
                        })
                    })?;
                    Ok(NewIncident {
                        category: category.unwrap_or(report.category),
                        source: Source::Public,
                        occurred_at: report.occurred_at,
                        mahalla,
                        point: report.point,
                        affected: report.affected,
                        narrative: report.narrative.clone(),
                        event: None,
                    })
                },
            )
            .await?;
        let report = self.get_report(id).await?.ok_or(Error::NotFound {
            what: "report",
            id: id.0,
        })?;
        let incident = match incident_id {
            Some(i) => self.get_incident(IncidentId(i)).await?,
            None => None,
        };
        Ok(Moderated { report, incident })
    }
}

impl Store {
    /// Moderates report `id` of `table` in one write transaction: its status read again under
    /// the write lock decides the move ([`Moderation::apply`]); an acceptance records the
    /// incident `accept` makes from the moderator's category and mahalla (each if given),
    /// received when the report was (`submitted_at`) and created by the moderator; then the
    /// decision is written (the row and the audit entry). Returns the incident's id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn moderate_in(
        &self,
        table: &ReportTable,
        id: i64,
        m: &Moderation,
        note: &str,
        moderator: UserId,
        submitted_at: Timestamp,
        accept: impl Fn(Option<Category>, Option<MahallaId>) -> Result<NewIncident>,
    ) -> Result<Option<i64>> {
        check_moderation_note(note)?;
        let now = self.now();
        let actor = Actor::User(moderator).to_string();
        Ok(write_tx!(self, audit = true, |tx, pg| {
            let from: String = sqlx::query_scalar(if pg {
                table.lock_status_pg
            } else {
                table.lock_status_sqlite
            })
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("read the report's status"))?
            .ok_or(Error::NotFound {
                what: table.what,
                id,
            })?;
            let from: ReportStatus = word("report status", &from)?;
            let to = m.apply(from).map_err(|e| Error::Conflict {
                op: table.op,
                message: e.to_string(),
            })?;
            let accepted = match m {
                Moderation::Review | Moderation::Reject(_) => None,
                Moderation::Accept { category, mahalla } => {
                    let n = accept(*category, *mahalla)?;
                    n.validate()?;
                    let iid = tx.insert_incident(&n, &actor, submitted_at, now).await?;
                    Some((iid, n.category, n.mahalla))
                }
            };
            tx.record_decision(
                table,
                &Decision {
                    id,
                    m,
                    note,
                    moderator,
                    actor: &actor,
                    now,
                    from,
                    to,
                    accepted,
                },
            )
            .await?;
            accepted.map(|a| a.0)
        }))
    }
}

fn report_from_row(r: &impl RowExt) -> Result<Report> {
    Ok(Report {
        id: ReportId(r.i64("id")?),
        code: ReportCode::parse(&r.text("code")?).map_err(crate::error::corrupt("report code"))?,
        category: word::<Category>("incident category", &r.text("category")?)?,
        narrative: r.text("narrative")?,
        occurred_at: r.ts("occurred_at")?,
        mahalla: r.opt_i64("mahalla_id")?.map(MahallaId),
        point: point(r)?,
        affected: Affected {
            minor: r.boolean("affected_minor")?,
            youth: r.boolean("affected_youth")?,
            woman: r.boolean("affected_woman")?,
        },
        anonymous: r.boolean("anonymous")?,
        contact: r.opt_text("contact")?,
        status: word::<ReportStatus>("report status", &r.text("status")?)?,
        reject_reason: r
            .opt_text("reject_reason")?
            .map(|s| word::<RejectReason>("reject reason", &s))
            .transpose()?,
        moderator: r.opt_i64("moderator_id")?.map(UserId),
        moderation_note: r.text("moderation_note")?,
        incident: r.opt_i64("incident_id")?.map(IncidentId),
        submitted_at: r.ts("submitted_at")?,
        updated_at: r.ts("updated_at")?,
    })
}
