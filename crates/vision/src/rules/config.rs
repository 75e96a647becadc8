//! The TOML shape of zones, lines and rules, and its validation.
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// Zones, lines and rules of one camera.
///
/// The camera config carries these as its top-level keys `zones`, `lines` and `rules` (arrays of
/// tables). Unknown keys are rejected, so `#[serde(flatten)]` into a larger struct does not work:
/// give the camera config the three fields (all `pub`) and build a `RulesConfig` from them, or
/// parse a stand-alone rules file with [`RulesConfig::from_toml_str`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Named polygons, referred to by rules' `zone`.
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// Named directed lines, referred to by rules' `line`.
    #[serde(default)]
    pub lines: Vec<LineConfig>,
    /// The rules, evaluated in this order on every frame.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

/// A named area of the image (`[[zones]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Unique among the camera's zones.
    pub name: String,
    /// Corners `[x, y]` in normalised image coordinates (0..1, x right, y down), in order around
    /// the area (either way round); at least 3. The polygon closes itself (do not repeat the
    /// first point). An object is in the zone when its foot point (bottom centre of its box) is.
    pub polygon: Vec<[f32; 2]>,
}

/// A named directed line segment (`[[lines]]`).
///
/// Side **A** is on the left of the arrow `from -> to` as drawn on the image (turn the arrow 90°
/// counter-clockwise on the picture and it points into A): a line drawn left to right has A
/// above it, a line drawn top to bottom has A on the viewer's right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    /// Unique among the camera's lines.
    pub name: String,
    /// Start `[x, y]`, normalised image coordinates.
    pub from: [f32; 2],
    /// End `[x, y]`, normalised image coordinates; must differ from `from`.
    pub to: [f32; 2],
    /// Hysteresis band (normalised distance from the line, default 0.01): a foot point closer
    /// than this to the line is on neither side, so jitter on the line never fires twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
}

/// What a rule watches for. Written in TOML in snake case: `kind = "zone_enter"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A track enters a zone (inside continuously for `min_duration_s`, after outside or new).
    ZoneEnter,
    /// A track seen inside a zone is seen outside continuously for `min_duration_s`.
    ZoneExit,
    /// A track's foot point crosses a line (in `direction`).
    LineCross,
    /// A track stays in a zone for `min_duration_s`.
    Loitering,
    /// At least `min_count` objects are in a zone for `min_duration_s`.
    Crowding,
    /// An object (not a person) stays put, with no person near, for `min_duration_s`.
    ObjectLeft,
    /// A track moves against the `expected` direction.
    WrongWay,
}

impl RuleKind {
    /// The name used in TOML and in [`Event::kind`](crate::event::Event::kind).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::ZoneEnter => "zone_enter",
            RuleKind::ZoneExit => "zone_exit",
            RuleKind::LineCross => "line_cross",
            RuleKind::Loitering => "loitering",
            RuleKind::Crowding => "crowding",
            RuleKind::ObjectLeft => "object_left",
            RuleKind::WrongWay => "wrong_way",
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which crossings of a line fire a `line_cross` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Direction {
    /// `"A->B"`: from side A (left of `from -> to`) to side B.
    #[serde(rename = "A->B")]
    AToB,
    /// `"B->A"`: from side B to side A.
    #[serde(rename = "B->A")]
    BToA,
    /// `"any"` (the default): either way.
    #[default]
    #[serde(rename = "any")]
    Any,
}

impl Direction {
    /// `"A->B"`, `"B->A"` or `"any"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AToB => "A->B",
            Direction::BToA => "B->A",
            Direction::Any => "any",
        }
    }
}

