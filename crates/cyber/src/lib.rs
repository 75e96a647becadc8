//! Cyber-fraud defence: the pure core.
//!
//! - **Indicators** ([`Extractor::extract`]): phone numbers, payment cards, IBANs, links and
//!   domains, Telegram handles and crypto wallets found in free text (Uzbek, Russian, English;
//!   Latin and Cyrillic) or typed into form fields ([`Extractor::field`]), each normalised, with
//!   its byte span in the input. Card numbers are never kept: only BIN, last four and a keyed
//!   hash ([`CardToken`]). Unicode tricks (bidi controls, zero-width characters, full-width
//!   forms, look-alike scripts, defanged notation) are stripped before matching and reported in
//!   [`Indicator::suspicious`].
//! - **Campaigns** ([`CampaignLinker`]): reports that share an indicator, linked incrementally
//!   into connected components.
//! - **Checks** ([`indicator_hash`], [`PrefixIndex`], [`ThreatIndex`]): the hash-prefix range
//!   query behind the public check, and the O(1) verdict behind the banks' payee check.
//!
//! See docs/design/007-cyber-indicators.md. Pure: no I/O, no clock, no global state.

mod campaign;
mod card;
mod clean;
mod handle;
mod iban;
mod link;
mod lookup;
mod numbers;
mod phone;
mod script;
mod wallet;

pub use campaign::{CampaignId, CampaignLinker, Linked};
pub use card::{
    CardError, CardKey, CardNetwork, CardToken, KeyError, MIN_KEY_BYTES, luhn_valid, parse_card,
};
pub use handle::{HandleError, parse_handle, telegram_username};
pub use iban::{IbanError, iban_length, mod97_valid, parse_iban};
pub use link::{
    LinkError, MAX_LINK_BYTES, NormalizedLink, is_tracking_param, parse_link, registrable_domain,
};
pub use lookup::{
    PrefixError, PrefixIndex, ReportEntry, ThreatIndex, Verdict, indicator_hash, parse_prefix_hex,
    prefix, prefix_hex,
};
pub use phone::{Phone, PhoneError, UZ_FIXED_CODES, UZ_MOBILE_CODES, UzLine, parse_phone, uz_line};
pub use wallet::{Chain, WalletError, parse_wallet};

use std::fmt;
use std::ops::Range;

/// What an indicator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Phone,
    Card,
    Iban,
    Link,
    Domain,
    Handle,
    Wallet,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 7] = [
        IndicatorKind::Phone,
        IndicatorKind::Card,
        IndicatorKind::Iban,
        IndicatorKind::Link,
        IndicatorKind::Domain,
        IndicatorKind::Handle,
        IndicatorKind::Wallet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Phone => "phone",
            IndicatorKind::Card => "card",
            IndicatorKind::Iban => "iban",
            IndicatorKind::Link => "link",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Handle => "handle",
            IndicatorKind::Wallet => "wallet",
        }
    }

    pub fn parse(s: &str) -> Option<IndicatorKind> {
        IndicatorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something about an indicator's writing that suggests deception. Not a verdict: shown to
/// the person who reviews the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Suspicion {
    /// Right-to-left or other bidirectional controls in or just before it (they reorder what is
    /// displayed: `moc.evil` shows as `live.com`).
    BidiControl,
    /// Zero-width or other invisible characters inside it.
    InvisibleCharacter,
    /// Full-width letters or digits, non-ASCII digits or ideographic full stops in it.
    CompatibilityCharacter,
    /// A domain label mixing scripts (Latin with Cyrillic, Greek, ...).
    MixedScript,
    /// A domain label entirely in Cyrillic, Greek or Armenian letters that look Latin, under a
    /// Latin top-level domain (`аррӏе.com`).
    WholeScriptConfusable,
    /// `user@host` in a link: what is before `@` is not where it goes.
    UserInfoInUrl,
    /// A link to a bare IP address.
    IpAddressHost,
}

impl Suspicion {
    pub fn as_str(self) -> &'static str {
        match self {
            Suspicion::BidiControl => "bidi_control",
            Suspicion::InvisibleCharacter => "invisible_character",
            Suspicion::CompatibilityCharacter => "compatibility_character",
            Suspicion::MixedScript => "mixed_script",
            Suspicion::WholeScriptConfusable => "whole_script_confusable",
            Suspicion::UserInfoInUrl => "userinfo_in_url",
            Suspicion::IpAddressHost => "ip_address_host",
        }
    }

    pub(crate) fn from_flags(flags: u8) -> Vec<Suspicion> {
        let mut v = Vec::new();
        if flags & clean::F_BIDI != 0 {
            v.push(Suspicion::BidiControl);
        }
        if flags & clean::F_INVISIBLE != 0 {
            v.push(Suspicion::InvisibleCharacter);
        }
        if flags & clean::F_COMPAT != 0 {
            v.push(Suspicion::CompatibilityCharacter);
        }
        v
    }
}

