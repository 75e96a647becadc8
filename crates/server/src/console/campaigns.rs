//! Fraud in the console: the campaigns (accepted victims' reports linked by shared indicators:
//! the list, and one campaign with its time line drawn as an inline SVG, its indicators,
//! reports, mahallas and takedown exports) and the queue of victims' reports waiting for a
//! moderator. Reading and deciding go through the API's own handlers
//! ([`crate::campaigns::view`], [`crate::fraud::moderate`]), so roles, scope, CSRF and audit
//! are exactly the API's.
use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use domain::{Category, RejectReason, Timestamp};
use serde_json::Value;

use super::html::Html;
use super::reports::ModerateForm;
use super::show as s;
use super::{PageResult, Viewer, label, page, redirect};
use crate::AppState;
use crate::campaigns::CAMPAIGN_READERS;
use crate::extract::ApiJson;
use crate::fraud::FRAUD_MODERATORS;
use crate::html;

/// So'm from a JSON tiyin amount.
fn som(v: &Value) -> String {
    domain::fraud::format_som(v.as_i64().unwrap_or(0))
}

/// `GET /console/campaigns`
pub async fn list(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(CAMPAIGN_READERS)?;
    let mut q = HashMap::new();
    q.insert("min_reports".to_owned(), "2".to_owned());
    let answer = crate::campaigns::list(State(state), v.me.clone(), Query(q))
        .await?
        .0;
    let mut body = Html::new();
    body.raw("<p class=\"muted\">Accepted victims' reports that share a phone number, card, link, domain, handle, IBAN or wallet, linked as they are accepted. A campaign is shown when one of its victims lives within your scope; reports outside it are counted, not listed.</p>");
    let empty = Vec::new();
    let rows = answer["campaigns"].as_array().unwrap_or(&empty);
    if rows.is_empty() {
        body.raw("<p class=\"empty\">No campaign of two or more reports touches your scope.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"campaigns\"><thead><tr><th>Campaign</th><th>Reports</th><th>In your scope</th><th>Loss, so'm</th><th>First</th><th>Last</th><th>Channels</th></tr></thead><tbody>");
        for c in rows {
            let channels: Vec<String> = c["channels"]
                .as_object()
                .map(|m| m.iter().map(|(k, n)| format!("{} {n}", label(k))).collect())
                .unwrap_or_default();
            html!(body; "<tr><td><a href=\"/console/campaigns/" {s(&c["id"])} "\">#" {s(&c["id"])} "</a></td><td class=\"count\">"
                {s(&c["reports"])} "</td><td class=\"count\">" {s(&c["reports_in_scope"])} "</td><td class=\"count\">"
                {som(&c["total_loss_tiyin"])} "</td><td>" {day(&c["first_occurred_at"])} "</td><td>" {day(&c["last_occurred_at"])}
                "</td><td>" {channels.join(", ")} "</td></tr>");
        }
        body.raw("</tbody></table>");
    }
    Ok(page(&v, "/console/campaigns", "Fraud campaigns", &body))
}

fn day(v: &Value) -> String {
    v.as_str()
        .and_then(|t| t.get(..10))
        .unwrap_or("–")
        .to_owned()
}

/// Days since the epoch of a `YYYY-MM-DD`.
fn day_number(d: &str) -> Option<i64> {
    let t: Timestamp = format!("{d}T00:00:00Z").parse().ok()?;
    Some(t.unix_micros().div_euclid(86_400_000_000))
}

const CHART_W: f64 = 720.0;
const CHART_H: f64 = 150.0;
const MAX_BARS: i64 = 60;