/// One rule (`[[rules]]`). Which fields a kind takes:
///
/// | field | default | kinds |
/// |---|---|---|
/// | `zone` | — | required by `zone_enter`, `zone_exit`, `loitering`, `crowding`; optional for `object_left`, `wrong_way` (whole frame when absent) |
/// | `line` | — | `line_cross` (required) |
/// | `classes`, `min_confidence`, `cooldown_s` | all classes, 0, 0 | every kind (`classes` required by `object_left`) |
/// | `min_duration_s` | 0 | all but `line_cross`; required (> 0) by `loitering`, `object_left` |
/// | `direction` | `"any"` | `line_cross` |
/// | `min_count` | — | `crowding` (required) |
/// | `max_move`, `near` | 0.02, 0.1 | `object_left` |
/// | `expected`, `min_distance` | —, 0.05 | `wrong_way` (`expected` required) |
///
/// A field given to a kind that does not use it is an error, not silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique among the camera's rules; becomes [`Event::rule`](crate::event::Event::rule).
    pub name: String,
    /// What to watch for.
    pub kind: RuleKind,
    /// Name of a `[[zones]]` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Name of a `[[lines]]` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Class names from the detector's class list (e.g. `coco.names`); empty means every class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Ignore an object in frames where its score is below this (0..1, default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f32>,
    /// Debounce, in seconds of frame time: the condition must hold this long before the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_s: Option<f64>,
    /// `line_cross`: `"A->B"`, `"B->A"` or `"any"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// `crowding`: how many objects in the zone make a crowd (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<u32>,
    /// `object_left`: the object counts as stationary while its foot point stays within this
    /// normalised distance of where it stopped (default 0.02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_move: Option<f32>,
    /// `object_left`: a person whose foot point is within this normalised distance of the
    /// object's attends it (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near: Option<f32>,
    /// `wrong_way`: the allowed direction of travel `[dx, dy]` in image coordinates (x right,
    /// y down; `[0, 1]` is "down the picture"); any length but zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<[f32; 2]>,
    /// `wrong_way`: the track must have moved at least this normalised distance against
    /// `expected` (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_distance: Option<f32>,
    /// Seconds during which the rule does not fire again for the same track (for `crowding`,
    /// the same zone). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<f64>,
}

/// Why a rules config was rejected. Each message names the zone, line or rule at fault and says
/// how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The TOML itself did not parse; the message carries line and column.
    #[error("rules config is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// A zone, line or rule has an empty name.
    #[error("{what} #{index} has an empty name: give it `name = \"...\"`")]
    EmptyName { what: &'static str, index: usize },
    /// Two zones (lines, rules) share a name.
    #[error("two {what}s are named `{name}`: names must be unique among {what}s; rename one")]
    DuplicateName { what: &'static str, name: String },
    /// A zone polygon with fewer than 3 corners.
    #[error(
        "zone `{zone}` has {points} point(s): a polygon needs at least 3 `[x, y]` corners, e.g. \
         polygon = [[0.1, 0.5], [0.9, 0.5], [0.5, 0.9]]"
    )]
    PolygonTooSmall { zone: String, points: usize },
    /// A coordinate outside 0..1 (or not a number).
    #[error(
        "{place} has coordinate {value}, outside 0..1: zones and lines are in normalised image \
         coordinates (0 = left/top edge, 1 = right/bottom edge); divide pixel values by the frame \
         width and height"
    )]
    OutOfRange { place: String, value: f32 },
    /// A line whose two ends coincide.
    #[error("line `{line}` has `from` equal to `to`: give two different points")]
    DegenerateLine { line: String },
    /// A line margin outside its range.
    #[error(
        "line `{line}`: margin = {value} is invalid; use a normalised distance from 0 to 0.25 (default 0.01)"
    )]
    BadMargin { line: String, value: f32 },
    /// A rule names a zone that is not defined.
    #[error(
        "rule `{rule}` refers to zone `{zone}`, which is not defined: add a [[zones]] table named `{zone}`, or use one of: {known}"
    )]
    UnknownZone {
        rule: String,
        zone: String,
        known: String,
    },
    /// A rule names a line that is not defined.
    #[error(
        "rule `{rule}` refers to line `{line}`, which is not defined: add a [[lines]] table named `{line}`, or use one of: {known}"
    )]
    UnknownLine {
        rule: String,
        line: String,
        known: String,
    },
    /// A class name the detector does not know.
    #[error(
        "rule `{rule}`: class `{class}` is not in the detector's class list{hint}; use names \
         exactly as the model's class file (e.g. coco.names) spells them"
    )]
    UnknownClass {
        rule: String,
        class: String,
        hint: String,
    },
    /// A field set on a rule whose kind does not use it.
    #[error(
        "rule `{rule}` (kind = \"{kind}\") sets `{field}`, which {kind} rules do not use: remove it{hint}"
    )]
    NotApplicable {
        rule: String,
        kind: RuleKind,
        field: &'static str,
        hint: &'static str,
    },
    /// A field the rule's kind needs is missing.
    #[error("rule `{rule}` (kind = \"{kind}\") needs `{field}`: add e.g. `{example}`")]
    Missing {
        rule: String,
        kind: RuleKind,
        field: &'static str,
        example: &'static str,
    },
    /// A field has a value out of its range.
    #[error("rule `{rule}`: {field} = {value} is invalid; {expected}")]
    BadValue {
        rule: String,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    /// `object_left` needs to know which objects are people.
    #[error(
        "rule `{rule}` (kind = \"object_left\") needs a class named `person` in the detector's \
         class list, to tell whether someone is near the object; use a model that detects people"
    )]
    NoPersonClass { rule: String },
    /// The engine was given a zero frame size.
    #[error(
        "camera `{camera}`: frame size {width}x{height} is invalid; the rules engine needs the frame's size in pixels"
    )]
    FrameSize {
        camera: String,
        width: u32,
        height: u32,
    },
}