/// Kind-specific facts about an indicator.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    Phone {
        country_code: u16,
        uz_line: Option<UzLine>,
    },
    Card(CardToken),
    Iban {
        country: String,
    },
    Link {
        host: String,
        registrable_domain: Option<String>,
    },
    Domain {
        registrable_domain: Option<String>,
    },
    Handle {
        platform: &'static str,
    },
    Wallet {
        chain: Chain,
    },
}

/// One indicator found in a text or a field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Indicator {
    pub kind: IndicatorKind,
    /// The normal form: E.164 phone, `BIN…last4` card, IBAN, URL, ASCII domain, lower-case
    /// handle without `@`, wallet address.
    pub value: String,
    /// Byte range in the input (on char boundaries).
    pub span: Range<usize>,
    pub detail: Detail,
    /// Empty for most; see [`Suspicion`].
    pub suspicious: Vec<Suspicion>,
    /// Written in defanged notation (`hxxp`, `[.]`).
    pub defanged: bool,
}

/// The exact identity of an indicator: what reports are linked by and what is hashed for the
/// checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct IndicatorKey {
    pub kind: IndicatorKind,
    pub value: String,
}

impl IndicatorKey {
    pub fn new(kind: IndicatorKind, value: impl Into<String>) -> IndicatorKey {
        IndicatorKey {
            kind,
            value: value.into(),
        }
    }
    /// [`indicator_hash`] of this key.
    pub fn hash(&self) -> [u8; 32] {
        indicator_hash(self.kind, &self.value)
    }
}

/// Registrable domains of platforms whose users publish content under them: a link to one
/// names an account or a page on it, not the platform, so the bare domain never links reports.
pub const PLATFORM_DOMAINS: [&str; 24] = [
    "t.me",
    "telegram.me",
    "telegram.org",
    "instagram.com",
    "facebook.com",
    "fb.com",
    "vk.com",
    "ok.ru",
    "youtube.com",
    "youtu.be",
    "google.com",
    "goo.gl",
    "tiktok.com",
    "x.com",
    "twitter.com",
    "whatsapp.com",
    "wa.me",
    "olx.uz",
    "uzum.uz",
    "bit.ly",
    "github.io",
    "blogspot.com",
    "wordpress.com",
    "yandex.ru",
];

/// The key prefix that marks a card's exact key.
pub const CARD_KEY_PREFIX: &str = "hmac-sha256:";

impl Indicator {
    /// The exact key: (kind, value), except that a card's is its keyed hash
    /// (`hmac-sha256:<hex>`), since `BIN…last4` is shared by many cards.
    pub fn key(&self) -> IndicatorKey {
        match &self.detail {
            Detail::Card(t) => IndicatorKey::new(
                IndicatorKind::Card,
                format!("{CARD_KEY_PREFIX}{}", t.keyed_hash_hex()),
            ),
            _ => IndicatorKey::new(self.kind, self.value.clone()),
        }
    }

    /// The keys that link reports into campaigns: the exact key and, for links and domains,
    /// the registrable domain (as a domain key) unless it is a platform's
    /// ([`PLATFORM_DOMAINS`]).
    pub fn link_keys(&self) -> Vec<IndicatorKey> {
        let mut keys = vec![self.key()];
        let reg = match &self.detail {
            Detail::Link {
                registrable_domain, ..
            }
            | Detail::Domain { registrable_domain } => registrable_domain.as_deref(),
            _ => None,
        };
        if let Some(r) = reg
            && !PLATFORM_DOMAINS.contains(&r)
        {
            let k = IndicatorKey::new(IndicatorKind::Domain, r);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }

    /// The hashes under which a report of this indicator is indexed for the checks: the exact
    /// key's and, for a card, also the hash of its `BIN…last4` form, which is what the public
    /// check can ask about without the card key (see the design record).
    pub fn check_hashes(&self) -> Vec<[u8; 32]> {
        let mut v = vec![self.key().hash()];
        if let Detail::Card(t) = &self.detail {
            v.push(indicator_hash(IndicatorKind::Card, &t.masked()));
        }
        v
    }
}

/// A candidate that looked like an indicator but failed its check (a mistyped card, a wallet
/// with a wrong checksum, a +998 number with no such code): worth telling the person who typed
/// it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub kind: IndicatorKind,
    pub span: Range<usize>,
    pub reason: String,
}

