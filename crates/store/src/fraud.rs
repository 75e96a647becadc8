//! Victims' fraud reports and their indicators. Stored once however often they are sent (the
//! same content within a window, or the same client idempotency key at any time), moderated like
//! citizen reports: accepting one records its incident in the same transaction.
use domain::fraud::{FraudIndicator, NewFraudReport, incident_category};
use domain::{
    Actor, Area, Channel, DistrictId, FoundIn, FraudReport, FraudReportId, IncidentId, MahallaId,
    Moderation, NewIncident, RegionId, RejectReason, ReportCode, ReportStatus, Scope, Source,
    Timestamp, UserId,
};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};
use crate::patrols::{fetch_scoped, per_level};
use crate::reports::{Moderated, ReportFilter, ReportTable};

const FRAUD_REPORTS: ReportTable = ReportTable {
    lock_status_pg: "SELECT status FROM fraud_reports WHERE id = $1 FOR UPDATE",
    lock_status_sqlite: "SELECT status FROM fraud_reports WHERE id = $1",
    what: "fraud report",
    op: "moderate the fraud report",
    update: "UPDATE fraud_reports SET status = $1, reject_reason = $2, moderator_id = $3, \
             moderation_note = $4, incident_id = $5, updated_at = $6 WHERE id = $7",
    action: "fraud.moderate",
    target: "fraud_report",
};

/// `SELECT <every fraud report column> FROM fraud_reports r <rest>`, as one literal.
macro_rules! select_fraud {
    ($($rest:tt)*) => {
        concat!(
            "SELECT r.id, r.code, r.occurred_at, r.amount_lost, r.channel, r.narrative, r.mahalla_id, ",
            "r.contact, r.status, r.reject_reason, r.moderator_id, r.moderation_note, r.incident_id, ",
            "r.submitted_at, r.updated_at FROM fraud_reports r ",
            $($rest)*
        )
    };
}

/// Oldest first, keyset-paged, per level of a scope: `$1` the id to start after, `$2` the limit,
/// `$3`/`$4` the statuses (both NULL for all), `$5` the scope's place.
const LIST: [&str; 4] = per_level!(
    select_fraud!(),
    "r.mahalla_id",
    "$5",
    "($3 IS NULL OR r.status = $3 OR r.status = $4) ",
    "AND ($1 IS NULL OR r.id > $1) ORDER BY r.id LIMIT $2"
);

/// The reports whose ids are in the JSON array `$1`, by id.
const BY_IDS_SQLITE: &str =
    select_fraud!("WHERE r.id IN (SELECT value FROM json_each($1)) ORDER BY r.id");
const BY_IDS_POSTGRES: &str = select_fraud!(
    "WHERE r.id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint) ORDER BY r.id"
);

macro_rules! select_indicators {
    ($($rest:tt)*) => {
        concat!(
            "SELECT report_id, kind, value, card_hash, hash, link_domain, found_in, suspicious, defanged ",
            "FROM fraud_indicators ",
            $($rest)*
        )
    };
}
const INDICATORS_SQLITE: &str = select_indicators!(
    "WHERE report_id IN (SELECT value FROM json_each($1)) ORDER BY report_id, id"
);
const INDICATORS_POSTGRES: &str = select_indicators!(
    "WHERE report_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint) ORDER BY report_id, id"
);

/// What [`Store::submit_fraud_report`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct FraudSubmitted {
    pub report: FraudReport,
    /// False when the same report had been sent before: the earlier one is returned and
    /// nothing is written.
    pub created: bool,
}

/// What [`Store::moderate_fraud_report`] did.
pub type FraudModerated = Moderated<FraudReport>;

/// An accepted report's place and loss, for campaign views (which read many at once).
#[derive(Debug, Clone, PartialEq)]
pub struct FraudSummary {
    pub id: FraudReportId,
    pub area: Area,
    pub amount_lost: i64,
    pub occurred_at: Timestamp,
    pub channel: Channel,
}

