//! Per-frame evaluation of the rules of one camera.
use super::config::{Direction, RuleConfig, RuleKind, RulesConfig, RulesError};
use super::geometry::{Polygon, Segment, Side};
use crate::clock::Timestamp;
use crate::detect::TrackedObject;
use crate::event::Event;
use crate::geom::Point;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A track absent from the frames for longer than this (seconds of frame time) is forgotten.
pub const FORGET_AFTER_S: f64 = 5.0;
/// A loitering stay ends once the track has been seen outside the zone for this long (seconds).
pub const LOITER_EXIT_GRACE_S: f64 = 2.0;
/// `wrong_way` fires for movement whose cosine with `expected` is below this.
pub const WRONG_WAY_MAX_COSINE: f32 = -0.5;

const DEFAULT_MARGIN: f32 = 0.01;
const DEFAULT_MAX_MOVE: f32 = 0.02;
const DEFAULT_NEAR: f32 = 0.1;
const DEFAULT_MIN_DISTANCE: f32 = 0.05;
/// `wrong_way` judges direction on steps of at least this fraction of `min_distance`, so box
/// jitter of a standing person is not read as movement.
const WRONG_WAY_STEP_FRACTION: f32 = 0.25;

/// A rule with its references resolved and defaults applied.
#[derive(Debug)]
struct Compiled {
    name: String,
    kind: RuleKind,
    /// Accepted class ids (indexed by class id); `None` accepts every class.
    classes: Option<Vec<bool>>,
    min_confidence: f32,
    min_duration: f64,
    cooldown: f64,
    zone: Option<usize>,
    line: Option<(usize, Segment, f32)>,
    direction: Direction,
    min_count: usize,
    max_move: f32,
    near: f32,
    /// Unit vector of `expected`.
    expected: (f32, f32),
    min_distance: f32,
}

impl Compiled {
    fn new(r: &RuleConfig, cfg: &RulesConfig, class_names: &[String]) -> Self {
        let classes = (!r.classes.is_empty()).then(|| {
            class_names
                .iter()
                .map(|n| r.classes.iter().any(|c| c == n))
                .collect()
        });
        let zone = r
            .zone
            .as_ref()
            .and_then(|z| cfg.zones.iter().position(|zc| &zc.name == z));
        let line = r
            .line
            .as_ref()
            .and_then(|l| cfg.lines.iter().position(|lc| &lc.name == l))
            .map(|i| {
                let lc = &cfg.lines[i];
                (
                    i,
                    Segment::new(lc.from, lc.to),
                    lc.margin.unwrap_or(DEFAULT_MARGIN),
                )
            });
        let [ex, ey] = r.expected.unwrap_or([1.0, 0.0]);
        let el = (ex * ex + ey * ey).sqrt();
        Self {
            name: r.name.clone(),
            kind: r.kind,
            classes,
            min_confidence: r.min_confidence.unwrap_or(0.0),
            min_duration: r.min_duration_s.unwrap_or(0.0),
            cooldown: r.cooldown_s.unwrap_or(0.0),
            zone,
            line,
            direction: r.direction.unwrap_or_default(),
            min_count: r.min_count.unwrap_or(1) as usize,
            max_move: r.max_move.unwrap_or(DEFAULT_MAX_MOVE),
            near: r.near.unwrap_or(DEFAULT_NEAR),
            expected: (ex / el, ey / el),
            min_distance: r.min_distance.unwrap_or(DEFAULT_MIN_DISTANCE),
        }
    }

    fn accepts(&self, o: &TrackedObject) -> bool {
        o.score >= self.min_confidence
            && self
                .classes
                .as_ref()
                .is_none_or(|c| c.get(o.class_id as usize).copied().unwrap_or(false))
    }
}

/// A boolean that changes only after a new value has held (in every frame) for `hold` seconds.
#[derive(Debug, Default, Clone, Copy)]
struct Debounce {
    state: Option<bool>,
    pending: Option<(bool, Timestamp)>,
}

