//! Users, their roles, and the scope of places each may see. A user sees only what lies within
//! their scope; [`Scope::covers`] is the one place that decides it.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::geo::{Area, DistrictId, MahallaId, RegionId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

id_type!(UserId);

word_enum! {
    /// What a user does. What each role may do is decided by the server, per endpoint.
    pub enum Role("role") {
        /// Manages users, cameras and geography.
        Admin = "admin",
        /// Watches cameras and reviews their events.
        Operator = "operator",
        /// A mahalla's or district's inspector: records and works incidents.
        Inspector = "inspector",
        /// Reads statistics and maps.
        Analyst = "analyst",
        /// Reads the audit log and approves access to unredacted evidence.
        Auditor = "auditor",
    }
}

/// The places a user may see: the whole country, or one region, district or mahalla with
/// everything inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "id", rename_all = "snake_case")]
pub enum Scope {
    National,
    Region(RegionId),
    District(DistrictId),
    Mahalla(MahallaId),
}

impl Scope {
    /// Whether `area` lies within this scope. A scope covers its own place and everything below
    /// it, never a place above it: a district's inspector does not see region-level records.
    pub fn covers(&self, area: &Area) -> bool {
        match *self {
            Scope::National => true,
            Scope::Region(r) => area.region() == r,
            Scope::District(d) => area.district() == Some(d),
            Scope::Mahalla(m) => area.mahalla() == Some(m),
        }
    }

    /// The level's word, as stored: `national`, `region`, `district`, `mahalla`.
    pub fn level(&self) -> &'static str {
        match self {
            Scope::National => "national",
            Scope::Region(_) => "region",
            Scope::District(_) => "district",
            Scope::Mahalla(_) => "mahalla",
        }
    }

    /// The id of the scope's place; `None` for the national scope.
    pub fn place_id(&self) -> Option<i64> {
        match *self {
            Scope::National => None,
            Scope::Region(RegionId(id))
            | Scope::District(DistrictId(id))
            | Scope::Mahalla(MahallaId(id)) => Some(id),
        }
    }

    /// The inverse of ([`Scope::level`], [`Scope::place_id`]).
    pub fn from_parts(level: &str, id: Option<i64>) -> Result<Scope, DomainError> {
        match (level, id) {
            ("national", None) => Ok(Scope::National),
            ("region", Some(id)) => Ok(Scope::Region(RegionId(id))),
            ("district", Some(id)) => Ok(Scope::District(DistrictId(id))),
            ("mahalla", Some(id)) => Ok(Scope::Mahalla(MahallaId(id))),
            ("national", Some(_)) => Err(DomainError::invalid(
                "scope",
                "the national scope names no place",
            )),
            ("region" | "district" | "mahalla", None) => Err(DomainError::invalid(
                "scope",
                format!("a {level} scope needs the {level}'s id"),
            )),
            _ => Err(DomainError::Unknown {
                what: "scope level",
                value: level.to_owned(),
                expected: "national, region, district, mahalla".into(),
            }),
        }
    }
}

impl fmt::Display for Scope {
    /// `national`, `region:1726`, `district:1726262`, `mahalla:42`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place_id() {
            None => f.write_str(self.level()),
            Some(id) => write!(f, "{}:{id}", self.level()),
        }
    }
}

impl FromStr for Scope {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None => Scope::from_parts(s, None),
            Some((level, id)) => {
                let id = id.parse::<i64>().map_err(|_| {
                    DomainError::invalid("scope", format!("{s:?}: {id:?} is not an id"))
                })?;
                Scope::from_parts(level, Some(id))
            }
        }
    }
}

/// A user account. The password is kept only as an Argon2 PHC string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub scope: Scope,
    pub disabled: bool,
    pub created_at: Timestamp,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("scope", &self.scope)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// What it takes to create a [`User`].
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// An Argon2 PHC string (`$argon2id$v=19$...`); hashing is the caller's job.
    pub password_hash: String,
    pub role: Role,
    pub scope: Scope,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("scope", &self.scope)
            .finish()
    }
}

impl NewUser {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_username(&self.username)?;
        check_text("display name", &self.display_name, 200, false)?;
        if !self.password_hash.starts_with("$argon2") {
            return Err(DomainError::invalid(
                "password hash",
                "is not an Argon2 PHC string (it must start with $argon2)",
            ));
        }
        Ok(())
    }
}

/// Usernames: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn validate_username(u: &str) -> Result<(), DomainError> {
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "username",
            format!(
                "{u:?}: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
            ),
        ))
    }
}

