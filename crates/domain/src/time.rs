//! Time as posbon stores it: UTC, microsecond precision, the same convention as the pipeline's
//! `vision::clock::Timestamp` (microseconds since the Unix epoch). The text form is fixed-width
//! (`2024-05-01T09:30:00.000000Z`), so text timestamps sort in time order, and it round-trips
//! exactly through both databases, which the audit chain's hashes depend on.
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};

use ::time::format_description::BorrowedFormatItem;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;
use ::time::{OffsetDateTime, UtcOffset};

use crate::DomainError;

/// An instant: microseconds since 1970-01-01T00:00:00Z, between the years 1 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const CANONICAL: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl Timestamp {
    /// 0001-01-01T00:00:00.000000Z
    pub const MIN: Timestamp = Timestamp(-62_135_596_800_000_000);
    /// 9999-12-31T23:59:59.999999Z
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999_999);
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    /// The instant `us` microseconds after the Unix epoch; `None` outside the years 1 to 9999.
    pub const fn from_unix_micros(us: i64) -> Option<Timestamp> {
        if us < Self::MIN.0 || us > Self::MAX.0 {
            None
        } else {
            Some(Timestamp(us))
        }
    }

    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The wall clock now, truncated to the microsecond.
    pub fn now() -> Timestamp {
        let us = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
        Timestamp(us as i64)
    }

    /// `self` moved by `us` microseconds, clamped to [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    pub fn saturating_add_micros(self, us: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(us).clamp(Self::MIN.0, Self::MAX.0))
    }

    /// `self` moved back by whole days (a day here is 86,400 s), clamped to [`Timestamp::MIN`].
    pub fn minus_days(self, days: u32) -> Timestamp {
        self.saturating_add_micros(-(i64::from(days) * 86_400_000_000))
    }

    /// As a `time` value in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .expect("Timestamp is always within time's range")
    }

    /// From a `time` value in any offset; fails for sub-microsecond precision or a year outside
    /// 1 to 9999, since either would not survive storage unchanged.
    pub fn from_offset_date_time(t: OffsetDateTime) -> Result<Timestamp, DomainError> {
        let ns = t.unix_timestamp_nanos();
        if ns % 1_000 != 0 {
            return Err(DomainError::invalid(
                "timestamp",
                "has sub-microsecond precision",
            ));
        }
        i64::try_from(ns / 1_000)
            .ok()
            .and_then(Timestamp::from_unix_micros)
            .ok_or_else(|| DomainError::invalid("timestamp", "is outside the years 1 to 9999"))
    }
}

impl fmt::Display for Timestamp {
    /// The canonical form: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always 27 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self
            .to_offset_date_time()
            .format(CANONICAL)
            .map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl FromStr for Timestamp {
    type Err = DomainError;
    /// Any RFC 3339 timestamp (any offset, up to microsecond precision).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| DomainError::invalid("timestamp", format!("{s:?}: {e}")))?;
        Timestamp::from_offset_date_time(t.to_offset(UtcOffset::UTC))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where "now" comes from, so that code which stamps records can be tested at any time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is moved: for tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(at.0))
    }
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, Ordering::SeqCst);
    }
    pub fn advance_micros(&self, us: i64) {
        let now = self.now().saturating_add_micros(us);
        self.set(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_fixed_width_and_round_trips() {
        for us in [
            0,
            1,
            999_999,
            1_714_555_800_123_456,
            -1,
            Timestamp::MIN.0,
            Timestamp::MAX.0,
        ] {
            let t = Timestamp::from_unix_micros(us).unwrap();
            let s = t.to_string();
            assert_eq!(s.len(), 27, "{s}");
            assert_eq!(s.parse::<Timestamp>().unwrap(), t, "{s}");
        }
        assert_eq!(
            Timestamp::from_unix_micros(1_714_555_800_123_456)
                .unwrap()
                .to_string(),
            "2024-05-01T09:30:00.123456Z"
        );
    }

    #[test]
    fn text_order_is_time_order() {
        let mut ts: Vec<Timestamp> = [5, 0, 1_000_000, -3, 86_400_000_000, 999_999]
            .into_iter()
            .map(|us| Timestamp::from_unix_micros(us).unwrap())
            .collect();
        let mut by_text = ts.clone();
        by_text.sort_by_key(|t| t.to_string());
        ts.sort();
        assert_eq!(ts, by_text);
    }

    #[test]
    fn parses_offsets_and_rejects_what_would_not_round_trip() {
        let t: Timestamp = "2024-05-01T14:30:00+05:00".parse().unwrap();
        assert_eq!(t.to_string(), "2024-05-01T09:30:00.000000Z");
        assert!("2024-05-01T09:30:00.1234567Z".parse::<Timestamp>().is_err());
        assert!("yesterday".parse::<Timestamp>().is_err());
        assert!(Timestamp::from_unix_micros(Timestamp::MAX.0 + 1).is_none());
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::UNIX_EPOCH);
        assert_eq!(c.now(), Timestamp::UNIX_EPOCH);
        c.advance_micros(5);
        assert_eq!(c.now().unix_micros(), 5);
        assert_eq!(
            Timestamp::UNIX_EPOCH.minus_days(1).unix_micros(),
            -86_400_000_000
        );
    }
}
