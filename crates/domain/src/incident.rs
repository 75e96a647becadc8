//! The digital incident report: one record type for incidents from cameras, citizens, inspectors
//! and patrols, and the life cycle of its status.
use serde::{Deserialize, Serialize};

use crate::access::{Actor, UserId};
use crate::camera::EventId;
use crate::geo::{GeoPoint, MahallaId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(IncidentId);

word_enum! {
    /// What happened.
    pub enum Category("incident category") {
        /// Possession, sale or advertising of drugs (including stencilled adverts on walls).
        DrugOffence = "drug_offence",
        Theft = "theft",
        Violence = "violence",
        Fraud = "fraud",
        /// Crime committed through computers and networks, e.g. bank-card fraud by messenger.
        Cybercrime = "cybercrime",
        PublicOrder = "public_order",
        Traffic = "traffic",
        Domestic = "domestic",
        Other = "other",
    }
}

word_enum! {
    /// How the incident became known. Statistics keep these apart: what patrols find follows
    /// where patrols already go.
    pub enum Source("incident source") {
        /// Reported by a member of the public.
        Public = "public",
        /// Found by a patrol.
        Patrol = "patrol",
        /// A camera event that a person confirmed.
        Camera = "camera",
        /// Recorded by the mahalla's inspector.
        Inspector = "inspector",
    }
}

word_enum! {
    /// Where an incident stands. See [`Status::next`] for the allowed changes.
    pub enum Status("incident status") {
        New = "new",
        Assigned = "assigned",
        InProgress = "in_progress",
        Closed = "closed",
    }
}

impl Status {
    /// The statuses an incident in this status may move to:
    ///
    /// ```text
    ///   new ──▶ assigned ──▶ in_progress ──▶ closed
    ///    │ ▲       │  ▲           │             │
    ///    │ └───────┘  └───────────┘             │ (reopened: to assigned)
    ///    └──────────────▶ closed ◀──────────────┘
    /// ```
    /// `new → closed` is for duplicates and unfounded reports; `assigned → new` hands a case back
    /// to the queue; `in_progress → assigned` hands it to someone else; a closed case is reopened
    /// to `assigned`, because someone must take it up.
    pub const fn next(self) -> &'static [Status] {
        match self {
            Status::New => &[Status::Assigned, Status::Closed],
            Status::Assigned => &[Status::InProgress, Status::New, Status::Closed],
            Status::InProgress => &[Status::Closed, Status::Assigned],
            Status::Closed => &[Status::Assigned],
        }
    }

    pub fn can_become(self, to: Status) -> bool {
        self.next().contains(&to)
    }

    /// `Ok(to)` if the change is allowed, or an error that says what is.
    pub fn transition(self, to: Status) -> Result<Status, DomainError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(DomainError::Transition {
                from: self,
                to,
                allowed: self
                    .next()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }

    /// An assigned or in-progress incident has someone working it.
    pub const fn needs_assignee(self) -> bool {
        matches!(self, Status::Assigned | Status::InProgress)
    }
}

/// Who was affected, as aggregate flags only: no names are needed or kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Affected {
    /// Under 18.
    #[serde(default)]
    pub minor: bool,
    /// 18 to 30.
    #[serde(default)]
    pub youth: bool,
    #[serde(default)]
    pub woman: bool,
}

/// An incident as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub category: Category,
    pub source: Source,
    pub status: Status,
    pub occurred_at: Timestamp,
    pub reported_at: Timestamp,
    pub mahalla: MahallaId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
    pub affected: Affected,
    pub narrative: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserId>,
    /// The camera event a reviewer confirmed into this incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
    pub created_by: Actor,
    pub updated_at: Timestamp,
}

/// What it takes to record an incident. It starts as [`Status::New`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    pub category: Category,
    pub source: Source,
    pub occurred_at: Timestamp,
    pub mahalla: MahallaId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
    #[serde(default)]
    pub affected: Affected,
    pub narrative: String,
    /// The confirmed camera event, for [`Source::Camera`] incidents (and only those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventId>,
}

pub const MAX_NARRATIVE_CHARS: usize = 20_000;

impl NewIncident {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("narrative", &self.narrative, MAX_NARRATIVE_CHARS, true)?;
        if let Some(p) = &self.point {
            p.validate()?;
        }
        match (self.source, self.event) {
            (Source::Camera, None) => Err(DomainError::invalid(
                "incident",
                "a camera incident must name the event it was confirmed from",
            )),
            (s, Some(_)) if s != Source::Camera => Err(DomainError::invalid(
                "incident",
                format!("only a camera incident names an event, not a {s} one"),
            )),
            _ => Ok(()),
        }
    }
}

/// One row of an incident's status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub incident: IncidentId,
    /// `None` for the row that records the incident's creation.
    pub from: Option<Status>,
    pub to: Status,
    pub assignee: Option<UserId>,
    pub actor: Actor,
    pub note: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_cycle() {
        use Status::*;
        let allowed = [
            (New, Assigned),
            (New, Closed),
            (Assigned, InProgress),
            (Assigned, New),
            (Assigned, Closed),
            (InProgress, Closed),
            (InProgress, Assigned),
            (Closed, Assigned),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_become(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
        let e = Closed.transition(New).unwrap_err().to_string();
        assert!(e.contains("closed to new") && e.contains("assigned"), "{e}");
        assert!(Assigned.needs_assignee() && InProgress.needs_assignee());
        assert!(!New.needs_assignee() && !Closed.needs_assignee());
    }

    #[test]
    fn words_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>().unwrap(), *s);
        }
        assert_eq!(
            serde_json::to_string(&Category::DrugOffence).unwrap(),
            "\"drug_offence\""
        );
        assert!("murder".parse::<Category>().is_err());
    }

    #[test]
    fn only_camera_incidents_name_an_event() {
        let mut n = NewIncident {
            category: Category::PublicOrder,
            source: Source::Camera,
            occurred_at: Timestamp::UNIX_EPOCH,
            mahalla: MahallaId(1),
            point: None,
            affected: Affected::default(),
            narrative: String::new(),
            event: None,
        };
        assert!(n.validate().is_err());
        n.event = Some(EventId(3));
        n.validate().unwrap();
        n.source = Source::Public;
        assert!(n.validate().is_err());
    }
}
