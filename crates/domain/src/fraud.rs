//! Victims' reports of online and telephone fraud, and the fraudsters' identifiers
//! ("indicators") found in them.
//!
//! A fraud report is moderated like a citizen report ([`crate::report`]): it counts for nothing
//! until a moderator accepts it, and accepting it records an incident (category `fraud` unless
//! the moderator says `cybercrime`, source `public`) in the victim's mahalla. Its reference code
//! has the citizen reports' form and the same statuses and public reject reasons.
//!
//! What is never here: a payment card's number. A card indicator holds only its `BIN…last4`
//! form and the keyed hash the server computed from the number ([`FraudIndicator::card_hash`]),
//! and card numbers found in the narrative are replaced by their `BIN…last4` form before the
//! narrative is stored.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::UserId;
use crate::geo::MahallaId;
use crate::incident::{Category, IncidentId};
use crate::report::{RejectReason, ReportCode, ReportStatus};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(FraudReportId);

/// The longest narrative a victim may send, in characters (pasted messages make fraud reports
/// longer than other citizen reports).
pub const MAX_FRAUD_NARRATIVE_CHARS: usize = 8_000;
/// The most indicators one report may hold (fields and text together). More is not a report of
/// one fraud, and would let one report join unrelated campaigns.
pub const MAX_FRAUD_INDICATORS: usize = 50;
/// The largest loss accepted, in tiyin (10^15 so'm: far above any real loss, far below i64).
pub const MAX_AMOUNT_TIYIN: i64 = 100_000_000_000_000_000;

word_enum! {
    /// How the fraudster reached the victim.
    pub enum Channel("fraud channel") {
        Call = "call",
        Sms = "sms",
        /// Telegram, WhatsApp and other messengers.
        Messenger = "messenger",
        /// OLX, Uzum and other marketplaces: fake buyers and sellers.
        Marketplace = "marketplace",
        SocialNetwork = "social_network",
        /// A site that imitates a bank, a shop, a state service.
        FakeSite = "fake_site",
        Other = "other",
    }
}

impl Channel {
    /// One bit per channel, for compact sets of channels.
    pub fn bit(self) -> u16 {
        1 << Channel::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    /// The channels whose bits are set.
    pub fn from_bits(bits: u16) -> Vec<Channel> {
        Channel::ALL
            .iter()
            .copied()
            .filter(|c| bits & c.bit() != 0)
            .collect()
    }
}

word_enum! {
    /// Where in a report an indicator was found.
    pub enum FoundIn("where an indicator was found") {
        /// A form field meant for that kind of indicator.
        Field = "field",
        /// The narrative, by the extractor.
        Text = "text",
    }
}

/// One indicator of a report, as stored. `kind` is one of cyber's kinds (`phone`, `card`,
/// `iban`, `link`, `domain`, `handle`, `wallet`); the server checks it, the database too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudIndicator {
    pub kind: String,
    /// The normal form; a card's is `BIN…last4`.
    pub value: String,
    /// Cards only: the keyed hash (hex HMAC-SHA256 under the server's card key) of the number.
    #[serde(skip_serializing)]
    pub card_hash: Option<String>,
    /// Hex SHA-256 of the exact key (`posbon-indicator-v1\n<kind>\n<key>`): what reports are
    /// linked by and what the checks look up.
    pub hash: String,
    /// For links and domains: the registrable domain, which also links reports (unless it is a
    /// platform where anyone publishes).
    pub link_domain: Option<String>,
    pub found_in: FoundIn,
    /// Deception tricks seen in its writing (`bidi_control`, `mixed_script`, ...).
    pub suspicious: Vec<String>,
    /// Written defanged (`hxxp`, `[.]`).
    pub defanged: bool,
}

impl FraudIndicator {
    /// The exact key's value: a card's is `hmac-sha256:<card_hash>`, everything else's its
    /// normal form.
    pub fn key_value(&self) -> String {
        match &self.card_hash {
            Some(h) => format!("hmac-sha256:{h}"),
            None => self.value.clone(),
        }
    }

    fn validate(&self) -> Result<(), DomainError> {
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex64(&self.hash) {
            return Err(DomainError::invalid(
                "indicator",
                "hash is not 64 hex digits",
            ));
        }
        match (&self.card_hash, self.kind == "card") {
            (Some(h), true) if hex64(h) => {}
            (None, false) => {}
            _ => {
                return Err(DomainError::invalid(
                    "indicator",
                    "a card, and only a card, carries its keyed hash",
                ));
            }
        }
        if self.kind == "card" && longest_digit_run(&self.value) > 10 {
            return Err(DomainError::invalid(
                "indicator",
                "a card is stored as BIN…last4, never as its number",
            ));
        }
        if self.value.is_empty() || self.value.len() > 4096 {
            return Err(DomainError::invalid(
                "indicator",
                "value is empty or longer than 4096 bytes",
            ));
        }
        Ok(())
    }
}