impl Debounce {
    /// Feed one observation; on a change of the confirmed state returns the previous state and
    /// the time the new value was first observed.
    fn update(
        &mut self,
        raw: bool,
        now: Timestamp,
        hold: f64,
    ) -> Option<(Option<bool>, Timestamp)> {
        if self.state == Some(raw) {
            self.pending = None;
            return None;
        }
        let since = match self.pending {
            Some((v, t)) if v == raw => t,
            _ => {
                self.pending = Some((raw, now));
                now
            }
        };
        if now.secs_since(since) >= hold {
            let from = self.state.replace(raw);
            self.pending = None;
            return Some((from, since));
        }
        None
    }
}

#[derive(Debug, Clone, Copy)]
struct LeftState {
    anchor: Point,
    still_since: Timestamp,
    attended_at: Option<Timestamp>,
    fired: bool,
}

#[derive(Debug, Clone, Copy)]
struct WrongRun {
    /// Where the movement against `expected` started, and the time of that sample.
    origin: Point,
    since: Timestamp,
    /// Time of the latest step against `expected`: a run lasts as long as the movement does,
    /// so a box that jumps once and then stands still never accumulates duration.
    moved_at: Timestamp,
    fired: bool,
}

/// What one rule remembers about one track.
#[derive(Debug, Clone, Copy)]
enum State {
    Zone {
        presence: Debounce,
        entered_at: Option<Timestamp>,
    },
    Line {
        side: Option<Side>,
        anchor: Point,
    },
    Loiter {
        since: Option<Timestamp>,
        outside_since: Option<Timestamp>,
        fired: bool,
    },
    Left(Option<LeftState>),
    Wrong {
        last: Option<Point>,
        last_t: Timestamp,
        run: Option<WrongRun>,
    },
    /// Crowding keeps its state per zone, not per track.
    None,
}

