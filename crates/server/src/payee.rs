//! The banks' payee check: `POST /api/payee-check` (docs/design/021-payee-check.md).
//!
//! A bank's server, about to send a payment, sends the card, phone number or IBAN that would
//! receive it, with its API key (`Authorization: Bearer pbk_…`, see [`crate::bank_keys`]).
//! posbon normalises the value as the victims' reports were normalised (a card is hashed under
//! the server's card key and never kept), looks its hash up in the in-memory index of reported
//! indicators ([`crate::threat::Threats`]) and answers: how many reports, how recent, how big the
//! campaign behind it is and how much it has cost, and what to do.
//!
//! No session, no CSRF token (a machine calls it; a browser cannot send the header across
//! sites), a 4 KiB body limit, a token bucket per key. Calls are not audited one by one (a bank
//! may make millions a day) but counted per key and per verdict in `/metrics`; the values
//! checked are never logged or counted by value.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cyber::{FieldError, IndicatorKind};
use domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::bank_keys::{KeyCache, KeyState, key_hash, looks_like_key};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::threat::Threats;

pub mod synthetic;

/// The largest request body accepted: one `{kind, value}` needs well under 200 bytes.
pub const MAX_PAYEE_BODY_BYTES: usize = 4 << 10;
/// The longest value looked at, in characters (an IBAN has at most 34, with spaces 42).
pub const MAX_VALUE_CHARS: usize = 100;
/// A report at most this many days old is recent: hold the payment.
pub const RECENT_DAYS: i64 = 30;
/// After this many days a report is old: numbers and cards change hands.
pub const OLD_DAYS: i64 = 365;

/// The kinds a bank can check: what can receive a payment.
pub const KINDS: [IndicatorKind; 3] = [
    IndicatorKind::Card,
    IndicatorKind::Phone,
    IndicatorKind::Iban,
];

/// The payee check's keys and counters (one per server).
#[derive(Debug, Default)]
pub struct Payee {
    pub keys: KeyCache,
    reported: AtomicU64,
    not_reported: AtomicU64,
    invalid: AtomicU64,
    unauthorized: AtomicU64,
    limited: AtomicU64,
}

impl Payee {
    /// The Prometheus lines of the payee check: answers by verdict, refusals by reason, and
    /// requests per key id (never a value checked, never a key).
    pub fn metrics(&self) -> String {
        use std::fmt::Write;
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP posbon_payee_checks_total Payee checks answered, by verdict (invalid: 400, 413 or 415).\n");
        out.push_str("# TYPE posbon_payee_checks_total counter\n");
        for (v, c) in [
            ("reported", &self.reported),
            ("not_reported", &self.not_reported),
            ("invalid", &self.invalid),
        ] {
            let _ = writeln!(out, "posbon_payee_checks_total{{verdict=\"{v}\"}} {}", n(c));
        }
        out.push_str("# HELP posbon_payee_refused_total Payee-check requests refused before the check, by reason.\n");
        out.push_str("# TYPE posbon_payee_refused_total counter\n");
        for (r, c) in [
            ("unauthorized", &self.unauthorized),
            ("rate_limited", &self.limited),
        ] {
            let _ = writeln!(out, "posbon_payee_refused_total{{reason=\"{r}\"}} {}", n(c));
        }
        out.push_str("# HELP posbon_payee_key_requests_total Payee-check requests per bank key id since the server started, by outcome.\n");
        out.push_str("# TYPE posbon_payee_key_requests_total counter\n");
        for (id, checks, limited) in self.keys.counts() {
            let _ = writeln!(
                out,
                "posbon_payee_key_requests_total{{key_id=\"{id}\",outcome=\"admitted\"}} {checks}"
            );
            let _ = writeln!(
                out,
                "posbon_payee_key_requests_total{{key_id=\"{id}\",outcome=\"rate_limited\"}} {limited}"
            );
        }
        out
    }
}

/// What a bank sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// `card`, `phone` or `iban`.
    pub kind: String,
    /// As the customer typed it: spaces, dashes and the usual ways of writing are accepted.
    pub value: String,
}

/// What posbon answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// `reported` or `not_reported`.
    pub verdict: &'static str,
    pub kind: &'static str,
    /// What was checked, in normal form: E.164 phone, IBAN, or a card's BIN…last4 (never the
    /// whole number).
    pub checked: String,
    /// Reports that named this payee.
    pub reports: u32,
    /// When the latest of them said the fraud happened.
    pub last_reported: Option<Timestamp>,
    /// Whole days since then, by the server's clock.
    pub days_since: Option<i64>,
    /// Reports in the campaign this payee belongs to (reports linked by shared indicators).
    pub campaign_reports: u32,
    /// Money the victims of that campaign reported lost, in tiyin.
    pub campaign_loss_tiyin: u64,
    pub advice: &'static str,
}

