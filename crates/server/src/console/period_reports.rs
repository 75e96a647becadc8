//! "Reports": pick an area within your scope and a month, quarter or half year that has ended,
//! and open its period report as HTML, PDF or CSV (`GET /api/period-reports`, which audits
//! each one with its SHA-256). The page only checks the choice; the report is made on download.
use axum::extract::{Query, State};
use domain::Scope;
use serde::Deserialize;

use super::html::Html;
use super::{PageResult, Viewer, error_banner, mahalla_name, page};
use crate::AppState;
use crate::html;
use crate::period_reports::{REPORT_READERS, check, recent};

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    period: String,
}

/// `(value, label)` of every area the viewer may report on: their scope's own place and the
/// places below it, down to districts (and to mahallas within a district).
async fn areas(state: &AppState, scope: &Scope) -> Result<Vec<(String, String)>, store::Error> {
    let s = &state.store;
    let mut out = Vec::new();
    let districts = |out: &mut Vec<(String, String)>, ds: Vec<domain::District>| {
        for d in ds {
            out.push((
                format!("district:{}", d.id),
                format!("  {}", d.names.uz_latn),
            ));
        }
    };
    match *scope {
        Scope::National => {
            let all = s.list_all_districts().await?;
            for r in s.list_regions().await? {
                out.push((format!("region:{}", r.id), r.names.uz_latn.clone()));
                districts(
                    &mut out,
                    all.iter().filter(|d| d.region == r.id).cloned().collect(),
                );
            }
        }
        Scope::Region(r) => {
            if let Some(reg) = s.get_region(r).await? {
                out.push((format!("region:{}", reg.id), reg.names.uz_latn));
            }
            districts(&mut out, s.list_districts(r).await?);
        }
        Scope::District(d) => {
            if let Some(dis) = s.get_district(d).await? {
                out.push((format!("district:{}", dis.id), dis.names.uz_latn));
            }
            for m in s.list_mahallas(d).await? {
                out.push((
                    format!("mahalla:{}", m.id),
                    format!("  {}", mahalla_name(&m)),
                ));
            }
        }
        Scope::Mahalla(m) => {
            if let Some(mh) = s.get_mahalla(m).await? {
                out.push((format!("mahalla:{}", mh.id), mahalla_name(&mh)));
            }
        }
    }
    Ok(out)
}

/// `GET /console/period-reports?area=&period=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    v.require(REPORT_READERS)?;
    let now = state.store_now();
    let mut body = Html::new();
    html!(body; "<p class=\"muted\">A period report gathers a place's counts by source and category \
        against the previous period and a year before, its crime-free mahallas, tested hot spots \
        with their forecast accuracy (PAI), roadmap progress, the incidents that affected minors, \
        youth and women (in aggregate) and the share of fraud and cybercrime. The same data always \
        give the same file; each download is written to the audit log with its SHA-256.</p>");
    html!(body; "<form method=\"get\" action=\"/console/period-reports\" class=\"filters\" id=\"period-report-form\">"
        "<label>Area <select name=\"area\" id=\"area\">");
    for (value, label) in areas(&state, &v.me.user.scope).await? {
        body.raw("<option value=\"").text(&value).raw("\"");
        if value == q.area {
            body.raw(" selected");
        }
        html!(body; ">" {label} "</option>");
    }
    body.raw("</select></label><label>Period <select name=\"period\" id=\"period\">");
    for (kind, months, n) in [("Months", 1, 12), ("Quarters", 3, 8), ("Half years", 6, 4)] {
        html!(body; "<optgroup label=\"" {kind} "\">");
        for p in recent(now, months, n) {
            let l = p.label();
            body.raw("<option value=\"").text(&l).raw("\"");
            if l == q.period {
                body.raw(" selected");
            }
            html!(body; ">" {l} "</option>");
        }
        body.raw("</optgroup>");
    }
    body.raw("</select></label><button type=\"submit\">Prepare</button></form>");
    if !q.area.is_empty() || !q.period.is_empty() {
        match check(&state.store, &v.me.user.scope, &q.area, &q.period, now).await {
            Err(e) => {
                body.push(&error_banner(&e));
            }
            Ok((area, p)) => {
                let link = |format: &str| {
                    format!(
                        "/api/period-reports?area={}&period={}&format={format}",
                        area.info.key(),
                        p.label()
                    )
                };
                html!(body; "<section class=\"card\" id=\"period-report-links\"><h2>" {area.info.name} ", "
                    {p.label()} "</h2><p>"
                    "<a href=\"" {link("html")} "\" id=\"report-html\">Open as a web page (HTML)</a> · "
                    "<a href=\"" {link("pdf")} "\" id=\"report-pdf\">Download PDF</a> · "
                    "<a href=\"" {link("csv")} "\" id=\"report-csv\">Download CSV</a></p>"
                    "<p class=\"muted\">Compared with " {p.previous().label()} " and "
                    {p.year_before().label()} ". Roadmap progress shows as not recorded until \
                    roadmaps are stored.</p></section>");
            }
        }
    }
    Ok(page(&v, "/console/period-reports", "Reports", &body))
}
