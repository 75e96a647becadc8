//! Citizen reports: what a member of the public sends without an account, and what becomes of
//! it. A report counts for nothing until a moderator accepts it; accepting it records an
//! incident (source `public`), so statistics, which are made from incidents, count only accepted
//! reports.
//!
//! A report is found again by its reference code, `R-XXXXX-XXXXX`: ten symbols of Crockford's
//! base 32 (no I, L, O or U), 50 random bits. Codes are read forgivingly (any case, I and L as 1,
//! O as 0, spaces and dashes anywhere, the `R` optional) and always shown in the one canonical
//! form.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::UserId;
use crate::geo::{GeoPoint, MahallaId};
use crate::incident::{Affected, Category, IncidentId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(ReportId);

/// The longest narrative a citizen may send, in characters.
pub const MAX_REPORT_NARRATIVE_CHARS: usize = 4_000;
/// The longest contact (a phone number or an e-mail address), in characters.
pub const MAX_CONTACT_CHARS: usize = 254;
/// The longest moderator's note, in characters. The note is internal: never shown publicly.
pub const MAX_MODERATION_NOTE_CHARS: usize = 2_000;

word_enum! {
    /// Where a citizen report stands. `received` and `under_review` are pending.
    pub enum ReportStatus("report status") {
        /// Stored, not yet looked at.
        Received = "received",
        /// A moderator has started on it.
        UnderReview = "under_review",
        /// Accepted: it is now an incident.
        Accepted = "accepted",
        /// Not accepted, for a public reason.
        Rejected = "rejected",
    }
}

impl ReportStatus {
    /// Waiting for a moderator's decision.
    pub const fn is_pending(self) -> bool {
        matches!(self, ReportStatus::Received | ReportStatus::UnderReview)
    }

    /// What the status means, in plain English, for the public status page.
    pub const fn public_text(self) -> &'static str {
        match self {
            ReportStatus::Received => "Received; waiting for a moderator.",
            ReportStatus::UnderReview => "A moderator is reviewing it.",
            ReportStatus::Accepted => "Accepted and recorded as an incident.",
            ReportStatus::Rejected => "Not accepted.",
        }
    }
}

word_enum! {
    /// Why a report was not accepted. A closed set, each with a fixed public sentence: what the
    /// citizen sees can never carry internal detail (a moderator's free-text note stays internal).
    pub enum RejectReason("reject reason") {
        Duplicate = "duplicate",
        NotEnoughDetail = "not_enough_detail",
        NotASafetyMatter = "not_a_safety_matter",
        OutsideArea = "outside_area",
        Referred = "referred",
        Other = "other",
    }
}

impl RejectReason {
    /// The sentence the citizen sees.
    pub const fn public_text(self) -> &'static str {
        match self {
            RejectReason::Duplicate => "The same matter was already reported.",
            RejectReason::NotEnoughDetail => "The report did not say enough to act on.",
            RejectReason::NotASafetyMatter => {
                "It is not a public-safety matter that posbon records."
            }
            RejectReason::OutsideArea => "The place is outside the mahallas posbon covers.",
            RejectReason::Referred => "It was passed to the service responsible for it.",
            RejectReason::Other => "It could not be accepted.",
        }
    }
}

/// A report's reference code, in canonical form `R-XXXXX-XXXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportCode(String);

/// Crockford's base-32 alphabet: digits and letters without I, L, O and U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code (5 bits each).
const CODE_SYMBOLS: usize = 10;

impl ReportCode {
    /// The code made of these 50 bits (the low 50 of `bits`).
    pub fn from_bits(bits: u64) -> ReportCode {
        let mut s = String::with_capacity(13);
        s.push_str("R-");
        for i in 0..CODE_SYMBOLS {
            if i == 5 {
                s.push('-');
            }
            let shift = 5 * (CODE_SYMBOLS - 1 - i);
            s.push(CROCKFORD[((bits >> shift) & 31) as usize] as char);
        }
        ReportCode(s)
    }