fn known_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "(none defined)".to_string()
    } else {
        v.join(", ")
    }
}

/// Levenshtein distance, for "did you mean" hints on class names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn class_hint(class: &str, class_names: &[String]) -> String {
    let lower = class.to_lowercase();
    let best = class_names
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= 2 || c.eq_ignore_ascii_case(class) => {
            format!(" (did you mean `{c}`?)")
        }
        _ if class_names.is_empty() => " (the detector reports no class names)".to_string(),
        _ => String::new(),
    }
}

fn check_point(place: impl Fn() -> String, p: [f32; 2]) -> Result<(), RulesError> {
    for v in p {
        if !(0.0..=1.0).contains(&v) {
            return Err(RulesError::OutOfRange {
                place: place(),
                value: v,
            });
        }
    }
    Ok(())
}

fn check_unique<'a>(
    what: &'static str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), RulesError> {
    let mut seen = HashSet::new();
    for (index, name) in names.enumerate() {
        if name.trim().is_empty() {
            return Err(RulesError::EmptyName {
                what,
                index: index + 1,
            });
        }
        if !seen.insert(name) {
            return Err(RulesError::DuplicateName {
                what,
                name: name.to_string(),
            });
        }
    }
    Ok(())
}

impl RulesConfig {
    /// Parse a stand-alone rules file (the three arrays of tables). TOML syntax errors and
    /// unknown or mistyped fields come back as [`RulesError::Parse`] with line and column.
    /// Call [`validate`](Self::validate) (or build a [`RuleEngine`](super::RuleEngine)) next.
    pub fn from_toml_str(text: &str) -> Result<Self, RulesError> {
        Ok(toml::from_str(text)?)
    }

    /// True when no rules are configured (zones and lines alone do nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Check everything that can be checked before frames arrive: names present and unique,
    /// polygons of at least 3 points, coordinates within 0..1, zone, line and class references
    /// that resolve (`class_names` is the detector's list, indexed by class id), fields that
    /// apply to each rule's kind and values in range. Returns the first problem found.
    pub fn validate(&self, class_names: &[String]) -> Result<(), RulesError> {
        check_unique("zone", self.zones.iter().map(|z| z.name.as_str()))?;
        check_unique("line", self.lines.iter().map(|l| l.name.as_str()))?;
        check_unique("rule", self.rules.iter().map(|r| r.name.as_str()))?;
        for z in &self.zones {
            if z.polygon.len() < 3 {
                return Err(RulesError::PolygonTooSmall {
                    zone: z.name.clone(),
                    points: z.polygon.len(),
                });
            }
            for (i, p) in z.polygon.iter().enumerate() {
                check_point(|| format!("zone `{}` point {} {:?}", z.name, i + 1, p), *p)?;
            }
        }
        for l in &self.lines {
            check_point(|| format!("line `{}` `from` {:?}", l.name, l.from), l.from)?;
            check_point(|| format!("line `{}` `to` {:?}", l.name, l.to), l.to)?;
            if l.from == l.to {
                return Err(RulesError::DegenerateLine {
                    line: l.name.clone(),
                });
            }
            if let Some(m) = l.margin
                && !(0.0..=0.25).contains(&m)
            {
                return Err(RulesError::BadMargin {
                    line: l.name.clone(),
                    value: m,
                });
            }
        }
        for r in &self.rules {
            self.validate_rule(r, class_names)?;
        }
        Ok(())
    }

