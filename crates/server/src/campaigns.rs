//! Campaigns: accepted fraud reports linked by the indicators they share, as the in-memory
//! index ([`crate::threat::Threats`]) keeps them (connected components, updated as each report
//! is accepted), for analysts: the list, one campaign's reports, victims, loss, time line,
//! indicators and mahallas, and takedown lists as CSV and a STIX 2.1 bundle.
//!
//! A campaign's id is its smallest report id: it stays the same as reports join, and when two
//! campaigns merge the older one's id survives. Asking for a merged campaign by one of its
//! reports (in scope) answers the campaign it is now part of.
//!
//! Scope: a campaign is visible when at least one of its reports' (victims') mahallas is in the
//! caller's scope. Its totals (reports, loss, time line) and its indicators (the fraudster's
//! identifiers, which a takedown needs whole) count every report; the reports themselves, their
//! narratives and mahallas are listed only within scope, the rest counted as outside it.
use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{FraudReport, FraudReportId, MahallaId, Role, Scope, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::FraudSummary;

use crate::AppState;
use crate::api::{INCIDENT_READERS, csv_field};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_id, query_i64};

/// Who reads campaigns: whoever reads incidents (within their scope).
pub const CAMPAIGN_READERS: &[Role] = INCIDENT_READERS;
/// The most reports a campaign's page lists (totals count them all).
const MAX_LISTED: usize = 1000;

/// One connected component of the index: its report ids, ascending.
struct Component {
    reports: Vec<i64>,
}

impl Component {
    fn id(&self) -> i64 {
        self.reports[0]
    }
}

/// Every campaign with at least `min` reports, read under the index's lock.
fn components(state: &AppState, min: usize) -> Vec<Component> {
    let idx = state.threats.read();
    let l = idx.linker();
    l.campaigns()
        .into_iter()
        .filter(|c| l.campaign_size(*c) >= min)
        .map(|c| {
            let mut reports: Vec<i64> = l.reports(c).into_iter().map(|r| *r as i64).collect();
            reports.sort_unstable();
            Component { reports }
        })
        .filter(|c| !c.reports.is_empty())
        .collect()
}

/// The campaign report `id` belongs to, if any.
fn component_of(state: &AppState, id: i64) -> Option<Component> {
    let idx = state.threats.read();
    let l = idx.linker();
    let c = l.campaign_of(&(id as u64))?;
    let mut reports: Vec<i64> = l.reports(c).into_iter().map(|r| *r as i64).collect();
    reports.sort_unstable();
    Some(Component { reports })
}

/// A campaign's figures over all its reports, and which of them the caller may see.
struct Seen<'a> {
    all: Vec<&'a FraudSummary>,
    in_scope: Vec<&'a FraudSummary>,
}