/// The longest run of ASCII digits in `s`.
pub fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for b in s.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// What a victim sends, after the server has extracted and normalised its indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFraudReport {
    pub occurred_at: Timestamp,
    /// In tiyin (1/100 so'm).
    pub amount_lost: i64,
    pub channel: Channel,
    /// Card numbers already replaced by `BIN…last4`.
    pub narrative: String,
    /// The victim's mahalla: the incident is recorded there.
    pub mahalla: MahallaId,
    /// Normalised by [`crate::report::normalize_contact`].
    pub contact: Option<String>,
    pub indicators: Vec<FraudIndicator>,
    /// SHA-256 (hex) of a key the client chose so that a retry is stored once.
    pub idempotency_key: Option<String>,
}

impl NewFraudReport {
    /// Checks the report against the domain's rules; `now` bounds `occurred_at`.
    pub fn validate(&self, now: Timestamp) -> Result<(), DomainError> {
        check_text(
            "what happened",
            &self.narrative,
            MAX_FRAUD_NARRATIVE_CHARS,
            false,
        )?;
        if !(0..=MAX_AMOUNT_TIYIN).contains(&self.amount_lost) {
            return Err(DomainError::invalid(
                "amount lost",
                format!("must be from 0 to {MAX_AMOUNT_TIYIN} tiyin"),
            ));
        }
        if self.occurred_at > now.saturating_add_micros(crate::report::OCCURRED_FUTURE_SLACK_MICROS)
        {
            return Err(DomainError::invalid(
                "when it happened",
                format!("{} is in the future", self.occurred_at),
            ));
        }
        if let Some(c) = &self.contact
            && crate::report::normalize_contact(c)? != *c
        {
            return Err(DomainError::invalid(
                "contact",
                "is not in normal form (use normalize_contact)",
            ));
        }
        if self.indicators.len() > MAX_FRAUD_INDICATORS {
            return Err(DomainError::invalid(
                "report",
                format!(
                    "names {} phone numbers, cards, links and accounts; at most {MAX_FRAUD_INDICATORS} are taken",
                    self.indicators.len()
                ),
            ));
        }
        for i in &self.indicators {
            i.validate()?;
        }
        if let Some(k) = &self.idempotency_key
            && (k.len() != 64 || !k.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(DomainError::invalid(
                "idempotency key",
                "is not a hex SHA-256",
            ));
        }
        Ok(())
    }

    /// A digest of everything the victim sent, to store the same report sent twice once.
    /// Indicators count by their exact keys, in any order.
    pub fn fingerprint(&self) -> String {
        let mut keys: Vec<String> = self
            .indicators
            .iter()
            .map(|i| format!("{}:{}", i.kind, i.key_value()))
            .collect();
        keys.sort();
        let v = serde_json::json!({
            "occurred_at": self.occurred_at.to_string(),
            "amount_lost": self.amount_lost,
            "channel": self.channel.as_str(),
            "narrative": self.narrative,
            "mahalla": self.mahalla.0,
            "contact": self.contact,
            "indicators": keys,
        });
        hex::encode(Sha256::digest(v.to_string().as_bytes()))
    }
}

/// A fraud report as stored. `contact` is personal data: shown only on one report's page to a
/// moderator in scope, audited, never exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FraudReport {
    pub id: FraudReportId,
    pub code: ReportCode,
    pub occurred_at: Timestamp,
    pub amount_lost: i64,
    pub channel: Channel,
    pub narrative: String,
    pub mahalla: MahallaId,
    #[serde(skip_serializing)]
    pub contact: Option<String>,
    pub status: ReportStatus,
    pub reject_reason: Option<RejectReason>,
    pub moderator: Option<UserId>,
    pub moderation_note: String,
    pub incident: Option<IncidentId>,
    pub submitted_at: Timestamp,
    pub updated_at: Timestamp,
    pub indicators: Vec<FraudIndicator>,
}