    fn validate_rule(&self, r: &RuleConfig, class_names: &[String]) -> Result<(), RulesError> {
        use RuleKind::*;
        let k = r.kind;
        let na = |field: &'static str, hint: &'static str| RulesError::NotApplicable {
            rule: r.name.clone(),
            kind: k,
            field,
            hint,
        };
        let missing = |field: &'static str, example: &'static str| RulesError::Missing {
            rule: r.name.clone(),
            kind: k,
            field,
            example,
        };
        let bad =
            |field: &'static str, value: String, expected: &'static str| RulesError::BadValue {
                rule: r.name.clone(),
                field,
                value,
                expected,
            };

        // zone / line references
        match (k, &r.zone) {
            (LineCross, Some(_)) => return Err(na("zone", " (line_cross rules use `line`)")),
            (ZoneEnter | ZoneExit | Loitering | Crowding, None) => {
                return Err(missing(
                    "zone",
                    "zone = \"square\" (the name of a [[zones]] table)",
                ));
            }
            (_, Some(z)) if !self.zones.iter().any(|zc| &zc.name == z) => {
                return Err(RulesError::UnknownZone {
                    rule: r.name.clone(),
                    zone: z.clone(),
                    known: known_list(self.zones.iter().map(|z| z.name.as_str())),
                });
            }
            _ => {}
        }
        match (k, &r.line) {
            (LineCross, None) => {
                return Err(missing(
                    "line",
                    "line = \"crossing\" (the name of a [[lines]] table)",
                ));
            }
            (LineCross, Some(l)) if !self.lines.iter().any(|lc| &lc.name == l) => {
                return Err(RulesError::UnknownLine {
                    rule: r.name.clone(),
                    line: l.clone(),
                    known: known_list(self.lines.iter().map(|l| l.name.as_str())),
                });
            }
            (LineCross, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(na(
                    "line",
                    " (only line_cross rules use a line; zone rules use `zone`)",
                ));
            }
        }

        // classes
        for c in &r.classes {
            if !class_names.iter().any(|n| n == c) {
                return Err(RulesError::UnknownClass {
                    rule: r.name.clone(),
                    class: c.clone(),
                    hint: class_hint(c, class_names),
                });
            }
        }
        if k == ObjectLeft {
            if r.classes.is_empty() {
                return Err(missing(
                    "classes",
                    "classes = [\"backpack\", \"handbag\", \"suitcase\"]",
                ));
            }
            if r.classes.iter().any(|c| c == "person") {
                return Err(bad(
                    "classes",
                    format!("{:?}", r.classes),
                    "object_left watches things, not people: remove \"person\" (use loitering for people)",
                ));
            }
            if !class_names.iter().any(|n| n == "person") {
                return Err(RulesError::NoPersonClass {
                    rule: r.name.clone(),
                });
            }
        }

        // common values
        if let Some(c) = r.min_confidence
            && !(0.0..=1.0).contains(&c)
        {
            return Err(bad(
                "min_confidence",
                c.to_string(),
                "use a score from 0 to 1",
            ));
        }
        if let Some(c) = r.cooldown_s
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(bad(
                "cooldown_s",
                c.to_string(),
                "use a number of seconds, 0 or more",
            ));
        }
        match (k, r.min_duration_s) {
            (LineCross, Some(_)) => {
                return Err(na(
                    "min_duration_s",
                    " (a crossing is instantaneous; the line's `margin` absorbs jitter and `cooldown_s` limits repeats)",
                ));
            }
            (Loitering | ObjectLeft, None) => {
                return Err(missing("min_duration_s", "min_duration_s = 60"));
            }
            (Loitering | ObjectLeft, Some(d)) if !(d.is_finite() && d > 0.0) => {
                return Err(bad(
                    "min_duration_s",
                    d.to_string(),
                    "use a number of seconds greater than 0",
                ));
            }
            (_, Some(d)) if !(d.is_finite() && d >= 0.0) => {
                return Err(bad(
                    "min_duration_s",
                    d.to_string(),
                    "use a number of seconds, 0 or more",
                ));
            }
            _ => {}
        }