/// The time line as bars of reports per day (per several days when the campaign is long), in
/// an SVG drawn here: no script, no library.
fn timeline_svg(timeline: &[Value]) -> Html {
    let points: Vec<(i64, i64)> = timeline
        .iter()
        .filter_map(|p| Some((day_number(p["day"].as_str()?)?, p["reports"].as_i64()?)))
        .collect();
    let mut h = Html::new();
    let (Some(first), Some(last)) = (
        points.iter().map(|p| p.0).min(),
        points.iter().map(|p| p.0).max(),
    ) else {
        h.raw("<p class=\"muted\">No dates.</p>");
        return h;
    };
    let span = last - first + 1;
    let width = (span + MAX_BARS - 1) / MAX_BARS;
    let bins = (span + width - 1) / width;
    let mut counts = vec![0i64; bins as usize];
    for (d, n) in &points {
        counts[((d - first) / width) as usize] += n;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let bar = CHART_W / bins as f64;
    let unit = if width == 1 {
        "day".to_owned()
    } else {
        format!("{width} days")
    };
    html!(h; "<svg class=\"timeline\" id=\"timeline\" viewBox=\"0 0 " {CHART_W} " " {CHART_H + 20.0}
        "\" width=\"100%\" role=\"img\" aria-label=\"Reports per " {unit} "\" xmlns=\"http://www.w3.org/2000/svg\">"
        "<line x1=\"0\" y1=\"" {CHART_H} "\" x2=\"" {CHART_W} "\" y2=\"" {CHART_H} "\" stroke=\"#5b6773\"></line>");
    for (i, n) in counts.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let bh = (*n as f64 / top as f64) * (CHART_H - 10.0);
        let x = i as f64 * bar;
        let from = Timestamp::from_unix_micros((first + i as i64 * width) * 86_400_000_000)
            .map(|t| t.to_string()[..10].to_owned())
            .unwrap_or_default();
        html!(h; "<rect x=\"" {format!("{:.1}", x + bar * 0.1)} "\" y=\"" {format!("{:.1}", CHART_H - bh)}
            "\" width=\"" {format!("{:.1}", (bar * 0.8).max(1.0))} "\" height=\"" {format!("{bh:.1}")}
            "\" fill=\"#0b5d7a\"><title>" {from} ": " {n} " report(s)</title></rect>");
    }
    let first_day = timeline.first().map(|p| day(&p["day"])).unwrap_or_default();
    let last_day = timeline.last().map(|p| day(&p["day"])).unwrap_or_default();
    html!(h; "<text x=\"0\" y=\"" {CHART_H + 15.0} "\" font-size=\"12\" fill=\"#5b6773\">" {first_day} "</text>"
        "<text x=\"" {CHART_W} "\" y=\"" {CHART_H + 15.0} "\" font-size=\"12\" fill=\"#5b6773\" text-anchor=\"end\">" {last_day} "</text>"
        "<text x=\"" {CHART_W} "\" y=\"12\" font-size=\"12\" fill=\"#5b6773\" text-anchor=\"end\">max " {top} " per " {unit} "</text></svg>");
    h
}

/// `GET /console/campaigns/{id}`
pub async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
) -> PageResult {
    v.require(CAMPAIGN_READERS)?;
    let view = crate::campaigns::view(&state, &v.me, &raw).await?;
    let b = &view.body;
    let c = &b["campaign"];
    let empty = Vec::new();
    let mut body = Html::new();
    html!(body; "<div class=\"detail\"><section class=\"card\"><dl id=\"campaign-facts\">"
        "<dt>Reports (victims)</dt><dd>" {s(&c["reports"])} "</dd>"
        "<dt>In your scope</dt><dd>" {s(&c["reports_in_scope"])} " (outside it: " {s(&c["reports_outside_scope"])} ")</dd>"
        "<dt>Total loss</dt><dd>" {som(&c["total_loss_tiyin"])} " so'm</dd>"
        "<dt>First</dt><dd>" {day(&c["first_occurred_at"])} "</dd><dt>Last</dt><dd>" {day(&c["last_occurred_at"])} "</dd></dl>"
        "<p class=\"exports\">Takedown list (recorded in the audit log): <a href=\"/api/campaigns/" {view.id}
        "/takedown.csv\" id=\"export-csv\">CSV</a> · <a href=\"/api/campaigns/" {view.id} "/stix.json\" id=\"export-stix\">STIX 2.1</a></p></section>"
        "<section class=\"card\"><h2>Mahallas in your scope</h2><ul>");
    for m in b["mahallas"].as_array().unwrap_or(&empty) {
        html!(body; "<li>" {s(&m["name"])} " (" {s(&m["id"])} "): " {s(&m["reports"])} "</li>");
    }
    html!(body; "</ul></section><section class=\"card wide\"><h2>Time line</h2>"
        [timeline_svg(b["timeline"].as_array().unwrap_or(&empty))] "</section>"
        "<section class=\"card wide\"><h2>Indicators</h2><table class=\"list\" id=\"indicators\"><thead><tr><th>Kind</th><th>Value</th><th>Domain</th><th>Reports</th><th>First</th><th>Last</th><th>Tricks</th></tr></thead><tbody>");
    for i in b["indicators"].as_array().unwrap_or(&empty) {
        let tricks: Vec<String> = i["suspicious"]
            .as_array()
            .map(|a| a.iter().map(|x| label(&s(x))).collect())
            .unwrap_or_default();
        html!(body; "<tr><td>" {s(&i["kind"])} "</td><td><code>" {s(&i["value"])} "</code></td><td>" {s(&i["registrable_domain"])}
            "</td><td class=\"count\">" {s(&i["reports"])} "</td><td>" {day(&i["first_seen"])} "</td><td>" {day(&i["last_seen"])}
            "</td><td>" {tricks.join(", ")} "</td></tr>");
    }
    body.raw("</tbody></table></section><section class=\"card wide\"><h2>Reports in your scope</h2><table class=\"list\" id=\"campaign-reports\"><thead><tr><th>#</th><th>Occurred</th><th>Channel</th><th>Loss, so'm</th><th>Mahalla</th><th>Incident</th><th>What happened</th></tr></thead><tbody>");
    for r in b["reports"].as_array().unwrap_or(&empty) {
        let excerpt: String = s(&r["narrative"]).chars().take(160).collect();
        html!(body; "<tr><td>" {s(&r["id"])} "</td><td>" {day(&r["occurred_at"])} "</td><td>" {label(&s(&r["channel"]))}
            "</td><td class=\"count\">" {som(&r["amount_lost_tiyin"])} "</td><td>" {s(&r["mahalla"])} "</td><td>");
        if r["incident"].is_i64() {
            html!(body; "<a href=\"/console/incidents/" {s(&r["incident"])} "\">" {s(&r["incident"])} "</a>");
        }
        html!(body; "</td><td class=\"narrative-cell\">" {excerpt} "</td></tr>");
    }
    body.raw("</tbody></table></section></div>");
    let title = format!("Fraud campaign #{}", view.id);
    Ok(page(&v, "/console/campaigns", &title, &body))
}