const ADVICE_NONE: &str = "No victim has reported this payee to posbon. That is not a guarantee: every fraud starts unreported, so keep your usual checks.";
const ADVICE_RECENT: &str = "Reported by fraud victims within the last 30 days: hold the payment and confirm it with the customer through a channel you already trust (not one the payee gave). Fraudsters push victims to hurry.";
const ADVICE_OLDER: &str = "Reported by fraud victims within the last year: warn the customer and confirm who the payee is before paying.";
const ADVICE_OLD: &str = "Reported by fraud victims more than a year ago: numbers and cards can change hands since, but confirm the payee with the customer before paying.";

fn kind_word(word: &str) -> Result<IndicatorKind, ApiError> {
    IndicatorKind::parse(word)
        .filter(|k| KINDS.contains(k))
        .ok_or_else(|| {
            let shown: String = word.chars().take(40).collect();
            ApiError::bad_request(
                format!("kind {shown:?} is not one of: card, phone, iban"),
                "send kind card, phone or iban (links, handles and wallets are checked by the public check)",
            )
        })
}

/// The 400 for a value that is not a usable card, phone number or IBAN, naming the field.
fn bad_value(kind: IndicatorKind, e: &FieldError) -> ApiError {
    let (what, reason, fix) = match e {
        FieldError::Card(e) => (
            "card number",
            e.to_string(),
            "send the 13 to 19 digits printed on the card (spaces or dashes between groups are fine); a failed check digit means a digit was mistyped",
        ),
        FieldError::Phone(e) => (
            "phone number",
            e.to_string(),
            "send an Uzbek number as +998 90 123 45 67, 998901234567, 90 123 45 67 or 8 90 123 45 67, or a foreign number with + and its country code",
        ),
        FieldError::Iban(e) => (
            "IBAN",
            e.to_string(),
            "send the IBAN as printed: two letters of the country, two check digits, then the account (spaces are fine); a failed check means a character was mistyped",
        ),
        other => (
            "value",
            other.to_string(),
            "send a card, phone number or IBAN",
        ),
    };
    ApiError::bad_request(
        format!("value is not a usable {what} (kind {kind}): {reason}"),
        fix,
    )
}

/// The check itself (no I/O): parse and normalise `value` as `kind`, hash it (a card under the
/// card key), probe the index, and word the answer with `now` as the time. The HTTP handler
/// and the in-process benchmark both call this.
pub fn answer(
    threats: &Threats,
    kind: &str,
    value: &str,
    now: Timestamp,
) -> Result<Answer, ApiError> {
    let kind = kind_word(kind)?;
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(
            "value is empty",
            format!("send the {kind} to check as value"),
        ));
    }
    let chars = value.chars().take(MAX_VALUE_CHARS + 1).count();
    if chars > MAX_VALUE_CHARS {
        return Err(ApiError::bad_request(
            format!("value is longer than {MAX_VALUE_CHARS} characters"),
            format!("send only the {kind}; no card, phone number or IBAN is that long"),
        ));
    }
    let ind = threats
        .extractor()
        .field(kind, value)
        .map_err(|e| bad_value(kind, &e))?;
    let hash = ind.key().hash();
    let verdict = threats.read().verdict(&hash);
    Ok(match verdict {
        None => Answer {
            verdict: "not_reported",
            kind: kind.as_str(),
            checked: ind.value,
            reports: 0,
            last_reported: None,
            days_since: None,
            campaign_reports: 0,
            campaign_loss_tiyin: 0,
            advice: ADVICE_NONE,
        },
        Some(v) => {
            let last = Timestamp::from_unix_micros(v.last_seen.saturating_mul(1_000_000));
            let days = last.map(|t| {
                (now.unix_micros().saturating_sub(t.unix_micros()) / 86_400_000_000).max(0)
            });
            let advice = match days {
                Some(d) if d <= RECENT_DAYS => ADVICE_RECENT,
                Some(d) if d <= OLD_DAYS => ADVICE_OLDER,
                _ => ADVICE_OLD,
            };
            Answer {
                verdict: "reported",
                kind: kind.as_str(),
                checked: ind.value,
                reports: v.reports,
                last_reported: last,
                days_since: days,
                campaign_reports: v.campaign_reports,
                campaign_loss_tiyin: v.total_loss,
                advice,
            }
        }
    })
}

/// The bank key of a request, accepted and within its rate. Refusals: 401 without a key or
/// with one that is unknown or revoked (the same answer for both), 429 over the key's rate.
pub struct BankClient {
    pub key: Arc<KeyState>,
}