    /// Reads a code as a person might type it: any case, spaces and dashes anywhere, the leading
    /// `R` optional, I and L read as 1 and O as 0.
    pub fn parse(input: &str) -> Result<ReportCode, DomainError> {
        let bad = |reason: String| DomainError::invalid("report code", reason);
        if input.len() > 64 {
            return Err(bad("is too long; a code looks like R-7KQ4M-2XD9P".into()));
        }
        let mut symbols: Vec<char> = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if symbols.len() == CODE_SYMBOLS + 1 && symbols[0] == 'R' {
            symbols.remove(0);
        }
        if symbols.len() != CODE_SYMBOLS {
            return Err(bad(format!(
                "{input:?} has {} symbols besides the R; a code has {CODE_SYMBOLS}, like R-7KQ4M-2XD9P",
                symbols.len()
            )));
        }
        let mut bits = 0u64;
        for c in symbols {
            let c = match c {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let v = CROCKFORD.iter().position(|&a| a as char == c).ok_or_else(|| {
                bad(format!(
                    "{input:?} contains {c:?}; codes use only digits and the letters A-Z without I, L, O and U"
                ))
            })?;
            bits = (bits << 5) | v as u64;
        }
        Ok(ReportCode::from_bits(bits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReportCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ReportCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReportCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        ReportCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a citizen sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub category: Category,
    pub narrative: String,
    pub occurred_at: Timestamp,
    /// The mahalla, chosen from the list. A report may instead (or also) give a point; one
    /// without a mahalla is seen only by moderators with the national scope, who place it.
    pub mahalla: Option<MahallaId>,
    pub point: Option<GeoPoint>,
    pub affected: Affected,
    /// No contact is stored for an anonymous report (and no report stores an address).
    pub anonymous: bool,
    /// A phone number or an e-mail address, normalised by [`normalize_contact`].
    pub contact: Option<String>,
}

/// How far in the future a report's time may lie (clocks and time zones disagree).
pub const OCCURRED_FUTURE_SLACK_MICROS: i64 = 24 * 3_600 * 1_000_000;

impl NewReport {
    /// Checks the report against the domain's rules; `now` bounds `occurred_at`.
    pub fn validate(&self, now: Timestamp) -> Result<(), DomainError> {
        check_text(
            "what happened",
            &self.narrative,
            MAX_REPORT_NARRATIVE_CHARS,
            false,
        )?;
        if let Some(p) = &self.point {
            p.validate()?;
        }
        if self.mahalla.is_none() && self.point.is_none() {
            return Err(DomainError::invalid(
                "report",
                "says neither the mahalla nor the point where it happened; give at least one",
            ));
        }
        if self.occurred_at > now.saturating_add_micros(OCCURRED_FUTURE_SLACK_MICROS) {
            return Err(DomainError::invalid(
                "when it happened",
                format!("{} is in the future", self.occurred_at),
            ));
        }
        match (&self.contact, self.anonymous) {
            (Some(_), true) => Err(DomainError::invalid(
                "report",
                "is marked anonymous but gives a contact; an anonymous report keeps no contact",
            )),
            (Some(c), false) => {
                if normalize_contact(c)? != *c {
                    return Err(DomainError::invalid(
                        "contact",
                        "is not in normal form (use normalize_contact)",
                    ));
                }
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }

    /// A digest of everything the citizen sent, to recognise the same report sent twice (a
    /// double click, a reloaded page). SHA-256 over a fixed JSON rendering, hex.
    pub fn fingerprint(&self) -> String {
        let v = serde_json::json!({
            "category": self.category.as_str(),
            "narrative": self.narrative,
            "occurred_at": self.occurred_at.to_string(),
            "mahalla": self.mahalla.map(|m| m.0),
            "point": self.point.map(|p| [p.lon, p.lat]),
            "affected": [self.affected.minor, self.affected.youth, self.affected.woman],
            "anonymous": self.anonymous,
            "contact": self.contact,
        });
        hex::encode(Sha256::digest(v.to_string().as_bytes()))
    }
}

/// Checks a contact and puts it in one form: a phone number becomes `+` and its digits (7 to 15
/// of them, as E.164 allows), an e-mail address is lower-cased. Anything else is refused.
pub fn normalize_contact(raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DomainError::invalid("contact", "is empty"));
    }
    if s.chars().count() > MAX_CONTACT_CHARS {
        return Err(DomainError::invalid(
            "contact",
            format!("is longer than {MAX_CONTACT_CHARS} characters"),
        ));
    }
    if s.contains('@') {
        let lower = s.to_lowercase();
        let ok = match lower.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && lower.chars().all(|c| {
                        !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c)
                    })
            }
            None => false,
        };
        return if ok {
            Ok(lower)
        } else {
            Err(DomainError::invalid(
                "contact",
                format!("{s:?} is not an e-mail address like name@example.uz"),
            ))
        };
    }
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let allowed = s.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (c == '+' && i == 0)
    });
    if !allowed || !(7..=15).contains(&digits.len()) {
        return Err(DomainError::invalid(
            "contact",
            format!(
                "{s:?} is neither a phone number (7 to 15 digits, like +998 90 123 45 67) nor an e-mail address"
            ),
        ));
    }
    Ok(format!("+{digits}"))
}

