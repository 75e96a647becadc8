//! posbon's shared vocabulary: the words every other crate uses, and the rules that hold between
//! them, with no I/O.
//!
//! - [`geo`]: regions, districts and mahallas, their names in four scripts and languages.
//! - [`access`]: users, roles and the scope of what a user may see.
//! - [`incident`]: the digital incident report and the life cycle of its status.
//! - [`review`]: a person's verdict on a machine's event.
//! - [`precision`]: how often each rule's and camera's alerts were confirmed, with the uncertainty.
//! - [`camera`]: cameras and the events the pipeline reports from them.
//! - [`report`]: citizen reports, their reference codes and moderation.
//! - [`fraud`]: victims' reports of fraud and the fraudsters' identifiers in them.
//! - [`evidence`]: access requests for unredacted originals (a case, a second person, expiry).
//! - [`audit`]: the hash-chained audit log and its verifier.
//! - [`time`]: timestamps as stored (UTC, microseconds) and an injectable clock.
//! - [`attachment`]: files attached to incidents: accepted kinds (by their first bytes), names.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod access;
pub mod attachment;
pub mod audit;
pub mod camera;
pub mod evidence;
pub mod fraud;
pub mod geo;
pub mod incident;
pub mod precision;
pub mod report;
pub mod review;
pub mod time;

pub use access::{Actor, NewUser, Role, Scope, User, UserId};
pub use attachment::{Attachment, AttachmentId, MediaType, NewAttachment, PhotoRedaction};
pub use audit::{
    AuditEntry, AuditRecord, BreakReason, ChainBreak, ChainHead, ChainSummary, ChainVerifier, Hash,
    verify_chain,
};
pub use camera::{
    Camera, CameraId, CameraState, CameraStatus, CameraUpdate, Event, EventId, NewCamera, NewEvent,
    redact_url,
};
pub use evidence::{
    AccessDecision, AccessRequest, AccessRequestId, AccessStatus, NewAccessRequest,
};
pub use fraud::{Channel, FoundIn, FraudIndicator, FraudReport, FraudReportId, NewFraudReport};
pub use geo::{
    Area, District, DistrictId, GeoPoint, Lang, Mahalla, MahallaId, Names, NewMahalla, Region,
    RegionId,
};
pub use incident::{
    Affected, Category, Incident, IncidentId, NewIncident, Source, Status, StatusChange,
};
pub use report::{Moderation, NewReport, RejectReason, Report, ReportCode, ReportId, ReportStatus};
pub use review::{DismissReason, NewReview, Review, ReviewId, Verdict};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};

/// What went wrong when a value did not satisfy the domain's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A word that names none of a closed set's members (a role, a category, ...).
    #[error("unknown {what} {value:?}; expected one of: {expected}")]
    Unknown {
        what: &'static str,
        value: String,
        expected: String,
    },
    /// A value that is out of range or badly formed.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// An incident status change that the life cycle does not allow.
    #[error("an incident cannot go from {from} to {to}; from {from} it can go to: {allowed}")]
    Transition {
        from: incident::Status,
        to: incident::Status,
        allowed: String,
    },
}

impl DomainError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Declares a closed set of words stored as text: `as_str`, `FromStr`, `Display`, serde as the
/// word, and `ALL`.
macro_rules! word_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident ($what:literal) { $($(#[$vm:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The word stored in the database and used in the API.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err($crate::DomainError::Unknown {
                        what: $what,
                        value: s.to_owned(),
                        expected: [$($word),+].join(", "),
                    }),
                }
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use word_enum;

/// Declares an integer id: a newtype over `i64`, shown and serialised as the number.
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use id_type;

/// Checks a free-text field: trimmed non-empty (unless `allow_empty`), at most `max` characters,
/// no control characters other than newline and tab.
pub(crate) fn check_text(
    what: &'static str,
    s: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), DomainError> {
    if !allow_empty && s.trim().is_empty() {
        return Err(DomainError::invalid(what, "is empty"));
    }
    let n = s.chars().count();
    if n > max {
        return Err(DomainError::invalid(
            what,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(DomainError::invalid(
            what,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(())
}