impl<'a> Seen<'a> {
    fn of(c: &Component, by_id: &'a HashMap<i64, FraudSummary>, scope: &Scope) -> Seen<'a> {
        let all: Vec<&FraudSummary> = c.reports.iter().filter_map(|r| by_id.get(r)).collect();
        let in_scope = all
            .iter()
            .copied()
            .filter(|s| scope.covers(&s.area))
            .collect();
        Seen { all, in_scope }
    }

    fn loss(&self) -> i64 {
        self.all.iter().map(|s| s.amount_lost).sum()
    }

    fn span(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let times = self.all.iter().map(|s| s.occurred_at);
        (times.clone().min(), times.max())
    }

    fn channels(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for s in &self.all {
            *m.entry(s.channel.as_str()).or_insert(0) += 1;
        }
        m
    }

    fn summary(&self, id: i64) -> Value {
        let (first, last) = self.span();
        json!({
            "id": id,
            "reports": self.all.len(),
            "victims": self.all.len(),
            "reports_in_scope": self.in_scope.len(),
            "reports_outside_scope": self.all.len() - self.in_scope.len(),
            "total_loss_tiyin": self.loss(),
            "first_occurred_at": first,
            "last_occurred_at": last,
            "channels": self.channels(),
        })
    }
}

async fn summaries(state: &AppState) -> ApiResult<HashMap<i64, FraudSummary>> {
    Ok(state
        .store
        .accepted_fraud_summaries()
        .await?
        .into_iter()
        .map(|s| (s.id.0, s))
        .collect())
}

/// `GET /api/campaigns?min_reports=2&limit=100`: campaigns touching the caller's scope, the
/// largest first.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(CAMPAIGN_READERS)?;
    let min = query_i64(&q, "min_reports", 1, 1_000_000)?.unwrap_or(2) as usize;
    let limit = query_i64(&q, "limit", 1, 1000)?.unwrap_or(100) as usize;
    let by_id = summaries(&state).await?;
    let mut rows: Vec<(usize, i64, Value)> = components(&state, min)
        .iter()
        .filter_map(|c| {
            let seen = Seen::of(c, &by_id, &me.user.scope);
            (!seen.in_scope.is_empty() && seen.all.len() >= min)
                .then(|| (seen.all.len(), c.id(), seen.summary(c.id())))
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let total = rows.len();
    let campaigns: Vec<Value> = rows.into_iter().take(limit).map(|r| r.2).collect();
    Ok(Json(
        json!({ "campaigns": campaigns, "total": total, "min_reports": min }),
    ))
}

/// A campaign as the caller may see it.
pub(crate) struct CampaignView {
    pub id: i64,
    pub body: Value,
    /// Every report's indicators, merged (for the exports).
    pub indicators: Vec<IndicatorRow>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// One distinct indicator of a campaign.
#[derive(Debug, Clone)]
pub(crate) struct IndicatorRow {
    pub kind: String,
    pub value: String,
    pub link_domain: Option<String>,
    pub reports: usize,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub suspicious: Vec<String>,
}

/// The campaign's distinct indicators, each counted once per report that names it. The
/// registrable domain of a link is a row of its own (kind `domain`): it is what links reports
/// of one site, and what a takedown asks for.
fn merge_indicators(reports: &[FraudReport]) -> Vec<IndicatorRow> {
    let mut by_key: BTreeMap<(String, String), IndicatorRow> = BTreeMap::new();
    for r in reports {
        let mut seen: Vec<(String, String)> = Vec::new();
        let entries = r.indicators.iter().flat_map(|i| {
            let own = (
                i.kind.clone(),
                i.key_value(),
                i.value.clone(),
                i.link_domain.clone(),
                &i.suspicious,
            );
            let domain = i.link_domain.as_ref().map(|d| {
                (
                    "domain".to_owned(),
                    d.clone(),
                    d.clone(),
                    None,
                    &i.suspicious,
                )
            });
            std::iter::once(own).chain(domain)
        });
        for (kind, key, value, link_domain, suspicious) in entries {
            if seen.contains(&(kind.clone(), key.clone())) {
                continue;
            }
            seen.push((kind.clone(), key.clone()));
            let row = by_key
                .entry((kind.clone(), key))
                .or_insert_with(|| IndicatorRow {
                    kind,
                    value,
                    link_domain,
                    reports: 0,
                    first_seen: r.occurred_at,
                    last_seen: r.occurred_at,
                    suspicious: Vec::new(),
                });
            row.reports += 1;
            row.first_seen = row.first_seen.min(r.occurred_at);
            row.last_seen = row.last_seen.max(r.occurred_at);
            for s in suspicious {
                if !row.suspicious.contains(s) {
                    row.suspicious.push(s.clone());
                }
            }
        }
    }
    let mut rows: Vec<IndicatorRow> = by_key.into_values().collect();
    rows.sort_by(|a, b| b.reports.cmp(&a.reports).then(a.kind.cmp(&b.kind)));
    rows
}

/// Reports per day (UTC), over all the campaign's reports.
fn timeline(seen: &Seen<'_>) -> Vec<Value> {
    let mut days: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for s in &seen.all {
        let d = s.occurred_at.to_string()[..10].to_owned();
        let e = days.entry(d).or_insert((0, 0));
        e.0 += 1;
        e.1 += s.amount_lost;
    }
    days.into_iter()
        .map(|(day, (n, loss))| json!({ "day": day, "reports": n, "loss_tiyin": loss }))
        .collect()
}

/// The campaign `raw` names, as `me` may see it; 404 when it is no campaign's id (and no
/// in-scope report of one), or touches nothing in scope.
pub(crate) async fn view(state: &AppState, me: &CurrentUser, raw: &str) -> ApiResult<CampaignView> {
    let id = parse_id("campaign", raw)?;
    let missing = || ApiError::not_found("campaign", id);
    let c = component_of(state, id).ok_or_else(missing)?;
    let by_id = summaries(state).await?;
    let seen = Seen::of(&c, &by_id, &me.user.scope);
    let named_by_a_visible_report = seen.in_scope.iter().any(|s| s.id.0 == id);
    if seen.in_scope.is_empty() || (c.id() != id && !named_by_a_visible_report) {
        return Err(missing());
    }
    let ids: Vec<FraudReportId> = seen.all.iter().map(|s| s.id).collect();
    let reports = state.store.fraud_reports_by_ids(&ids).await?;
    let indicators = merge_indicators(&reports);
    let in_scope: Vec<&FraudReport> = reports
        .iter()
        .filter(|r| seen.in_scope.iter().any(|s| s.id == r.id))
        .collect();
    let mut mahallas: BTreeMap<MahallaId, usize> = BTreeMap::new();
    for r in &in_scope {
        *mahallas.entry(r.mahalla).or_insert(0) += 1;
    }
    let mut places = Vec::new();
    for (m, n) in mahallas {
        let name = state.store.get_mahalla(m).await?.map(|x| x.names.uz_latn);
        places.push(json!({ "id": m, "name": name, "reports": n }));
    }
    let listed: Vec<Value> = in_scope
        .iter()
        .take(MAX_LISTED)
        .map(|r| {
            json!({
                "id": r.id, "occurred_at": r.occurred_at, "submitted_at": r.submitted_at,
                "amount_lost_tiyin": r.amount_lost, "channel": r.channel, "mahalla": r.mahalla,
                "narrative": r.narrative, "incident": r.incident,
                "indicators": r.indicators.iter().map(|i| json!({"kind": i.kind, "value": i.value})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (first, last) = seen.span();
    let body = json!({
        "campaign": seen.summary(c.id()),
        "reports": listed,
        "timeline": timeline(&seen),
        "indicators": indicators.iter().map(|i| json!({
            "kind": i.kind, "value": i.value, "registrable_domain": i.link_domain,
            "reports": i.reports, "first_seen": i.first_seen, "last_seen": i.last_seen,
            "suspicious": i.suspicious,
        })).collect::<Vec<_>>(),
        "mahallas": places,
    });
    Ok(CampaignView {
        id: c.id(),
        body,
        indicators,
        first,
        last,
    })
}

/// `GET /api/campaigns/{id}`
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(CAMPAIGN_READERS)?;
    Ok(Json(view(&state, &me, &raw).await?.body))
}

/// The campaign `raw` names, for an export in `format`: the role and scope checked, the export
/// audited (`campaign.export`) before anything is sent.
async fn exported(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    format: &str,
) -> ApiResult<CampaignView> {
    me.require(CAMPAIGN_READERS)?;
    let v = view(state, me, raw).await?;
    state
        .store
        .audit_append(
            &me.actor(),
            "campaign.export",
            &format!("campaign:{}", v.id),
            &json!({
                "format": format,
                "indicators": v.indicators.len(),
                "scope": me.user.scope.to_string(),
            }),
        )
        .await?;
    Ok(v)
}

fn attachment(content_type: &'static str, filename: String, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub const TAKEDOWN_HEADER: &str =
    "kind,value,registrable_domain,reports,first_seen,last_seen,suspicious";

/// `GET /api/campaigns/{id}/takedown.csv` (audited): every indicator of the campaign, the most
/// reported first. Cards appear as `BIN…last4` (the number is never stored).
pub async fn takedown_csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let v = exported(&state, &me, &raw, "csv").await?;
    let mut out = String::from(TAKEDOWN_HEADER);
    out.push('\n');
    for i in &v.indicators {
        let fields = [
            csv_field(&i.kind),
            csv_field(&i.value),
            csv_field(i.link_domain.as_deref().unwrap_or("")),
            i.reports.to_string(),
            i.first_seen.to_string(),
            i.last_seen.to_string(),
            csv_field(&i.suspicious.join(" ")),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok(attachment(
        "text/csv; charset=utf-8",
        format!("campaign-{}-takedown.csv", v.id),
        out,
    ))
}

/// A STIX id: the type and a UUID derived from a hash of `seed`, laid out as a version 4 UUID,
/// so that exporting the same campaign again gives its objects the same ids.
fn stix_id(kind: &str, seed: &str) -> String {
    let h = Sha256::digest(format!("posbon-stix\n{kind}\n{seed}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{kind}--{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// A string inside a STIX pattern: `'` and `\` escaped.
fn stix_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern for an indicator. STIX 2.1 has cyber-observable types for domains, URLs
/// and user accounts; phone numbers, IBANs, wallets and cards have none, so they use custom
/// `x-posbon-*` object types.
pub(crate) fn stix_pattern(kind: &str, value: &str) -> String {
    let v = stix_str(value);
    match kind {
        "domain" => format!("[domain-name:value = {v}]"),
        "link" => format!("[url:value = {v}]"),
        "handle" => {
            format!("[user-account:account_login = {v} AND user-account:account_type = 'telegram']")
        }
        "card" => format!("[x-posbon-card:masked = {v}]"),
        other => format!("[x-posbon-{other}:value = {v}]"),
    }
}

/// `GET /api/campaigns/{id}/stix.json` (audited): a STIX 2.1 bundle: posbon's identity, the
/// campaign, one indicator per identifier (with `x_posbon_kind` and `x_posbon_reports`) and an
/// `indicates` relationship from each to the campaign.
pub async fn stix(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let v = exported(&state, &me, &raw, "stix").await?;
    let now = state.store_now().to_string();
    let identity = stix_id("identity", "posbon");
    let campaign = stix_id("campaign", &v.id.to_string());
    let c = &v.body["campaign"];
    let mut objects = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": identity,
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": "posbon", "identity_class": "system",
        }),
        json!({
            "type": "campaign", "spec_version": "2.1", "id": campaign, "created_by_ref": identity,
            "created": now, "modified": now,
            "name": format!("posbon fraud campaign {}", v.id),
            "description": format!("{} victims' reports, {} so'm lost in total",
                c["reports"], domain::fraud::format_som(c["total_loss_tiyin"].as_i64().unwrap_or(0))),
            "first_seen": v.first, "last_seen": v.last,
        }),
    ];
    for i in &v.indicators {
        let seed = format!("{}\n{}\n{}", v.id, i.kind, i.value);
        let ind = stix_id("indicator", &seed);
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": ind, "created_by_ref": identity,
            "created": now, "modified": now,
            "name": format!("{} {}", i.kind, i.value),
            "indicator_types": ["malicious-activity"],
            "pattern": stix_pattern(&i.kind, &i.value), "pattern_type": "stix",
            "valid_from": i.first_seen,
            "x_posbon_kind": i.kind, "x_posbon_reports": i.reports,
        }));
        objects.push(json!({
            "type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", &seed),
            "created": now, "modified": now, "relationship_type": "indicates",
            "source_ref": ind, "target_ref": campaign,
        }));
    }
    let bundle = json!({
        "type": "bundle",
        "id": stix_id("bundle", &format!("{}\n{now}", v.id)),
        "objects": objects,
    });
    Ok(attachment(
        "application/stix+json;version=2.1",
        format!("campaign-{}.stix.json", v.id),
        bundle.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_ids_are_stable_uuid4_shaped() {
        let a = stix_id("indicator", "1\nphone\n+998901234567");
        assert_eq!(a, stix_id("indicator", "1\nphone\n+998901234567"));
        assert_ne!(a, stix_id("indicator", "2\nphone\n+998901234567"));
        let uuid = a.strip_prefix("indicator--").unwrap();
        let parts: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn patterns_escape_and_name_custom_types() {
        assert_eq!(
            stix_pattern("domain", "evil.uz"),
            "[domain-name:value = 'evil.uz']"
        );
        assert_eq!(
            stix_pattern("link", "http://x.uz/a'b\\c"),
            "[url:value = 'http://x.uz/a\\'b\\\\c']"
        );
        assert_eq!(
            stix_pattern("phone", "+998901234567"),
            "[x-posbon-phone:value = '+998901234567']"
        );
        assert!(stix_pattern("handle", "fake_bot").contains("account_type = 'telegram'"));
    }
}
