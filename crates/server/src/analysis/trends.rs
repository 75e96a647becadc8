//! `GET /api/analytics/trends` (and `.csv`): an area's counts and rates in a period against the
//! previous period and the same period a year before, per source and category, each change
//! tested exactly; plus the count series of the last periods for charts. Public reports and
//! patrol finds are separate series everywhere: the report has one entry per source and no sum
//! over sources.
use analytics::data::{Period, UZ_OFFSET_S};
use analytics::trends::{Change, Series, Trend, TrendQuery, TrendReport};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{
    ANALYTICS_READERS, Params, Place, analytics_error, area_param, audited, clean, csv_line,
    csv_response, load_incidents, load_mahallas, num, period_param,
};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiResult;

/// How many periods the chart series covers (the current one and those before it).
pub const SERIES_BINS: usize = 12;

pub const METHOD: &str = "Each source is its own series: reports by the public, finds by patrols, confirmed camera events and inspectors' records are never added together (patrol finds follow where patrols already go). The period is compared with the previous one (for whole calendar months, the same number of months just before; otherwise the same length just before) and with the same dates a year earlier. Test: the exact conditional binomial test for two Poisson counts (periods of different lengths allowed); rate ratio with an exact interval; Benjamini-Hochberg over every comparison of the report; a change is up or down only when q < alpha. Rates are per 1,000 residents of the area over the period (per mahalla where no population is known).";

/// A trend report with the chart series.
pub struct Trends {
    pub place: Place,
    pub report: TrendReport,
    pub series: Series,
}

impl super::Exported for Trends {
    const KIND: &'static str = "trends";
    fn place(&self) -> &Place {
        &self.place
    }
    fn period(&self) -> Period {
        self.report.current
    }
    /// One row per source and category, `all` included.
    fn rows(&self) -> usize {
        self.report
            .by_source
            .values()
            .map(|s| 1 + s.by_category.len())
            .sum()
    }
}

/// The period before `p` as the trends define it.
fn before(p: &Period) -> Period {
    p.previous_calendar(UZ_OFFSET_S)
        .unwrap_or_else(|| p.previous())
}

/// The chart's bins: `current` and up to `SERIES_BINS - 1` periods before it, oldest first.
pub fn series_bins(current: Period) -> Vec<Period> {
    let mut bins = vec![current];
    while bins.len() < SERIES_BINS {
        let b = before(&bins[bins.len() - 1]);
        if b.start >= b.end || b.start.unix_micros() < 0 {
            break;
        }
        bins.push(b);
    }
    bins.reverse();
    bins
}

/// Role, parameters, the store's rows, the report and the series; the API and the console share
/// it.
pub(crate) async fn compute(state: &AppState, me: &CurrentUser, q: &Params) -> ApiResult<Trends> {
    me.require(ANALYTICS_READERS)?;
    let current = period_param(q, state.store_now())?;
    let place = area_param(state, me, q).await?;
    let previous = before(&current);
    let year_before = current.year_before(UZ_OFFSET_S);
    let bins = series_bins(current);
    let start = [previous.start, year_before.start, bins[0].start]
        .into_iter()
        .min()
        .unwrap_or(current.start);
    let mahallas = load_mahallas(state, &place.scope).await?;
    let incidents = load_incidents(
        state,
        &place.scope,
        Period {
            start,
            end: current.end,
        },
    )
    .await?;
    let query = TrendQuery {
        previous: Some(previous),
        year_before: Some(year_before),
        area: place.area,
        ..TrendQuery::new(current)
    };
    let report = analytics::trends::trends(&mahallas.records, &incidents, &query)
        .map_err(analytics_error)?;
    let series =
        analytics::trends::count_series(&mahallas.records, &incidents, place.area.as_ref(), &bins)
            .map_err(analytics_error)?;
    Ok(Trends {
        place,
        report,
        series,
    })
}

/// `GET /api/analytics/trends?from=&to=&area=`
pub async fn json(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Json<Value>> {
    let t = compute(&state, &me, &clean(q)).await?;
    Ok(Json(json!({
        "area": t.place.scope.to_string(),
        "method": METHOD,
        "report": t.report,
        "series": t.series,
    })))
}

pub const CSV_HEADER: &str = "source,category,current_count,current_rate,previous_count,previous_rate,previous_rate_ratio,previous_ci_low,previous_ci_high,previous_p,previous_q,previous_direction,year_before_count,year_before_rate,year_before_rate_ratio,year_before_ci_low,year_before_ci_high,year_before_p,year_before_q,year_before_direction";

fn change_fields(c: &Change) -> [String; 8] {
    [
        c.count.to_string(),
        num(c.rate),
        num(c.rate_ratio),
        num(Some(c.ci_low)),
        num(c.ci_high),
        num(Some(c.p)),
        num(Some(c.q)),
        json!(c.direction).as_str().unwrap_or_default().to_owned(),
    ]
}

/// `GET /api/analytics/trends.csv` (audited): one row per source and category (`all` first).
pub async fn csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let t = audited(&state, &me, compute(&state, &me, &clean(q)).await?, "csv").await?;
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for (source, st) in &t.report.by_source {
        let all = std::iter::once(("all", &st.all_categories));
        let cats = st.by_category.iter().map(|(c, tr)| (c.as_str(), tr));
        for (cat, tr) in all.chain(cats) {
            let Trend {
                current,
                previous,
                year_before,
            } = tr;
            let mut fields = vec![
                source.to_string(),
                cat.to_owned(),
                current.count.to_string(),
                num(current.rate),
            ];
            fields.extend(change_fields(previous));
            fields.extend(change_fields(year_before));
            csv_line(&mut out, &fields);
        }
    }
    Ok(csv_response("attachment; filename=\"trends.csv\"", out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_bins_are_calendar_months_before_a_month() {
        let march = analytics::data::month(2024, 3, UZ_OFFSET_S);
        let bins = series_bins(march);
        assert_eq!(bins.len(), SERIES_BINS);
        assert_eq!(bins[SERIES_BINS - 1], march);
        assert_eq!(bins[0], analytics::data::month(2023, 4, UZ_OFFSET_S));
        for w in bins.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }
}