impl State {
    fn initial(kind: RuleKind) -> Self {
        match kind {
            RuleKind::ZoneEnter | RuleKind::ZoneExit => State::Zone {
                presence: Debounce::default(),
                entered_at: None,
            },
            RuleKind::LineCross => State::Line {
                side: None,
                anchor: Point::default(),
            },
            RuleKind::Loitering => State::Loiter {
                since: None,
                outside_since: None,
                fired: false,
            },
            RuleKind::ObjectLeft => State::Left(None),
            RuleKind::WrongWay => State::Wrong {
                last: None,
                last_t: Timestamp::default(),
                run: None,
            },
            RuleKind::Crowding => State::None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct PerRule {
    last_fired: Option<Timestamp>,
    state: State,
}

#[derive(Debug)]
struct Track {
    last_seen: Timestamp,
    rules: Vec<PerRule>,
}

#[derive(Debug, Default, Clone, Copy)]
struct CrowdState {
    crowded: Debounce,
    last_fired: Option<Timestamp>,
}

fn cooled(last_fired: Option<Timestamp>, now: Timestamp, cooldown: f64) -> bool {
    last_fired.is_none_or(|t| now.secs_since(t) >= cooldown)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Evaluates one camera's rules on the tracked objects of each frame.
///
/// Deterministic: the same frames in give the same events out, in the same order (per frame:
/// objects in the order given, each object's rules in config order, then crowding rules).
/// Memory is bounded by the tracks seen in the last [`FORGET_AFTER_S`] seconds; a steady-state
/// frame allocates only for the events it returns.
#[derive(Debug)]
pub struct RuleEngine {
    camera: String,
    class_names: Vec<String>,
    inv_w: f32,
    inv_h: f32,
    zone_names: Vec<String>,
    zones: Vec<Polygon>,
    line_names: Vec<String>,
    rules: Vec<Compiled>,
    person_class: Option<u32>,
    has_object_left: bool,
    tracks: HashMap<u64, Track>,
    crowds: Vec<CrowdState>,
    last_time: Option<Timestamp>,
    persons: Vec<Point>,
    members: Vec<usize>,
}

impl RuleEngine {
    /// Validate `config` against the detector's `class_names` (indexed by class id) and build
    /// the engine for `camera`, whose frames are `frame_w` x `frame_h` pixels (the pixel space of
    /// the tracked boxes).
    pub fn new(
        config: &RulesConfig,
        class_names: &[String],
        camera: &str,
        frame_w: u32,
        frame_h: u32,
    ) -> Result<Self, RulesError> {
        if frame_w == 0 || frame_h == 0 {
            return Err(RulesError::FrameSize {
                camera: camera.to_string(),
                width: frame_w,
                height: frame_h,
            });
        }
        config.validate(class_names)?;
        let rules: Vec<Compiled> = config
            .rules
            .iter()
            .map(|r| Compiled::new(r, config, class_names))
            .collect();
        Ok(Self {
            camera: camera.to_string(),
            class_names: class_names.to_vec(),
            inv_w: 1.0 / frame_w as f32,
            inv_h: 1.0 / frame_h as f32,
            zone_names: config.zones.iter().map(|z| z.name.clone()).collect(),
            zones: config
                .zones
                .iter()
                .map(|z| Polygon::new(&z.polygon))
                .collect(),
            line_names: config.lines.iter().map(|l| l.name.clone()).collect(),
            person_class: class_names
                .iter()
                .position(|n| n == "person")
                .map(|i| i as u32),
            has_object_left: rules.iter().any(|r| r.kind == RuleKind::ObjectLeft),
            crowds: vec![CrowdState::default(); rules.len()],
            rules,
            tracks: HashMap::new(),
            last_time: None,
            persons: Vec::new(),
            members: Vec::new(),
        })
    }

    /// The camera this engine was built for.
    pub fn camera(&self) -> &str {
        &self.camera
    }

    /// How many tracks the engine currently remembers (bounded by [`FORGET_AFTER_S`]).
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }

    /// Evaluate every rule on the objects of frame `frame`, taken at `time`, and return the
    /// events that completed on it (with empty `evidence`). `objects` are the tracker's output
    /// for this frame, boxes in this camera's pixels; objects with non-finite boxes are ignored.
    pub fn update(&mut self, frame: u64, time: Timestamp, objects: &[TrackedObject]) -> Vec<Event> {
        let now = match self.last_time {
            Some(last) if last > time => last,
            _ => time,
        };
        self.last_time = Some(now);
        let mut events = Vec::new();

        let Self {
            camera,
            class_names,
            inv_w,
            inv_h,
            zone_names,
            zones,
            line_names,
            rules,
            person_class,
            has_object_left,
            tracks,
            crowds,
            persons,
            members,
            ..
        } = self;
        let (inv_w, inv_h) = (*inv_w, *inv_h);
        let foot = |o: &TrackedObject| {
            let f = o.bbox.foot();
            Point::new(f.x * inv_w, f.y * inv_h)
        };
        let finite = |o: &TrackedObject| {
            let b = &o.bbox;
            b.x1.is_finite() && b.y1.is_finite() && b.x2.is_finite() && b.y2.is_finite()
        };
        let ctx = Ctx {
            camera,
            class_names,
            frame,
            now,
        };

        persons.clear();
        if *has_object_left && let Some(pc) = *person_class {
            persons.extend(
                objects
                    .iter()
                    .filter(|o| o.class_id == pc && finite(o))
                    .map(foot),
            );
        }

        for obj in objects.iter().filter(|o| finite(o)) {
            let p = foot(obj);
            let track = tracks.entry(obj.id).or_insert_with(|| Track {
                last_seen: now,
                rules: rules
                    .iter()
                    .map(|r| PerRule {
                        last_fired: None,
                        state: State::initial(r.kind),
                    })
                    .collect(),
            });
            track.last_seen = now;
            for (rule, per) in rules.iter().zip(track.rules.iter_mut()) {
                if rule.kind == RuleKind::Crowding || !rule.accepts(obj) {
                    continue;
                }
                let in_zone = rule.zone.is_none_or(|z| zones[z].contains(p));
                let zone_name = rule.zone.map(|z| zone_names[z].as_str());
                let details = step(rule, &mut per.state, p, in_zone, now, persons);
                if let Some(mut details) = details {
                    if !cooled(per.last_fired, now, rule.cooldown) {
                        continue;
                    }
                    per.last_fired = Some(now);
                    if let Some(z) = zone_name {
                        details.insert("zone".into(), Value::String(z.to_string()));
                    }
                    if let Some((li, _, _)) = rule.line {
                        details.insert("line".into(), Value::String(line_names[li].clone()));
                    }
                    events.push(ctx.event(rule, std::slice::from_ref(obj), details));
                }
            }
        }

        for (rule, crowd) in rules.iter().zip(crowds.iter_mut()) {
            if rule.kind != RuleKind::Crowding {
                continue;
            }
            let Some(z) = rule.zone else { continue };
            members.clear();
            members.extend(
                objects
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| finite(o) && rule.accepts(o) && zones[z].contains(foot(o)))
                    .map(|(i, _)| i),
            );
            let crowded = members.len() >= rule.min_count;
            let change = crowd.crowded.update(crowded, now, rule.min_duration);
            if let Some((_, since)) = change
                && crowded
                && cooled(crowd.last_fired, now, rule.cooldown)
            {
                crowd.last_fired = Some(now);
                let involved: Vec<TrackedObject> = members.iter().map(|&i| objects[i]).collect();
                let mut d = Map::new();
                d.insert("zone".into(), Value::String(zone_names[z].clone()));
                d.insert("count".into(), Value::from(involved.len()));
                d.insert("min_count".into(), Value::from(rule.min_count));
                d.insert("crowded_s".into(), num(round3(now.secs_since(since))));
                events.push(ctx.event(rule, &involved, d));
            }
        }

        tracks.retain(|_, t| now.secs_since(t.last_seen) <= FORGET_AFTER_S);
        events
    }
}

struct Ctx<'a> {
    camera: &'a str,
    class_names: &'a [String],
    frame: u64,
    now: Timestamp,
}

impl Ctx<'_> {
    fn event(&self, rule: &Compiled, objs: &[TrackedObject], details: Map<String, Value>) -> Event {
        let class_of = |o: &TrackedObject| self.class_names.get(o.class_id as usize);
        let class = match objs.split_first() {
            Some((first, rest)) if rest.iter().all(|o| o.class_id == first.class_id) => {
                class_of(first).cloned()
            }
            _ => None,
        };
        Event {
            rule: rule.name.clone(),
            kind: rule.kind.as_str().to_string(),
            camera: self.camera.to_string(),
            time: self.now,
            frame: self.frame,
            track_ids: objs.iter().map(|o| o.id).collect(),
            class,
            boxes: objs.iter().map(|o| o.bbox).collect(),
            details,
            evidence: Vec::new(),
            originals: Vec::new(),
        }
    }
}