impl Store {
    /// Stores a victim's report under `code`, unless it was sent before: the same client
    /// idempotency key at any time, or the same content ([`NewFraudReport::fingerprint`])
    /// within `dedup_window_micros`; then that report is returned. Audited (`fraud.submit`, by
    /// `public`: the code, channel, mahalla and indicator counts by kind; never the contact or
    /// the indicators' values). A code already taken is a [`Error::Conflict`]: draw another.
    pub async fn submit_fraud_report(
        &self,
        r: &NewFraudReport,
        code: &ReportCode,
        dedup_window_micros: i64,
    ) -> Result<FraudSubmitted> {
        let now = self.now();
        r.validate(now)?;
        let fingerprint = r.fingerprint();
        let since = now.saturating_add_micros(-dedup_window_micros);
        let (id, created) = write_tx!(self, audit = true, |tx, _pg| {
            let earlier: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM fraud_reports WHERE ($1 IS NOT NULL AND idempotency_key = $1) \
                 OR (fingerprint = $2 AND submitted_at >= $3) ORDER BY id LIMIT 1",
            )
            .bind(r.idempotency_key.as_deref())
            .bind(&fingerprint)
            .bind(DbTs(since))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("look for the same report sent earlier"))?;
            match earlier {
                Some(id) => (id, false),
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO fraud_reports (code, occurred_at, amount_lost, channel, narrative, mahalla_id, \
                         contact, fingerprint, idempotency_key, status, reject_reason, moderator_id, moderation_note, \
                         incident_id, submitted_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, '', NULL, $11, $11) RETURNING id",
                    )
                    .bind(code.as_str())
                    .bind(DbTs(r.occurred_at))
                    .bind(r.amount_lost)
                    .bind(r.channel.as_str())
                    .bind(&r.narrative)
                    .bind(r.mahalla.0)
                    .bind(r.contact.as_deref())
                    .bind(&fingerprint)
                    .bind(r.idempotency_key.as_deref())
                    .bind(ReportStatus::Received.as_str())
                    .bind(DbTs(now))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("store the fraud report"))?;
                    for i in &r.indicators {
                        sqlx::query(
                            "INSERT INTO fraud_indicators (report_id, kind, value, card_hash, hash, link_domain, \
                             found_in, suspicious, defanged) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                             ON CONFLICT (report_id, hash) DO NOTHING",
                        )
                        .bind(id)
                        .bind(&i.kind)
                        .bind(&i.value)
                        .bind(i.card_hash.as_deref())
                        .bind(&i.hash)
                        .bind(i.link_domain.as_deref())
                        .bind(i.found_in.as_str())
                        .bind(i.suspicious.join(" "))
                        .bind(i.defanged)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("store the report's indicators"))?;
                    }
                    let mut kinds = serde_json::Map::new();
                    for i in &r.indicators {
                        let n = kinds.get(&i.kind).and_then(|v| v.as_u64()).unwrap_or(0);
                        kinds.insert(i.kind.clone(), json!(n + 1));
                    }
                    tx.append_audit(
                        now,
                        &Actor::Public.to_string(),
                        "fraud.submit",
                        &format!("fraud_report:{id}"),
                        &json!({
                            "code": code.as_str(),
                            "channel": r.channel.as_str(),
                            "mahalla": r.mahalla.0,
                            "indicators": kinds,
                            "has_contact": r.contact.is_some(),
                        }),
                    )
                    .await?;
                    (id, true)
                }
            }
        });
        let report = self
            .get_fraud_report(FraudReportId(id))
            .await?
            .ok_or(Error::NotFound {
                what: "fraud report",
                id,
            })?;
        Ok(FraudSubmitted { report, created })
    }

    pub async fn get_fraud_report(&self, id: FraudReportId) -> Result<Option<FraudReport>> {
        Ok(self.fraud_reports_by_ids(&[id]).await?.pop())
    }

    pub async fn get_fraud_report_by_code(&self, code: &ReportCode) -> Result<Option<FraudReport>> {
        let id: Option<i64> = with_pool!(self, |pool, _pg| {
            sqlx::query_scalar("SELECT id FROM fraud_reports WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db("read a fraud report"))?
        });
        match id {
            Some(id) => self.get_fraud_report(FraudReportId(id)).await,
            None => Ok(None),
        }
    }

    /// The reports with these ids (those that exist), by id, with their indicators.
    pub async fn fraud_reports_by_ids(&self, ids: &[FraudReportId]) -> Result<Vec<FraudReport>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = json!(ids.iter().map(|i| i.0).collect::<Vec<_>>()).to_string();
        let mut reports: Vec<FraudReport> = with_pool!(self, |pool, pg| {
            sqlx::query(if pg { BY_IDS_POSTGRES } else { BY_IDS_SQLITE })
                .bind(&list)
                .fetch_all(pool)
                .await
                .map_err(db("read fraud reports"))?
                .iter()
                .map(fraud_from_row)
                .collect::<Result<_>>()?
        });
        self.attach_indicators(&mut reports).await?;
        Ok(reports)
    }

    /// Fills each report's indicators (one query for all of them).
    async fn attach_indicators(&self, reports: &mut [FraudReport]) -> Result<()> {
        if reports.is_empty() {
            return Ok(());
        }
        let list = json!(reports.iter().map(|r| r.id.0).collect::<Vec<_>>()).to_string();
        let rows: Vec<(i64, FraudIndicator)> = with_pool!(self, |pool, pg| {
            sqlx::query(if pg {
                INDICATORS_POSTGRES
            } else {
                INDICATORS_SQLITE
            })
            .bind(&list)
            .fetch_all(pool)
            .await
            .map_err(db("read fraud indicators"))?
            .iter()
            .map(|r| Ok((r.i64("report_id")?, indicator_from_row(r)?)))
            .collect::<Result<_>>()?
        });
        for (report, ind) in rows {
            if let Some(r) = reports.iter_mut().find(|r| r.id.0 == report) {
                r.indicators.push(ind);
            }
        }
        Ok(())
    }

    /// Reports within `scope` that pass `filter`, oldest first, with their indicators: up to
    /// `limit` with ids above `after`.
    pub async fn list_fraud_reports(
        &self,
        scope: &Scope,
        filter: ReportFilter,
        after: Option<FraudReportId>,
        limit: u32,
    ) -> Result<Vec<FraudReport>> {
        let (s1, s2) = filter.statuses();
        let listed: Result<Vec<FraudReport>> = fetch_scoped!(
            self,
            LIST,
            scope,
            [after.map(|a| a.0), i64::from(limit), s1, s2],
            "list fraud reports",
            fraud_from_row
        );
        let mut reports = listed?;
        self.attach_indicators(&mut reports).await?;
        Ok(reports)
    }

    /// Every accepted report's place, loss, time and channel, by id.
    pub async fn accepted_fraud_summaries(&self) -> Result<Vec<FraudSummary>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT r.id, r.mahalla_id, m.district_id, d.region_id, r.amount_lost, r.occurred_at, r.channel \
                 FROM fraud_reports r JOIN mahallas m ON m.id = r.mahalla_id \
                 JOIN districts d ON d.id = m.district_id WHERE r.status = $1 ORDER BY r.id",
            )
            .bind(ReportStatus::Accepted.as_str())
            .fetch_all(pool)
            .await
            .map_err(db("read accepted fraud reports"))?
            .iter()
            .map(|r| {
                Ok(FraudSummary {
                    id: FraudReportId(r.i64("id")?),
                    area: Area::Mahalla {
                        region: RegionId(r.i64("region_id")?),
                        district: DistrictId(r.i64("district_id")?),
                        mahalla: MahallaId(r.i64("mahalla_id")?),
                    },
                    amount_lost: r.i64("amount_lost")?,
                    occurred_at: r.ts("occurred_at")?,
                    channel: word("fraud channel", &r.text("channel")?)?,
                })
            })
            .collect()
        })
    }

    /// A moderator's decision on a fraud report (see [`Moderation::apply`]), audited
    /// (`fraud.moderate`). Accepting records the incident (category fraud, or cybercrime when
    /// the moderator says so; source `public`; reported when the victim sent it; in the
    /// victim's mahalla unless the moderator names another) in the same transaction.
    pub async fn moderate_fraud_report(
        &self,
        id: FraudReportId,
        m: &Moderation,
        note: &str,
        moderator: UserId,
    ) -> Result<FraudModerated> {
        let report = self.get_fraud_report(id).await?.ok_or(Error::NotFound {
            what: "fraud report",
            id: id.0,
        })?;
        let incident_id = self
            .moderate_in(
                &FRAUD_REPORTS,
                id.0,
                m,
                note,
                moderator,
                report.submitted_at,
                |category, mahalla| {
                    Ok(NewIncident {
                        category: incident_category(category)?,
                        source: Source::Public,
                        occurred_at: report.occurred_at,
                        mahalla: mahalla.unwrap_or(report.mahalla),
                        point: None,
                        affected: Default::default(),
                        narrative: report.incident_narrative(),
                        event: None,
                    })
                },
            )
            .await?;
        let report = self.get_fraud_report(id).await?.ok_or(Error::NotFound {
            what: "fraud report",
            id: id.0,
        })?;
        let incident = match incident_id {
            Some(i) => self.get_incident(IncidentId(i)).await?,
            None => None,
        };
        Ok(Moderated { report, incident })
    }
}

fn fraud_from_row(r: &impl RowExt) -> Result<FraudReport> {
    Ok(FraudReport {
        id: FraudReportId(r.i64("id")?),
        code: ReportCode::parse(&r.text("code")?).map_err(crate::error::corrupt("report code"))?,
        occurred_at: r.ts("occurred_at")?,
        amount_lost: r.i64("amount_lost")?,
        channel: word::<Channel>("fraud channel", &r.text("channel")?)?,
        narrative: r.text("narrative")?,
        mahalla: MahallaId(r.i64("mahalla_id")?),
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
        indicators: Vec::new(),
    })
}

fn indicator_from_row(r: &impl RowExt) -> Result<FraudIndicator> {
    Ok(FraudIndicator {
        kind: r.text("kind")?,
        value: r.text("value")?,
        card_hash: r.opt_text("card_hash")?,
        hash: r.text("hash")?,
        link_domain: r.opt_text("link_domain")?,
        found_in: word::<FoundIn>("where an indicator was found", &r.text("found_in")?)?,
        suspicious: r
            .text("suspicious")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        defanged: r.boolean("defanged")?,
    })
}
