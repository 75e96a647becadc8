//! Access to unredacted originals. Evidence is shown redacted; the sealed original of an event
//! opens only through an access request that names a case, is approved by a second person, and
//! expires. The rules are here, pure; the server applies them per request.
//!
//! Who may do what (checked by the server, which also checks scope):
//! - request: admin, operator, inspector, analyst, for an event whose camera lies in their scope;
//! - approve or deny: admin or auditor, whose scope covers the event's mahalla, and never the
//!   requester. The auditor role exists to watch over access (it reads the audit log and does no
//!   case work), so it is the natural second person; admins may approve as well;
//! - revoke an approval early: the same approvers, or the requester;
//! - open: the requester alone, while the approval stands and has not expired.
use serde::{Deserialize, Serialize};

use crate::access::{Role, UserId};
use crate::camera::{CameraId, EventId};
use crate::geo::MahallaId;
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(AccessRequestId);

/// Roles that may ask to open an original.
pub const ACCESS_REQUESTERS: &[Role] =
    &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];
/// Roles that may approve or deny a request (never their own).
pub const ACCESS_APPROVERS: &[Role] = &[Role::Admin, Role::Auditor];

/// How long an approval lasts unless the approver says otherwise, in hours.
pub const DEFAULT_ACCESS_HOURS: u32 = 24;
/// The longest an approval may last, in hours.
pub const MAX_ACCESS_HOURS: u32 = 72;
/// The longest case reference, in characters.
pub const MAX_CASE_REF_CHARS: usize = 64;
/// The longest reason, in characters.
pub const MAX_ACCESS_REASON_CHARS: usize = 2_000;

word_enum! {
    /// Where an access request stands. Expiry is not a stored status: an approved request whose
    /// `expires_at` has passed (by the store's clock) is expired.
    pub enum AccessStatus("access request status") {
        Requested = "requested",
        Approved = "approved",
        Denied = "denied",
        Revoked = "revoked",
    }
}

/// A decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDecision {
    /// Approve for this many hours (1 to [`MAX_ACCESS_HOURS`]).
    Approve {
        hours: u32,
    },
    Deny,
    /// End an approval before it expires.
    Revoke,
}

impl AccessDecision {
    pub const fn word(self) -> &'static str {
        match self {
            AccessDecision::Approve { .. } => "approve",
            AccessDecision::Deny => "deny",
            AccessDecision::Revoke => "revoke",
        }
    }

    /// The status a request in `from` takes, or why it cannot.
    pub fn apply(self, from: AccessStatus) -> Result<AccessStatus, DomainError> {
        let (ok, to) = match self {
            AccessDecision::Approve { hours } => {
                if !(1..=MAX_ACCESS_HOURS).contains(&hours) {
                    return Err(DomainError::invalid(
                        "hours",
                        format!("{hours}: an approval lasts 1 to {MAX_ACCESS_HOURS} hours"),
                    ));
                }
                (from == AccessStatus::Requested, AccessStatus::Approved)
            }
            AccessDecision::Deny => (from == AccessStatus::Requested, AccessStatus::Denied),
            AccessDecision::Revoke => (from == AccessStatus::Approved, AccessStatus::Revoked),
        };
        if ok {
            Ok(to)
        } else {
            Err(DomainError::invalid(
                "decision",
                format!(
                    "a request that is {from} cannot be given the decision {}; only requested ones are approved or denied, and only approved ones revoked",
                    self.word()
                ),
            ))
        }
    }
}

/// A case reference: 1 to 64 characters, letters (any script), digits, spaces and `- / . _ : # №`,
/// with at least one letter or digit, e.g. `2024/123-JK` or `№ 45-2024`. Surrounding spaces are
/// not part of it.
pub fn validate_case_ref(s: &str) -> Result<(), DomainError> {
    let bad = |reason: String| DomainError::invalid("case reference", reason);
    if s.trim() != s {
        return Err(bad("has spaces at its start or end".into()));
    }
    let n = s.chars().count();
    if n == 0 || n > MAX_CASE_REF_CHARS {
        return Err(bad(format!(
            "is {n} characters long; use 1 to {MAX_CASE_REF_CHARS}"
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_alphanumeric() || " -/._:#№".contains(*c)))
    {
        return Err(bad(format!(
            "contains {c:?}; use letters, digits, spaces and - / . _ : # №"
        )));
    }
    if !s.chars().any(char::is_alphanumeric) {
        return Err(bad("has no letter or digit".into()));
    }
    Ok(())
}

/// What it takes to ask for access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessRequest {
    pub event: EventId,
    pub case_ref: String,
    pub reason: String,
    pub requester: UserId,
}

impl NewAccessRequest {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_case_ref(&self.case_ref)?;
        check_text("reason", &self.reason, MAX_ACCESS_REASON_CHARS, false)
    }
}