/// All that one text yielded, in order of position.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Extraction {
    pub indicators: Vec<Indicator>,
    pub rejected: Vec<Rejection>,
}

impl Extraction {
    /// The distinct exact keys, sorted.
    pub fn keys(&self) -> Vec<IndicatorKey> {
        let mut k: Vec<IndicatorKey> = self.indicators.iter().map(Indicator::key).collect();
        k.sort();
        k.dedup();
        k
    }
}

/// Why a form field did not hold the indicator it was meant to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    Phone(PhoneError),
    Card(CardError),
    Iban(IbanError),
    Link(LinkError),
    Handle(HandleError),
    Wallet(WalletError),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Phone(e) => write!(f, "phone number: {e}"),
            FieldError::Card(e) => write!(f, "card number: {e}"),
            FieldError::Iban(e) => write!(f, "IBAN: {e}"),
            FieldError::Link(e) => write!(f, "link: {e}"),
            FieldError::Handle(e) => write!(f, "handle: {e}"),
            FieldError::Wallet(e) => write!(f, "wallet: {e}"),
        }
    }
}

impl std::error::Error for FieldError {}

/// Extracts indicators; holds the card key.
#[derive(Debug)]
pub struct Extractor {
    card_key: CardKey,
}

fn push_unique(v: &mut Vec<Suspicion>, s: Suspicion) {
    if !v.contains(&s) {
        v.push(s);
    }
}

impl Extractor {
    pub fn new(card_key: CardKey) -> Extractor {
        Extractor { card_key }
    }

    pub fn card_key(&self) -> &CardKey {
        &self.card_key
    }

