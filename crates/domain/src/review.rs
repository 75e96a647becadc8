//! A person's verdict on a machine's event. Every event waits for one; a confirmed event may
//! become an incident, a dismissed one says why the machine was wrong, so that each rule's and
//! camera's precision can be shown.
use serde::{Deserialize, Serialize};

use crate::access::UserId;
use crate::camera::{CameraId, EventId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(ReviewId);

word_enum! {
    /// Why an alert was false.
    pub enum DismissReason("dismiss reason") {
        Shadow = "shadow",
        Animal = "animal",
        Reflection = "reflection",
        Vegetation = "vegetation",
        Weather = "weather",
        Other = "other",
    }
}

/// The reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// The event is real.
    Confirm,
    /// A false alarm, and why.
    Dismiss(DismissReason),
}

impl Verdict {
    /// The verdict's word as stored: `confirm` or `dismiss`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirm => "confirm",
            Verdict::Dismiss(_) => "dismiss",
        }
    }

    pub const fn reason(self) -> Option<DismissReason> {
        match self {
            Verdict::Confirm => None,
            Verdict::Dismiss(r) => Some(r),
        }
    }

    /// The inverse of ([`Verdict::as_str`], [`Verdict::reason`]).
    pub fn from_parts(verdict: &str, reason: Option<&str>) -> Result<Verdict, DomainError> {
        match (verdict, reason) {
            ("confirm", None) => Ok(Verdict::Confirm),
            ("dismiss", Some(r)) => Ok(Verdict::Dismiss(r.parse()?)),
            ("confirm", Some(_)) => Err(DomainError::invalid(
                "verdict",
                "a confirmation has no dismiss reason",
            )),
            ("dismiss", None) => Err(DomainError::invalid(
                "verdict",
                "a dismissal needs a reason",
            )),
            _ => Err(DomainError::Unknown {
                what: "verdict",
                value: verdict.to_owned(),
                expected: "confirm, dismiss".into(),
            }),
        }
    }
}

/// A stored verdict. The rule and camera are kept with it, so that precision statistics survive
/// the event's deletion by retention (`event` is then `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub event: Option<EventId>,
    pub camera: CameraId,
    pub rule: String,
    pub event_at: Timestamp,
    pub verdict: Verdict,
    pub note: String,
    pub reviewer: UserId,
    pub reviewed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReview {
    pub event: EventId,
    pub verdict: Verdict,
    #[serde(default)]
    pub note: String,
    pub reviewer: UserId,
}

impl NewReview {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("review note", &self.note, 2_000, true)?;
        if self.verdict == Verdict::Dismiss(DismissReason::Other) && self.note.trim().is_empty() {
            return Err(DomainError::invalid(
                "review",
                "a dismissal for an 'other' reason needs a note saying what it was",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_parts_round_trip() {
        let mut all = vec![Verdict::Confirm];
        all.extend(DismissReason::ALL.iter().map(|r| Verdict::Dismiss(*r)));
        for v in all {
            let reason = v.reason().map(|r| r.as_str());
            assert_eq!(Verdict::from_parts(v.as_str(), reason).unwrap(), v);
        }
        assert!(Verdict::from_parts("dismiss", None).is_err());
        assert!(Verdict::from_parts("confirm", Some("shadow")).is_err());
        assert!(Verdict::from_parts("dismiss", Some("ghost")).is_err());
        assert_eq!(
            serde_json::to_value(Verdict::Dismiss(DismissReason::Shadow)).unwrap(),
            serde_json::json!({"verdict": "dismiss", "reason": "shadow"})
        );
    }
}