/// An access request as stored. The event's camera and mahalla are copied in when it is made, so
/// that scope checks and the record outlive the event (retention sets `event` to `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: AccessRequestId,
    pub event: Option<EventId>,
    pub camera: CameraId,
    pub mahalla: MahallaId,
    pub case_ref: String,
    pub reason: String,
    pub requester: UserId,
    pub requested_at: Timestamp,
    pub status: AccessStatus,
    pub approver: Option<UserId>,
    pub decided_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_by: Option<UserId>,
    pub revoked_at: Option<Timestamp>,
}

/// Why an original does not open for a request now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Closed {
    #[error("the request is waiting for a second person's approval")]
    NotApproved,
    #[error("the request was denied")]
    Denied,
    #[error("the approval was revoked at {0}")]
    Revoked(Timestamp),
    #[error("the approval expired at {0}")]
    Expired(Timestamp),
}

impl AccessRequest {
    /// Whether the approval is in force at `now`: approved, and `now` is before `expires_at`.
    pub fn check_open(&self, now: Timestamp) -> Result<(), Closed> {
        match self.status {
            AccessStatus::Requested => Err(Closed::NotApproved),
            AccessStatus::Denied => Err(Closed::Denied),
            AccessStatus::Revoked => Err(Closed::Revoked(
                self.revoked_at.unwrap_or(Timestamp::UNIX_EPOCH),
            )),
            AccessStatus::Approved => match self.expires_at {
                Some(t) if now < t => Ok(()),
                Some(t) => Err(Closed::Expired(t)),
                None => Err(Closed::NotApproved),
            },
        }
    }

    /// What the list shows: the stored status, or `expired` for an approval past its time.
    pub fn shown_status(&self, now: Timestamp) -> &'static str {
        match self.check_open(now) {
            Err(Closed::Expired(_)) => "expired",
            _ => self.status.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_references() {
        for ok in ["2024/123-JK", "№ 45-2024", "Иш 12", "A", &"x".repeat(64)] {
            validate_case_ref(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        for bad in ["", " 12", "12 ", "---", "a;drop", "a\nb", &"x".repeat(65)] {
            assert!(validate_case_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decisions_follow_the_life_cycle() {
        use AccessStatus::*;
        let approve = AccessDecision::Approve { hours: 24 };
        assert_eq!(approve.apply(Requested).unwrap(), Approved);
        assert!(approve.apply(Approved).is_err());
        assert!(approve.apply(Denied).is_err());
        assert!(
            AccessDecision::Approve { hours: 0 }
                .apply(Requested)
                .is_err()
        );
        assert!(
            AccessDecision::Approve {
                hours: MAX_ACCESS_HOURS + 1
            }
            .apply(Requested)
            .is_err()
        );
        assert_eq!(AccessDecision::Deny.apply(Requested).unwrap(), Denied);
        assert!(AccessDecision::Deny.apply(Approved).is_err());
        assert_eq!(AccessDecision::Revoke.apply(Approved).unwrap(), Revoked);
        assert!(AccessDecision::Revoke.apply(Requested).is_err());
        assert!(AccessDecision::Revoke.apply(Revoked).is_err());
    }

    #[test]
    fn an_approval_opens_until_it_expires() {
        let t = |s: i64| Timestamp::from_unix_micros(s * 1_000_000).unwrap();
        let mut r = AccessRequest {
            id: AccessRequestId(1),
            event: Some(EventId(1)),
            camera: CameraId(1),
            mahalla: MahallaId(1),
            case_ref: "1".into(),
            reason: "r".into(),
            requester: UserId(1),
            requested_at: t(0),
            status: AccessStatus::Requested,
            approver: None,
            decided_at: None,
            expires_at: None,
            revoked_by: None,
            revoked_at: None,
        };
        assert_eq!(r.check_open(t(1)), Err(Closed::NotApproved));
        r.status = AccessStatus::Approved;
        r.approver = Some(UserId(2));
        r.expires_at = Some(t(100));
        assert_eq!(r.check_open(t(99)), Ok(()));
        assert_eq!(r.check_open(t(100)), Err(Closed::Expired(t(100))));
        assert_eq!(r.shown_status(t(100)), "expired");
        assert_eq!(r.shown_status(t(5)), "approved");
        r.status = AccessStatus::Denied;
        assert_eq!(r.check_open(t(5)), Err(Closed::Denied));
    }
}