    /// Every indicator in a free text, with its byte span in `text`. Never panics; time and
    /// memory are linear in the text (up to a log factor for span mapping).
    pub fn extract(&self, text: &str) -> Extraction {
        let cleaned = clean::Cleaned::new(text);
        let t = cleaned.text.as_str();
        // (clean start, clean end, indicator without span) or rejection
        let mut found: Vec<(usize, usize, IndicatorKind, String, Detail, Vec<Suspicion>)> =
            Vec::new();
        let mut rejected: Vec<(usize, usize, IndicatorKind, String)> = Vec::new();
        let mut claims: Vec<(usize, usize)> = Vec::new();

        for c in link::find(t) {
            claims.push((c.start, c.end));
            match c.result {
                Ok(l) => {
                    let (kind, value, detail) = classify_link(l.clone());
                    found.push((c.start, c.end, kind, value, detail, l.suspicious));
                }
                Err(e) => {
                    if c.found == link::Found::Scheme {
                        rejected.push((c.start, c.end, IndicatorKind::Link, e.to_string()));
                    }
                }
            }
        }
        claims.sort_unstable();
        let free = |claims: &[(usize, usize)], s: usize, e: usize| {
            let i = claims.partition_point(|&(_, ce)| ce <= s);
            claims.get(i).is_none_or(|&(cs, _)| cs >= e)
        };
        let mut more = Vec::new();
        for (s, e, r) in iban::find(t) {
            if !free(&claims, s, e) {
                continue;
            }
            more.push((s, e));
            match r {
                Ok(v) => {
                    let country = v[..2].to_string();
                    found.push((
                        s,
                        e,
                        IndicatorKind::Iban,
                        v,
                        Detail::Iban { country },
                        vec![],
                    ));
                }
                Err(err) => rejected.push((s, e, IndicatorKind::Iban, err.to_string())),
            }
        }
        for (s, e, r) in wallet::find(t) {
            if !free(&claims, s, e) || !free(&more, s, e) {
                continue;
            }
            more.push((s, e));
            match r {
                Ok((chain, v)) => found.push((
                    s,
                    e,
                    IndicatorKind::Wallet,
                    v,
                    Detail::Wallet { chain },
                    vec![],
                )),
                Err(err) => rejected.push((s, e, IndicatorKind::Wallet, err.to_string())),
            }
        }
        for (s, e, r) in handle::find(t) {
            if !free(&claims, s, e) {
                continue;
            }
            more.push((s, e));
            match r {
                Ok(h) => found.push((
                    s,
                    e,
                    IndicatorKind::Handle,
                    h,
                    Detail::Handle {
                        platform: "telegram",
                    },
                    vec![],
                )),
                Err(err) => rejected.push((s, e, IndicatorKind::Handle, err.to_string())),
            }
        }
        claims.extend(more);
        claims.sort_unstable();
        // merge overlaps so the number scanner can walk them in order
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(claims.len());
        for (s, e) in claims {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut nums = Vec::new();
        let mut num_rej = Vec::new();
        numbers::scan(t, &self.card_key, &merged, &mut nums, &mut num_rej);
        for f in nums {
            let (kind, value, detail) = match f.hit {
                numbers::Hit::Phone(p) => (
                    IndicatorKind::Phone,
                    p.e164,
                    Detail::Phone {
                        country_code: p.country_code,
                        uz_line: p.uz_line,
                    },
                ),
                numbers::Hit::Card(tok) => (IndicatorKind::Card, tok.masked(), Detail::Card(tok)),
            };
            found.push((f.start, f.end, kind, value, detail, vec![]));
        }
        for r in num_rej {
            let kind = if r.card {
                IndicatorKind::Card
            } else {
                IndicatorKind::Phone
            };
            rejected.push((r.start, r.end, kind, r.reason));
        }

        let mut out = Extraction::default();
        for (s, e, kind, value, detail, mut sus) in found {
            let flags = cleaned.flags_in(s, e);
            for x in Suspicion::from_flags(flags) {
                push_unique(&mut sus, x);
            }
            sus.sort();
            out.indicators.push(Indicator {
                kind,
                value,
                span: cleaned.map_start(s)..cleaned.map_end(e),
                detail,
                suspicious: sus,
                defanged: flags & clean::F_DEFANG != 0,
            });
        }
        for (s, e, kind, reason) in rejected {
            out.rejected.push(Rejection {
                kind,
                span: cleaned.map_start(s)..cleaned.map_end(e),
                reason,
            });
        }
        out.indicators.sort_by_key(|i| (i.span.start, i.span.end));
        out.rejected.sort_by_key(|r| (r.span.start, r.span.end));
        out
    }

    /// One indicator typed into a form field meant for `kind`. The whole field must be that
    /// indicator; the error says what is wrong with it.
    pub fn field(&self, kind: IndicatorKind, text: &str) -> Result<Indicator, FieldError> {
        let cleaned = clean::Cleaned::new(text);
        let lead = text.len() - text.trim_start().len();
        let span = lead..text.trim_end().len().max(lead);
        let flags = cleaned.flags_in(0, cleaned.text.len());
        let mut sus = Suspicion::from_flags(flags);
        let (kind, value, detail) = match kind {
            IndicatorKind::Phone => {
                let p = parse_phone(text).map_err(FieldError::Phone)?;
                (
                    kind,
                    p.e164,
                    Detail::Phone {
                        country_code: p.country_code,
                        uz_line: p.uz_line,
                    },
                )
            }
            IndicatorKind::Card => {
                let t = parse_card(text, &self.card_key).map_err(FieldError::Card)?;
                (kind, t.masked(), Detail::Card(t))
            }
            IndicatorKind::Iban => {
                let v = parse_iban(text).map_err(FieldError::Iban)?;
                let country = v[..2].to_string();
                (kind, v, Detail::Iban { country })
            }
            IndicatorKind::Link | IndicatorKind::Domain => {
                let l = parse_link(text).map_err(FieldError::Link)?;
                for s in &l.suspicious {
                    push_unique(&mut sus, *s);
                }
                classify_link(l)
            }
            IndicatorKind::Handle => {
                let h = parse_handle(text).map_err(FieldError::Handle)?;
                (
                    kind,
                    h,
                    Detail::Handle {
                        platform: "telegram",
                    },
                )
            }
            IndicatorKind::Wallet => {
                let (chain, v) = parse_wallet(&cleaned.text).map_err(FieldError::Wallet)?;
                (kind, v, Detail::Wallet { chain })
            }
        };
        sus.sort();
        Ok(Indicator {
            kind,
            value,
            span,
            detail,
            suspicious: sus,
            defanged: flags & clean::F_DEFANG != 0,
        })
    }
}

/// A normalised link is a handle (t.me/name), a link (has a URL) or a bare domain.
fn classify_link(l: NormalizedLink) -> (IndicatorKind, String, Detail) {
    if handle::TELEGRAM_HOSTS.contains(&l.host.as_str())
        && let Ok(h) = handle::from_tme_path(&l.path)
    {
        return (
            IndicatorKind::Handle,
            h,
            Detail::Handle {
                platform: "telegram",
            },
        );
    }
    match l.url {
        Some(url) => (
            IndicatorKind::Link,
            url,
            Detail::Link {
                host: l.host,
                registrable_domain: l.registrable_domain,
            },
        ),
        None => (
            IndicatorKind::Domain,
            l.host,
            Detail::Domain {
                registrable_domain: l.registrable_domain,
            },
        ),
    }
}