/// The category of the incident an accepted fraud report becomes: `fraud` unless the moderator
/// says `cybercrime`; no other category fits a victim's fraud report.
pub fn incident_category(chosen: Option<Category>) -> Result<Category, DomainError> {
    match chosen {
        None | Some(Category::Fraud) => Ok(Category::Fraud),
        Some(Category::Cybercrime) => Ok(Category::Cybercrime),
        Some(other) => Err(DomainError::invalid(
            "category",
            format!("a fraud report becomes a fraud or cybercrime incident, not {other}"),
        )),
    }
}

impl FraudReport {
    /// The narrative of the incident it becomes: the code, the channel, the loss in so'm and
    /// the victim's words (card numbers already masked), within an incident's length.
    pub fn incident_narrative(&self) -> String {
        let head = format!(
            "Fraud report {} ({}), {} so'm lost.\n",
            self.code,
            self.channel.as_str().replace('_', " "),
            format_som(self.amount_lost)
        );
        let room = crate::incident::MAX_NARRATIVE_CHARS - head.chars().count();
        let mut out = head;
        out.extend(self.narrative.chars().take(room));
        out
    }
}

/// Tiyin as so'm with thousands grouped by spaces: `150000050` → `1 500 000.50`.
pub fn format_som(tiyin: i64) -> String {
    let whole = (tiyin / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    match tiyin % 100 {
        0 => grouped,
        t => format!("{grouped}.{t:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(kind: &str, value: &str) -> FraudIndicator {
        FraudIndicator {
            kind: kind.into(),
            value: value.into(),
            card_hash: (kind == "card").then(|| "ab".repeat(32)),
            hash: "cd".repeat(32),
            link_domain: None,
            found_in: FoundIn::Field,
            suspicious: vec![],
            defanged: false,
        }
    }

    fn report() -> NewFraudReport {
        NewFraudReport {
            occurred_at: Timestamp::from_unix_micros(1_000_000).unwrap(),
            amount_lost: 150_000_000,
            channel: Channel::Call,
            narrative: "they called from the bank".into(),
            mahalla: MahallaId(1),
            contact: None,
            indicators: vec![ind("phone", "+998901234567"), ind("card", "860012…9012")],
            idempotency_key: None,
        }
    }

    #[test]
    fn reports_are_validated() {
        let now = Timestamp::from_unix_micros(2_000_000).unwrap();
        report().validate(now).unwrap();
        let mut r = report();
        r.amount_lost = -1;
        assert!(r.validate(now).is_err());
        let mut r = report();
        r.indicators[1].value = "8600123456789012".into();
        assert!(
            r.validate(now).unwrap_err().to_string().contains("never"),
            "a full card number is refused"
        );
        let mut r = report();
        r.indicators[0].card_hash = Some("ab".repeat(32));
        assert!(r.validate(now).is_err());
        let mut r = report();
        r.indicators = (0..=MAX_FRAUD_INDICATORS)
            .map(|_| ind("phone", "+998901234567"))
            .collect();
        assert!(r.validate(now).is_err());
        let mut r = report();
        r.narrative = "a\0b".into();
        assert!(r.validate(now).unwrap_err().to_string().contains("control"));
        let mut r = report();
        r.idempotency_key = Some("x".into());
        assert!(r.validate(now).is_err());
    }

    #[test]
    fn fingerprints_ignore_indicator_order_and_see_every_field() {
        let a = report();
        let mut b = report();
        b.indicators.reverse();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut c = report();
        c.amount_lost += 1;
        assert_ne!(a.fingerprint(), c.fingerprint());
        let mut d = report();
        d.indicators[1].card_hash = Some("ef".repeat(32));
        assert_ne!(
            a.fingerprint(),
            d.fingerprint(),
            "another card, same BIN…last4"
        );
    }

    #[test]
    fn channel_bits_round_trip() {
        let bits = Channel::Sms.bit() | Channel::FakeSite.bit();
        assert_eq!(
            Channel::from_bits(bits),
            vec![Channel::Sms, Channel::FakeSite]
        );
        assert_eq!(longest_digit_run("860012…9012"), 6);
    }

    #[test]
    fn incidents_are_fraud_or_cybercrime() {
        assert_eq!(incident_category(None).unwrap(), Category::Fraud);
        assert_eq!(
            incident_category(Some(Category::Cybercrime)).unwrap(),
            Category::Cybercrime
        );
        assert!(incident_category(Some(Category::Theft)).is_err());
        assert_eq!(format_som(150_000_050), "1 500 000.50");
        assert_eq!(format_som(100_000), "1 000");
        assert_eq!(format_som(0), "0");
    }
}