        // kind-specific fields
        if r.direction.is_some() && k != LineCross {
            return Err(na(
                "direction",
                " (only line_cross rules have a direction; wrong_way rules use `expected = [dx, dy]`)",
            ));
        }
        match (k, r.min_count) {
            (Crowding, None) => return Err(missing("min_count", "min_count = 5")),
            (Crowding, Some(0)) => {
                return Err(bad("min_count", "0".into(), "use 1 or more objects"));
            }
            (Crowding, Some(_)) | (_, None) => {}
            (_, Some(_)) => return Err(na("min_count", " (only crowding rules count objects)")),
        }
        for (field, v) in [("max_move", r.max_move), ("near", r.near)] {
            match v {
                None => {}
                Some(_) if k != ObjectLeft => {
                    return Err(na(field, " (only object_left rules use max_move and near)"));
                }
                Some(x) if !(x.is_finite() && x > 0.0 && x <= 1.5) => {
                    return Err(bad(
                        field,
                        x.to_string(),
                        "use a normalised distance greater than 0, at most 1.5",
                    ));
                }
                Some(_) => {}
            }
        }
        match (k, r.expected) {
            (WrongWay, None) => {
                return Err(missing(
                    "expected",
                    "expected = [0.0, 1.0] (the allowed direction: down the picture)",
                ));
            }
            (WrongWay, Some([dx, dy])) => {
                if !(dx.is_finite() && dy.is_finite()) || (dx == 0.0 && dy == 0.0) {
                    return Err(bad(
                        "expected",
                        format!("[{dx}, {dy}]"),
                        "give a non-zero direction [dx, dy] in image coordinates (x right, y down)",
                    ));
                }
            }
            (_, None) => {}
            (_, Some(_)) => {
                return Err(na(
                    "expected",
                    " (only wrong_way rules have an expected direction)",
                ));
            }
        }
        match (k, r.min_distance) {
            (_, None) => {}
            (WrongWay, Some(x)) if !(x.is_finite() && x > 0.0 && x <= 1.5) => {
                return Err(bad(
                    "min_distance",
                    x.to_string(),
                    "use a normalised distance greater than 0, at most 1.5",
                ));
            }
            (WrongWay, Some(_)) => {}
            (_, Some(_)) => {
                return Err(na(
                    "min_distance",
                    " (only wrong_way rules use min_distance)",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("person", "person"), 0);
        assert_eq!(edit_distance("persn", "person"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn class_hint_suggests_close_names_only() {
        let names: Vec<String> = ["person", "car", "handbag"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(class_hint("persons", &names), " (did you mean `person`?)");
        assert_eq!(class_hint("Car", &names), " (did you mean `car`?)");
        assert_eq!(class_hint("aeroplane", &names), "");
    }

    #[test]
    fn kind_names_round_trip_through_toml() {
        #[derive(Deserialize)]
        struct K {
            k: RuleKind,
        }
        for kind in [
            RuleKind::ZoneEnter,
            RuleKind::ZoneExit,
            RuleKind::LineCross,
            RuleKind::Loitering,
            RuleKind::Crowding,
            RuleKind::ObjectLeft,
            RuleKind::WrongWay,
        ] {
            let parsed: K = toml::from_str(&format!("k = \"{}\"", kind.as_str())).unwrap();
            assert_eq!(parsed.k, kind);
        }
    }
}