fn unauthorized(error: &str) -> Response {
    let mut r = ApiError::new(
        StatusCode::UNAUTHORIZED,
        error,
        "send Authorization: Bearer <key> with a key issued to your bank by a posbon administrator; a revoked key must be replaced",
    )
    .into_response();
    r.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

impl FromRequestParts<AppState> for BankClient {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let payee = &state.payee;
        let refuse = |msg: &str| {
            payee.unauthorized.fetch_add(1, Ordering::Relaxed);
            unauthorized(msg)
        };
        let Some(sent) = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(refuse("this endpoint needs a bank API key"));
        };
        let token = sent
            .strip_prefix("Bearer ")
            .or_else(|| sent.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or_default();
        const UNKNOWN: &str = "unknown or revoked bank API key";
        if !looks_like_key(token) {
            return Err(refuse(UNKNOWN));
        }
        let key = match payee.keys.find(&state.store, &key_hash(token)).await {
            Ok(Some(k)) => k,
            Ok(None) => return Err(refuse(UNKNOWN)),
            Err(e) => return Err(e.into_response()),
        };
        if let Err(wait) = key.admit(Instant::now()) {
            payee.limited.fetch_add(1, Ordering::Relaxed);
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "over this key's rate of {} checks a second",
                    key.rate_per_second
                ),
                "wait the seconds Retry-After gives; ask the posbon administrator for a key with a higher rate if your payments need more",
            )
            .into_response();
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            return Err(r);
        }
        Ok(BankClient { key })
    }
}

/// `POST /api/payee-check`
pub async fn check(
    State(state): State<AppState>,
    _bank: BankClient,
    body: Result<ApiJson<CheckRequest>, ApiError>,
) -> Response {
    let result = body
        .and_then(|ApiJson(req)| answer(&state.threats, &req.kind, &req.value, state.store_now()));
    let p = &state.payee;
    match result {
        Ok(a) => {
            let counter = if a.reports > 0 {
                &p.reported
            } else {
                &p.not_reported
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let mut r = Json(a).into_response();
            r.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            p.invalid.fetch_add(1, Ordering::Relaxed);
            e.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threats() -> Threats {
        Threats::new(cyber::CardKey::random().unwrap())
    }

    fn at(unix: i64) -> Timestamp {
        Timestamp::from_unix_micros(unix * 1_000_000).unwrap()
    }

    #[test]
    fn reported_payees_are_found_however_they_are_written() {
        let t = threats();
        let card = t
            .extractor()
            .field(IndicatorKind::Card, "8600 3129 1234 5671")
            .unwrap();
        let phone = t
            .extractor()
            .field(IndicatorKind::Phone, "+998901234567")
            .unwrap();
        t.add_report(1, 1_700_000_000, 250_000, &[card, phone.clone()]);
        t.add_report(2, 1_700_086_400, 750_000, &[phone]);
        let now = at(1_700_086_400 + 3 * 86_400 + 5);
        let a = answer(&t, "card", "8600-3129-1234-5671", now).unwrap();
        assert_eq!(a.verdict, "reported");
        assert_eq!(a.checked, "860031…5671");
        assert_eq!((a.reports, a.campaign_reports), (1, 2));
        assert_eq!(a.campaign_loss_tiyin, 1_000_000);
        let p = answer(&t, "phone", "90 123 45 67", now).unwrap();
        assert_eq!(p.reports, 2);
        assert_eq!(p.last_reported, Some(at(1_700_086_400)));
        assert_eq!(p.days_since, Some(3));
        assert_eq!(p.advice, ADVICE_RECENT);
        let old = answer(
            &t,
            "phone",
            "90 123 45 67",
            at(1_700_086_400 + 400 * 86_400),
        )
        .unwrap();
        assert_eq!(old.advice, ADVICE_OLD);
        let miss = answer(&t, "phone", "+998 91 765 43 21", now).unwrap();
        assert_eq!(miss.verdict, "not_reported");
        assert_eq!((miss.reports, miss.last_reported), (0, None));
    }

    #[test]
    fn bad_values_name_the_field_and_the_problem() {
        let t = threats();
        let now = at(1_700_000_000);
        let e = answer(&t, "card", "8600 3129 1234 5670", now).unwrap_err();
        assert!(
            e.error.contains("value") && e.error.contains("Luhn"),
            "{}",
            e.error
        );
        let e = answer(&t, "iban", "GB82 WEST 1234 5698 7654 33", now).unwrap_err();
        assert!(
            e.error.contains("IBAN") && e.error.contains("mod 97"),
            "{}",
            e.error
        );
        let e = answer(&t, "phone", "+998 12 345 67 89", now).unwrap_err();
        assert!(e.error.contains("phone number"), "{}", e.error);
        let e = answer(&t, "link", "https://evil.example", now).unwrap_err();
        assert!(e.error.contains("kind"), "{}", e.error);
        let e = answer(&t, "card", &"4".repeat(5000), now).unwrap_err();
        assert!(e.error.contains("longer than"), "{}", e.error);
        let e = answer(&t, "card", "  ", now).unwrap_err();
        assert!(e.error.contains("empty"), "{}", e.error);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
