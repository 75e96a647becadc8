//! The rules engine: tracked objects in, [`Event`](crate::event::Event)s out.
//!
//! Rules are configured per camera in TOML, as three arrays of tables that the camera config
//! carries as its top-level keys `zones`, `lines` and `rules` (see [`RulesConfig`]). All geometry
//! is in **normalised image coordinates**: `x` from 0 (left edge) to 1 (right edge), `y` from 0
//! (top edge) to 1 (bottom edge), whatever the frame's resolution.
//!
//! ```toml
//! [[zones]]
//! name = "square"
//! polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]
//!
//! [[lines]]
//! name = "crossing"
//! from = [0.5, 0.3]   # top ...
//! to   = [0.5, 0.9]   # ... to bottom: side A is the right half, side B the left half
//!
//! [[rules]]
//! name = "enter-square"
//! kind = "zone_enter"
//! zone = "square"
//! classes = ["person"]
//! min_confidence = 0.4
//! min_duration_s = 1.0
//! cooldown_s = 30
//!
//! [[rules]]
//! name = "cross-right-to-left"
//! kind = "line_cross"
//! line = "crossing"
//! direction = "A->B"
//! ```
//!
//! # What each kind means
//! An object's position is the foot point of its box (bottom centre, [`BBox::foot`]) divided by
//! the frame size. Only objects whose class is in the rule's `classes` (all classes when empty)
//! and whose score is at least `min_confidence` are considered; in a frame where a track fails
//! that filter the rule treats it as unseen (its state is kept, not advanced).
//!
//! | kind | fires when | needs | `details` |
//! |---|---|---|---|
//! | `zone_enter` | a track that was outside the zone, or new, is inside it continuously for `min_duration_s` | `zone` | `zone` |
//! | `zone_exit` | a track that was (confirmed) inside is outside continuously for `min_duration_s` | `zone` | `zone`, `dwell_s` |
//! | `line_cross` | a track's foot moves from one side of the line to the other through the segment | `line` | `line`, `direction` |
//! | `loitering` | a track has stayed in the zone for `min_duration_s` (once per stay) | `zone`, `min_duration_s` | `zone`, `dwell_s` |
//! | `crowding` | at least `min_count` objects are in the zone, continuously for `min_duration_s` | `zone`, `min_count` | `zone`, `count`, `min_count`, `crowded_s` |
//! | `object_left` | an object of `classes` has moved less than `max_move` and had no person within `near`, for `min_duration_s` | `classes`, `min_duration_s` | `stationary_s`, `unattended_s`, `zone` |
//! | `wrong_way` | a track moves against `expected` (cosine < -0.5) over at least `min_distance`, for `min_duration_s` | `expected` | `distance`, `cosine`, `moving_s`, `zone` |
//!
//! # Decisions
//! - **Line sides.** Side **A** of a line is on the *left* of the arrow `from -> to` as drawn on
//!   the image: turn the arrow 90° counter-clockwise as you look at the picture and it points
//!   into side A. A line drawn left to right has A above it; a line drawn top to bottom has A on
//!   its right (the viewer's right). `"A->B"` means from side A to side B.
//! - **Line hysteresis.** A foot point counts as being on a side only when it is more than the
//!   line's `margin` (default 0.01) away from the line; points inside that band change nothing.
//!   A crossing is the move from the last point confirmed on one side to the first point
//!   confirmed on the other, and it counts only if that straight path passes through the line
//!   segment (walking around an end of the line is not a crossing). Jitter on the line therefore
//!   fires nothing, and a track first seen on one side fires nothing until it crosses.
//! - **Zone debounce.** Zone membership is a debounced state per track: it changes only after
//!   the new value has held in every frame for `min_duration_s`. A new track inside the zone
//!   counts as entering it. `zone_exit` fires only when a track is *seen* outside; a track that
//!   vanishes inside a zone produces no exit, because detectors and trackers lose people inside
//!   zones (occlusion, id switches) far more often than people leave unseen, and a false exit
//!   is noise a reviewer has to dismiss.
//! - **Loitering** counts from the first frame a track is seen inside; a stay ends only after
//!   the track has been seen outside for [`LOITER_EXIT_GRACE_S`] (boxes jitter at a zone's
//!   edge). It fires once per stay, when the dwell reaches `min_duration_s`.
//! - **Forgetting.** A track absent from the frames for more than [`FORGET_AFTER_S`] seconds of
//!   frame time is forgotten with all its state, so memory is bounded by the tracks of the last
//!   few seconds. A track present in every frame is never forgotten however far apart those
//!   frames are: a test can hand in frames 60 s apart.
//! - **Cooldown.** After a rule fires for a track (for a zone, with `crowding`), the same rule
//!   does not fire again for that track (zone) within `cooldown_s`; a suppressed event is
//!   dropped, not delayed.
//! - **Wrong way** judges direction on steps of at least a quarter of `min_distance` (so a
//!   standing person's box jitter is not movement); a run of steps against `expected` must last
//!   `min_duration_s` *while moving*, so a single jump of the box never fires.
//! - **Object left** counts from the later of "stopped moving" and "last person within
//!   `near`" (foot point to foot point, any person track, whatever its score).
//! - **Time** comes only from the `time` given to [`RuleEngine::update`]. If a frame's time is
//!   earlier than an earlier frame's (a clock step), the engine keeps using the latest time seen,
//!   so durations never run backwards and events stay in time order.
//!
//! [`BBox::foot`]: crate::geom::BBox::foot

mod config;
mod engine;
mod geometry;

pub use config::{
    Direction, LineConfig, RuleConfig, RuleKind, RulesConfig, RulesError, ZoneConfig,
};
pub use engine::{FORGET_AFTER_S, LOITER_EXIT_GRACE_S, RuleEngine, WRONG_WAY_MAX_COSINE};