/// A citizen report as stored. `contact` is personal data: the server shows it only to
/// moderators whose scope covers the report, audits each showing, and never exports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: ReportId,
    pub code: ReportCode,
    pub category: Category,
    pub narrative: String,
    pub occurred_at: Timestamp,
    pub mahalla: Option<MahallaId>,
    pub point: Option<GeoPoint>,
    pub affected: Affected,
    pub anonymous: bool,
    #[serde(skip_serializing)]
    pub contact: Option<String>,
    pub status: ReportStatus,
    pub reject_reason: Option<RejectReason>,
    pub moderator: Option<UserId>,
    pub moderation_note: String,
    /// The incident an accepted report became.
    pub incident: Option<IncidentId>,
    pub submitted_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A moderator's decision on a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Moderation {
    /// Start on it: the citizen sees "under review".
    Review,
    /// Record it as an incident (source `public`) in the report's mahalla, or in `mahalla` when
    /// the report names none; `category` overrides the citizen's choice.
    Accept {
        category: Option<Category>,
        mahalla: Option<MahallaId>,
    },
    Reject(RejectReason),
}

impl Moderation {
    pub const fn word(&self) -> &'static str {
        match self {
            Moderation::Review => "review",
            Moderation::Accept { .. } => "accept",
            Moderation::Reject(_) => "reject",
        }
    }

    /// The status a report in `from` takes, or why it cannot.
    pub fn apply(&self, from: ReportStatus) -> Result<ReportStatus, DomainError> {
        let to = match self {
            Moderation::Review => ReportStatus::UnderReview,
            Moderation::Accept { .. } => ReportStatus::Accepted,
            Moderation::Reject(_) => ReportStatus::Rejected,
        };
        let ok = match self {
            Moderation::Review => from == ReportStatus::Received,
            _ => from.is_pending(),
        };
        if ok {
            Ok(to)
        } else {
            Err(DomainError::invalid(
                "moderation",
                format!(
                    "a report that is {from} cannot be given the decision {}; only received reports go under review, and only pending ones are accepted or rejected",
                    self.word()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_canonical_and_read_forgivingly() {
        let c = ReportCode::from_bits(0);
        assert_eq!(c.as_str(), "R-00000-00000");
        let c = ReportCode::from_bits((1 << 50) - 1);
        assert_eq!(c.as_str(), "R-ZZZZZ-ZZZZZ");
        let c = ReportCode::from_bits(0x2_3456_789A_BCDE);
        let s = c.as_str().to_owned();
        assert_eq!(s.len(), 13);
        assert!(
            !s[2..].contains(['I', 'L', 'O', 'U']),
            "ambiguous symbol in {s}"
        );
        for typed in [
            s.clone(),
            s.to_lowercase(),
            s[2..].replace('-', " "),
            format!("  {}  ", s.replace('-', "")),
        ] {
            assert_eq!(ReportCode::parse(&typed).unwrap(), c, "{typed:?}");
        }
        assert_eq!(
            ReportCode::parse("r-1o1l1-i0000").unwrap().as_str(),
            "R-10111-10000"
        );
        assert!(ReportCode::parse("R-UUUUU-UUUUU").is_err());
        assert!(ReportCode::parse("R-1234").is_err());
        assert!(ReportCode::parse("R-12345-123456").is_err());
        assert!(ReportCode::parse("").is_err());
    }

    #[test]
    fn contacts_are_normalised_or_refused() {
        assert_eq!(
            normalize_contact(" +998 (90) 123-45-67 ").unwrap(),
            "+998901234567"
        );
        assert_eq!(
            normalize_contact("Aziz@Example.UZ").unwrap(),
            "aziz@example.uz"
        );
        for bad in [
            "",
            "12",
            "call me",
            "+998 90 123 45 67 89 00 11",
            "a@b",
            "@example.uz",
            "a b@example.uz",
            "9+98",
        ] {
            assert!(normalize_contact(bad).is_err(), "{bad:?}");
        }
    }

    fn report() -> NewReport {
        NewReport {
            category: Category::Theft,
            narrative: "bicycle taken".into(),
            occurred_at: Timestamp::from_unix_micros(1_000_000).unwrap(),
            mahalla: Some(MahallaId(1)),
            point: None,
            affected: Affected::default(),
            anonymous: true,
            contact: None,
        }
    }

    #[test]
    fn reports_are_validated() {
        let now = Timestamp::from_unix_micros(2_000_000).unwrap();
        report().validate(now).unwrap();
        let mut r = report();
        r.contact = Some("+998901234567".into());
        assert!(
            r.validate(now)
                .unwrap_err()
                .to_string()
                .contains("anonymous")
        );
        r.anonymous = false;
        r.validate(now).unwrap();
        r.contact = Some("+998 90 123 45 67".into());
        assert!(r.validate(now).is_err(), "contact must be normalised");
        let mut r = report();
        r.mahalla = None;
        assert!(r.validate(now).is_err());
        r.point = Some(GeoPoint {
            lon: 69.2,
            lat: 41.3,
        });
        r.validate(now).unwrap();
        let mut r = report();
        r.narrative = " ".into();
        assert!(r.validate(now).is_err());
        r.narrative = "x".repeat(MAX_REPORT_NARRATIVE_CHARS + 1);
        assert!(r.validate(now).is_err());
        let mut r = report();
        r.occurred_at = now.saturating_add_micros(OCCURRED_FUTURE_SLACK_MICROS + 1);
        assert!(r.validate(now).is_err());
    }

    #[test]
    fn fingerprints_change_with_any_field() {
        let a = report();
        assert_eq!(a.fingerprint(), report().fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
        let mut b = report();
        b.affected.minor = true;
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut b = report();
        b.narrative.push('.');
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut b = report();
        b.mahalla = Some(MahallaId(2));
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn moderation_follows_the_report_life_cycle() {
        use ReportStatus::*;
        let accept = Moderation::Accept {
            category: None,
            mahalla: None,
        };
        assert_eq!(Moderation::Review.apply(Received).unwrap(), UnderReview);
        assert!(Moderation::Review.apply(UnderReview).is_err());
        assert_eq!(accept.apply(Received).unwrap(), Accepted);
        assert_eq!(accept.apply(UnderReview).unwrap(), Accepted);
        assert!(accept.apply(Accepted).is_err());
        assert!(accept.apply(Rejected).is_err());
        let reject = Moderation::Reject(RejectReason::Duplicate);
        assert_eq!(reject.apply(UnderReview).unwrap(), Rejected);
        assert!(reject.apply(Accepted).is_err());
        for r in RejectReason::ALL {
            assert!(!r.public_text().is_empty());
        }
    }
}