/// Advance one track's state for one (non-crowding) rule; `Some(details)` when the rule fires.
fn step(
    rule: &Compiled,
    state: &mut State,
    p: Point,
    in_zone: bool,
    now: Timestamp,
    persons: &[Point],
) -> Option<Map<String, Value>> {
    let mut d = Map::new();
    match state {
        State::Zone {
            presence,
            entered_at,
        } => {
            let (from, since) = presence.update(in_zone, now, rule.min_duration)?;
            if in_zone {
                *entered_at = Some(since);
                (rule.kind == RuleKind::ZoneEnter).then_some(d)
            } else {
                let dwell = entered_at.take().map(|t| since.secs_since(t));
                if rule.kind != RuleKind::ZoneExit || from != Some(true) {
                    return None;
                }
                if let Some(dw) = dwell {
                    d.insert("dwell_s".into(), num(round3(dw)));
                }
                Some(d)
            }
        }
        State::Line { side, anchor } => {
            let (_, seg, margin) = rule.line?;
            let now_side = seg.side(p, margin)?;
            let prev = side.replace(now_side);
            let from_anchor = std::mem::replace(anchor, p);
            let prev = prev.filter(|&s| s != now_side && seg.crossed_by(from_anchor, p))?;
            let dir = if prev == Side::A {
                Direction::AToB
            } else {
                Direction::BToA
            };
            if rule.direction != Direction::Any && rule.direction != dir {
                return None;
            }
            d.insert("direction".into(), Value::String(dir.as_str().into()));
            Some(d)
        }
        State::Loiter {
            since,
            outside_since,
            fired,
        } => {
            let grace_over =
                |t: &Option<Timestamp>| t.is_some_and(|t| now.secs_since(t) >= LOITER_EXIT_GRACE_S);
            if !in_zone {
                if since.is_some() {
                    outside_since.get_or_insert(now);
                    if grace_over(outside_since) {
                        (*since, *outside_since, *fired) = (None, None, false);
                    }
                }
                return None;
            }
            if grace_over(outside_since) {
                (*since, *fired) = (None, false);
            }
            *outside_since = None;
            let start = *since.get_or_insert(now);
            let dwell = now.secs_since(start);
            if *fired || dwell < rule.min_duration {
                return None;
            }
            *fired = true;
            d.insert("dwell_s".into(), num(round3(dwell)));
            Some(d)
        }
        State::Left(left) => {
            if !in_zone {
                *left = None;
                return None;
            }
            let s = left.get_or_insert(LeftState {
                anchor: p,
                still_since: now,
                attended_at: None,
                fired: false,
            });
            if s.anchor.dist(&p) > rule.max_move {
                *s = LeftState {
                    anchor: p,
                    still_since: now,
                    attended_at: s.attended_at,
                    fired: false,
                };
            }
            if persons.iter().any(|q| q.dist(&p) <= rule.near) {
                s.attended_at = Some(now);
            }
            let unattended_from = s
                .attended_at
                .map_or(s.still_since, |a| a.max(s.still_since));
            if s.fired || now.secs_since(unattended_from) < rule.min_duration {
                return None;
            }
            s.fired = true;
            d.insert(
                "stationary_s".into(),
                num(round3(now.secs_since(s.still_since))),
            );
            d.insert(
                "unattended_s".into(),
                num(round3(now.secs_since(unattended_from))),
            );
            Some(d)
        }
        State::Wrong { last, last_t, run } => {
            if !in_zone {
                (*last, *run) = (None, None);
                return None;
            }
            let (ex, ey) = rule.expected;
            let Some(prev) = *last else {
                (*last, *last_t) = (Some(p), now);
                return None;
            };
            let (sx, sy) = (p.x - prev.x, p.y - prev.y);
            let step_len = (sx * sx + sy * sy).sqrt();
            if step_len >= rule.min_distance * WRONG_WAY_STEP_FRACTION {
                if (sx * ex + sy * ey) / step_len < WRONG_WAY_MAX_COSINE {
                    run.get_or_insert(WrongRun {
                        origin: prev,
                        since: *last_t,
                        moved_at: now,
                        fired: false,
                    })
                    .moved_at = now;
                } else {
                    *run = None;
                }
                *last = Some(p);
            }
            *last_t = now;
            let r = run.as_mut()?;
            let (dx, dy) = (p.x - r.origin.x, p.y - r.origin.y);
            let dist = (dx * dx + dy * dy).sqrt();
            if r.fired || dist < rule.min_distance {
                return None;
            }
            let cos = (dx * ex + dy * ey) / dist;
            let moving = r.moved_at.secs_since(r.since);
            if cos >= WRONG_WAY_MAX_COSINE || moving < rule.min_duration {
                return None;
            }
            r.fired = true;
            d.insert("distance".into(), num(round3(dist as f64)));
            d.insert("cosine".into(), num(round3(cos as f64)));
            d.insert("moving_s".into(), num(round3(moving)));
            Some(d)
        }
        State::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_needs_the_value_to_hold() {
        let mut d = Debounce::default();
        let t = |s: f64| Timestamp(0).add_secs(s);
        assert_eq!(d.update(true, t(0.0), 1.0), None);
        assert_eq!(d.update(false, t(0.5), 1.0), None); // flicker resets the pending value
        assert_eq!(d.update(true, t(0.6), 1.0), None);
        assert_eq!(d.update(true, t(1.5), 1.0), None);
        assert_eq!(d.update(true, t(1.6), 1.0), Some((None, t(0.6))));
        assert_eq!(d.update(true, t(9.0), 1.0), None);
        assert_eq!(d.update(false, t(9.1), 0.0), Some((Some(true), t(9.1))));
    }
}