/// `GET /console/fraud-reports`: victims' reports waiting for a decision.
pub async fn queue(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(FRAUD_MODERATORS)?;
    let list = crate::fraud::list(State(state), v.me.clone(), Query(HashMap::new()))
        .await?
        .0;
    let mut body = Html::new();
    body.raw("<p class=\"muted\">Reports sent through the public page (/fraud). Accepting one records a fraud incident in the victim's mahalla and adds its phone numbers, cards, links and accounts to the index behind campaigns and the public check. Card numbers are shown as BIN…last4: the number is never stored.</p>");
    let empty = Vec::new();
    let rows = list["reports"].as_array().unwrap_or(&empty);
    if rows.is_empty() {
        body.raw("<p class=\"empty\">No fraud report is waiting.</p>");
        return Ok(page(&v, "/console/fraud-reports", "Fraud reports", &body));
    }
    body.raw("<table class=\"list\" id=\"fraud-reports\"><thead><tr><th>Code</th><th>Occurred</th><th>Channel</th><th>Loss, so'm</th><th>Mahalla</th><th>Indicators</th><th>What happened</th><th>Decision</th></tr></thead><tbody>");
    let categories = [Category::Fraud.as_str(), Category::Cybercrime.as_str()];
    for r in rows {
        let inds: Vec<String> = r["indicators"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| format!("{} {}", s(&i["kind"]), s(&i["value"])))
                    .collect()
            })
            .unwrap_or_default();
        let excerpt: String = s(&r["narrative"]).chars().take(200).collect();
        html!(body; "<tr id=\"fraud-report-" {s(&r["id"])} "\"><td><code>" {s(&r["code"])} "</code></td><td>" {day(&r["occurred_at"])}
            "</td><td>" {label(&s(&r["channel"]))} "</td><td class=\"count\">" {som(&r["amount_lost"])} "</td><td>" {s(&r["mahalla"])}
            "</td><td>" {inds.join("; ")} "</td><td class=\"narrative-cell\">" {excerpt} "</td><td>"
            "<form method=\"post\" action=\"/console/fraud-reports/" {s(&r["id"])} "/moderate\" class=\"inline\">" [v.csrf_field()]
            "<input type=\"hidden\" name=\"decision\" value=\"accept\">"
            [super::select_words("category", &categories, Some("fraud"), None)]
            "<button type=\"submit\">Accept</button></form> "
            "<form method=\"post\" action=\"/console/fraud-reports/" {s(&r["id"])} "/moderate\" class=\"inline\">" [v.csrf_field()]
            "<input type=\"hidden\" name=\"decision\" value=\"reject\">");
        body.raw("<select name=\"reason\">");
        for reason in RejectReason::ALL {
            html!(body; "<option value=\"" {reason.as_str()} "\">" {label(reason.as_str())} "</option>");
        }
        body.raw(
            "</select><button type=\"submit\" class=\"dismiss\">Reject</button></form></td></tr>",
        );
    }
    body.raw("</tbody></table>");
    Ok(page(&v, "/console/fraud-reports", "Fraud reports", &body))
}

/// `POST /console/fraud-reports/{id}/moderate`
pub async fn moderate(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    Form(f): Form<ModerateForm>,
) -> PageResult {
    v.require(FRAUD_MODERATORS)?;
    let req = f.checked(&v)?;
    let _ = crate::fraud::moderate(State(state), v.me.clone(), Path(raw), ApiJson(req)).await?;
    Ok(redirect("/console/fraud-reports"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timeline_bins_long_campaigns_and_escapes_nothing_unsafe() {
        let short = timeline_svg(&[
            json!({"day": "2024-05-01", "reports": 2}),
            json!({"day": "2024-05-03", "reports": 1}),
        ]);
        let svg = short.as_str();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("per day"));
        let long = timeline_svg(&[
            json!({"day": "2024-01-01", "reports": 1}),
            json!({"day": "2024-12-31", "reports": 4}),
        ]);
        assert!(long.as_str().contains("per 7 days"), "{}", long.as_str());
        assert!(timeline_svg(&[]).as_str().contains("No dates"));
    }
}