/// Who did something, as recorded in histories and the audit log: a user, the public (a citizen's
/// report, no login), or a named part of the system (`system:retention`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    User(UserId),
    Public,
    System(String),
}

impl Actor {
    /// A system actor; `name` is 1 to 64 of `a-z 0-9 _ -`.
    pub fn system(name: &str) -> Result<Actor, DomainError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if ok {
            Ok(Actor::System(name.to_owned()))
        } else {
            Err(DomainError::invalid(
                "system actor",
                format!("{name:?}: use 1 to 64 of a-z, 0-9, '_', '-'"),
            ))
        }
    }
}

impl fmt::Display for Actor {
    /// `user:12`, `public`, `system:retention`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Public => f.write_str("public"),
            Actor::System(name) => write!(f, "system:{name}"),
        }
    }
}

impl FromStr for Actor {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "public" {
            return Ok(Actor::Public);
        }
        if let Some(id) = s.strip_prefix("user:") {
            return id
                .parse()
                .map(|id| Actor::User(UserId(id)))
                .map_err(|_| DomainError::invalid("actor", format!("{s:?}: bad user id")));
        }
        if let Some(name) = s.strip_prefix("system:") {
            return Actor::system(name);
        }
        Err(DomainError::invalid(
            "actor",
            format!("{s:?}: expected user:ID, public or system:NAME"),
        ))
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: RegionId = RegionId(1726);
    const R2: RegionId = RegionId(1703);
    const D1: DistrictId = DistrictId(1726262);
    const D2: DistrictId = DistrictId(1726264);
    const M1: MahallaId = MahallaId(1);
    const M2: MahallaId = MahallaId(2);

    fn mahalla(region: RegionId, district: DistrictId, mahalla: MahallaId) -> Area {
        Area::Mahalla {
            region,
            district,
            mahalla,
        }
    }

    #[test]
    fn scope_covers_its_place_and_everything_below_only() {
        let m1 = mahalla(R1, D1, M1);
        let m2_same_district = mahalla(R1, D1, M2);
        let other_district = mahalla(R1, D2, MahallaId(3));
        let other_region = mahalla(R2, DistrictId(1703202), MahallaId(4));
        let d1 = Area::District {
            region: R1,
            district: D1,
        };
        let r1 = Area::Region { region: R1 };

        assert!(
            [m1, other_region, d1, r1]
                .iter()
                .all(|a| Scope::National.covers(a))
        );

        let region = Scope::Region(R1);
        assert!(region.covers(&m1) && region.covers(&other_district) && region.covers(&d1));
        assert!(region.covers(&r1));
        assert!(!region.covers(&other_region));

        let district = Scope::District(D1);
        assert!(district.covers(&m1) && district.covers(&m2_same_district) && district.covers(&d1));
        assert!(!district.covers(&other_district));
        assert!(
            !district.covers(&r1),
            "a district's user does not see region-level records"
        );

        let m = Scope::Mahalla(M1);
        assert!(m.covers(&m1));
        assert!(!m.covers(&m2_same_district));
        assert!(!m.covers(&d1) && !m.covers(&r1));
    }

    #[test]
    fn scope_text_round_trips() {
        for s in [
            Scope::National,
            Scope::Region(R1),
            Scope::District(D1),
            Scope::Mahalla(M2),
        ] {
            assert_eq!(s.to_string().parse::<Scope>().unwrap(), s);
            assert_eq!(Scope::from_parts(s.level(), s.place_id()).unwrap(), s);
        }
        for bad in ["region", "national:1", "city:5", "mahalla:x"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_actors_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        assert!("root".parse::<Role>().is_err());
        for a in [
            Actor::User(UserId(7)),
            Actor::Public,
            Actor::system("retention").unwrap(),
        ] {
            assert_eq!(a.to_string().parse::<Actor>().unwrap(), a);
        }
        assert!(Actor::system("Bad Name").is_err());
        assert!("user:x".parse::<Actor>().is_err());
    }

    #[test]
    fn new_user_checks_username_and_hash_and_hides_the_hash() {
        let mut u = NewUser {
            username: "inspector.chilonzor-7".into(),
            display_name: "Inspector".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Inspector,
            scope: Scope::Mahalla(M1),
        };
        u.validate().unwrap();
        assert!(!format!("{u:?}").contains("argon2id"));
        u.username = "Bad User".into();
        assert!(u.validate().is_err());
        u.username = "ok".into();
        u.password_hash = "plaintext".into();
        assert!(u.validate().is_err());
    }
}
