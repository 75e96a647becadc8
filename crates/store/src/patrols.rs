//! Patrol plans (one shift of one district: which unit visits which mahalla when), the patrol
//! time actually logged per mahalla, and the incidents the patrol-against-harm view weighs them
//! with. Units are call signs, never people's names. Every write appends its audit entry in the
//! same transaction.
use domain::{Actor, DistrictId, MahallaId, Scope, Timestamp};
use serde_json::{Value, json};
use sqlx::types::Json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};

/// A plan before it is stored: its shift, its units and every visit.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPatrolPlan {
    pub district: DistrictId,
    pub shift_start: Timestamp,
    pub shift_end: Timestamp,
    pub units: Vec<String>,
    pub seed: i64,
    pub visits_per_unit: u32,
    pub floor_visits: u32,
    pub idle_unit_slots: u32,
    /// How the places were chosen (a JSON object: weeks, sources, confidence, places...).
    pub basis: Value,
    /// Made up by the demo.
    pub synthetic: bool,
    pub visits: Vec<NewPatrolVisit>,
}

/// One visit of a plan before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatrolVisit {
    pub unit: String,
    pub mahalla: MahallaId,
    pub slot: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub minutes: u32,
}

/// A stored plan without its visits.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolPlanHead {
    pub id: i64,
    pub district: DistrictId,
    pub shift_start: Timestamp,
    pub shift_end: Timestamp,
    pub units: Vec<String>,
    pub seed: i64,
    pub visits_per_unit: u32,
    pub floor_visits: u32,
    pub idle_unit_slots: u32,
    pub basis: Value,
    pub synthetic: bool,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

/// A stored visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolVisit {
    pub id: i64,
    pub plan: i64,
    pub unit: String,
    pub mahalla: MahallaId,
    pub slot: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub minutes: u32,
}

/// A stored plan with its visits in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolPlan {
    pub head: PatrolPlanHead,
    pub visits: Vec<PatrolVisit>,
}

/// Patrol time spent at a mahalla, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatrolLog {
    pub unit: String,
    pub mahalla: MahallaId,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The planned visit this time carried out, if any.
    pub visit: Option<i64>,
    pub synthetic: bool,
}

/// A stored patrol log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolLog {
    pub id: i64,
    pub unit: String,
    pub mahalla: MahallaId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub visit: Option<i64>,
    pub synthetic: bool,
    pub entered_by: Actor,
    pub entered_at: Timestamp,
}

/// `SELECT <every plan column> FROM patrol_plans p <rest>`, as one literal.
macro_rules! select_plans {
    ($($rest:tt)*) => {
        concat!(
            "SELECT p.id, p.district_id, p.shift_start, p.shift_end, p.units, p.seed, ",
            "p.visits_per_unit, p.floor_visits, p.idle_unit_slots, p.basis, p.synthetic, p.created_by, ",
            "p.created_at FROM patrol_plans p ",
            $($rest)*
        )
    };
}

/// One statement per level of a scope (national, region, district, mahalla), as an array
/// [`by_level`] indexes: `$head` selects from a table whose mahalla column is `$m`, `$p` is
/// the place's parameter, `$cond` the rest of the condition, `$tail` the order and limit. `$head`
/// is a literal or a macro that gives one (`select_reports!()`).
macro_rules! per_level {
    ($head:expr, $m:literal, $p:literal, $cond:literal, $tail:literal) => {
        [
            concat!($head, " WHERE ", $cond, $tail),
            concat!(
                $head,
                " JOIN mahallas m ON m.id = ",
                $m,
                " JOIN districts d ON d.id = m.district_id WHERE d.region_id = ",
                $p,
                " AND ",
                $cond,
                $tail
            ),
            concat!(
                $head,
                " JOIN mahallas m ON m.id = ",
                $m,
                " WHERE m.district_id = ",
                $p,
                " AND ",
                $cond,
                $tail
            ),
            concat!($head, " WHERE ", $m, " = ", $p, " AND ", $cond, $tail),
        ]
    };
}
pub(crate) use per_level;

/// The statement of `scope`'s level among four made by [`per_level`] (or written by hand in
/// that order).
pub(crate) fn by_level(sqls: &[&'static str; 4], scope: &Scope) -> &'static str {
    sqls[match scope {
        Scope::National => 0,
        Scope::Region(_) => 1,
        Scope::District(_) => 2,
        Scope::Mahalla(_) => 3,
    }]
}

/// Every row of the statement for `$scope` among `$sqls`, with `$binds` bound first and then
/// the scope's place (if it has one), each row read by `$map`.
macro_rules! fetch_scoped {
    ($store:expr, $sqls:expr, $scope:expr, [$($bind:expr),*], $op:literal, $map:expr) => {{
        let sql = $crate::patrols::by_level(&$sqls, $scope);
        with_pool!($store, |pool, _pg| {
            let q = sqlx::query(sql)$(.bind($bind))*;
            let q = match $scope.place_id() {
                Some(place) => q.bind(place),
                None => q,
            };
            q.fetch_all(pool)
                .await
                .map_err($crate::error::db($op))?
                .iter()
                .map($map)
                .collect()
        })
    }};
}
pub(crate) use fetch_scoped;

/// Plans of a scope, newest first: `$1` the limit, `$2` the place. A mahalla's scope holds no
/// district, so no plan.
const PLANS: [&str; 4] = [
    select_plans!("ORDER BY p.id DESC LIMIT $1"),
    select_plans!(
        "JOIN districts d ON d.id = p.district_id WHERE d.region_id = $2 ORDER BY p.id DESC LIMIT $1"
    ),
    select_plans!("WHERE p.district_id = $2 ORDER BY p.id DESC LIMIT $1"),
    select_plans!("WHERE 1 = 0 AND p.district_id = $2 ORDER BY p.id DESC LIMIT $1"),
];

/// Log entries of a scope overlapping `[$1, $2)`, latest first: `$3` the limit, `$4` the place.
const LOGS: [&str; 4] = per_level!(
    "SELECT l.id, l.unit, l.mahalla_id, l.started_at, l.ended_at, l.visit_id, l.synthetic, \
     l.entered_by, l.entered_at FROM patrol_logs l",
    "l.mahalla_id",
    "$4",
    "l.started_at < $2 AND l.ended_at > $1",
    " ORDER BY l.started_at DESC, l.id DESC LIMIT $3"
);

fn count(r: &impl RowExt, col: &str) -> Result<u32> {
    let v = r.i64(col)?;
    u32::try_from(v).map_err(|_| Error::Corrupt {
        what: "patrol count",
        reason: format!("{col} = {v} is out of range"),
    })
}

fn plan_head_from_row(r: &impl RowExt) -> Result<PatrolPlanHead> {
    let units: Vec<String> =
        serde_json::from_value(r.json("units")?).map_err(|e| Error::Corrupt {
            what: "patrol plan units",
            reason: e.to_string(),
        })?;
    Ok(PatrolPlanHead {
        id: r.i64("id")?,
        district: DistrictId(r.i64("district_id")?),
        shift_start: r.ts("shift_start")?,
        shift_end: r.ts("shift_end")?,
        units,
        seed: r.i64("seed")?,
        visits_per_unit: count(r, "visits_per_unit")?,
        floor_visits: count(r, "floor_visits")?,
        idle_unit_slots: count(r, "idle_unit_slots")?,
        basis: r.json("basis")?,
        synthetic: r.boolean("synthetic")?,
        created_by: word("patrol plan creator", &r.text("created_by")?)?,
        created_at: r.ts("created_at")?,
    })
}

fn visit_from_row(r: &impl RowExt) -> Result<PatrolVisit> {
    Ok(PatrolVisit {
        id: r.i64("id")?,
        plan: r.i64("plan_id")?,
        unit: r.text("unit")?,
        mahalla: MahallaId(r.i64("mahalla_id")?),
        slot: count(r, "slot")?,
        start: r.ts("starts_at")?,
        end: r.ts("ends_at")?,
        minutes: count(r, "minutes")?,
    })
}

fn log_from_row(r: &impl RowExt) -> Result<PatrolLog> {
    Ok(PatrolLog {
        id: r.i64("id")?,
        unit: r.text("unit")?,
        mahalla: MahallaId(r.i64("mahalla_id")?),
        start: r.ts("started_at")?,
        end: r.ts("ended_at")?,
        visit: r.opt_i64("visit_id")?,
        synthetic: r.boolean("synthetic")?,
        entered_by: word("patrol log author", &r.text("entered_by")?)?,
        entered_at: r.ts("entered_at")?,
    })
}

/// A row refused for a reason the caller can fix.
fn invalid(what: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid(domain::DomainError::Invalid {
        what,
        reason: reason.into(),
    })
}

impl Store {
    /// Stores a plan with all its visits and an audit entry (`patrol_plan.create`), all or
    /// nothing. The database refuses a plan that gives one unit two visits in a slot, or one
    /// mahalla two units in a slot.
    pub async fn create_patrol_plan(&self, p: &NewPatrolPlan, actor: &Actor) -> Result<PatrolPlan> {
        if p.shift_end <= p.shift_start {
            return Err(invalid("patrol plan", "the shift ends before it starts"));
        }
        let now = self.now();
        let by = actor.to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO patrol_plans (district_id, shift_start, shift_end, units, seed, visits_per_unit, \
                 floor_visits, idle_unit_slots, basis, synthetic, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(p.district.0)
            .bind(DbTs(p.shift_start))
            .bind(DbTs(p.shift_end))
            .bind(Json(&p.units))
            .bind(p.seed)
            .bind(i64::from(p.visits_per_unit))
            .bind(i64::from(p.floor_visits))
            .bind(i64::from(p.idle_unit_slots))
            .bind(Json(&p.basis))
            .bind(p.synthetic)
            .bind(&by)
            .bind(DbTs(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("store the patrol plan"))?;
            for v in &p.visits {
                sqlx::query(
                    "INSERT INTO patrol_visits (plan_id, unit, mahalla_id, slot, starts_at, ends_at, minutes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(&v.unit)
                .bind(v.mahalla.0)
                .bind(i64::from(v.slot))
                .bind(DbTs(v.start))
                .bind(DbTs(v.end))
                .bind(i64::from(v.minutes))
                .execute(&mut *tx)
                .await
                .map_err(db("store a visit of the patrol plan"))?;
            }
            tx.append_audit(
                now,
                &by,
                "patrol_plan.create",
                &format!("patrol_plan:{id}"),
                &json!({
                    "district": p.district.0,
                    "shift_start": p.shift_start,
                    "shift_end": p.shift_end,
                    "units": p.units.len(),
                    "visits": p.visits.len(),
                    "seed": p.seed,
                    "synthetic": p.synthetic,
                }),
            )
            .await?;
            id
        });
        self.get_patrol_plan(id).await?.ok_or(Error::NotFound {
            what: "patrol plan",
            id,
        })
    }

    /// A plan with its visits (in time order, then by unit).
    pub async fn get_patrol_plan(&self, id: i64) -> Result<Option<PatrolPlan>> {
        with_pool!(self, |pool, _pg| {
            let Some(row) = sqlx::query(select_plans!("WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db("read a patrol plan"))?
            else {
                return Ok(None);
            };
            let head = plan_head_from_row(&row)?;
            let visits = sqlx::query(
                "SELECT id, plan_id, unit, mahalla_id, slot, starts_at, ends_at, minutes \
                 FROM patrol_visits WHERE plan_id = $1 ORDER BY starts_at, unit, id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db("read a patrol plan's visits"))?
            .iter()
            .map(visit_from_row)
            .collect::<Result<Vec<_>>>()?;
            Ok(Some(PatrolPlan { head, visits }))
        })
    }

    /// Plans of districts within `scope`, newest first, at most `limit`. A mahalla's scope
    /// holds no district, so no plan.
    pub async fn list_patrol_plans(
        &self,
        scope: &Scope,
        limit: u32,
    ) -> Result<Vec<PatrolPlanHead>> {
        fetch_scoped!(
            self,
            PLANS,
            scope,
            [i64::from(limit)],
            "list patrol plans",
            plan_head_from_row
        )
    }

    /// A planned visit with the district of its plan.
    pub async fn get_patrol_visit(&self, id: i64) -> Result<Option<(PatrolVisit, DistrictId)>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT v.id, v.plan_id, v.unit, v.mahalla_id, v.slot, v.starts_at, v.ends_at, v.minutes, \
                 p.district_id FROM patrol_visits v JOIN patrol_plans p ON p.id = v.plan_id WHERE v.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db("read a planned visit"))?;
            row.map(|r| Ok((visit_from_row(&r)?, DistrictId(r.i64("district_id")?))))
                .transpose()
        })
    }

    /// Records patrol time at a mahalla with an audit entry (`patrol_log.create`).
    pub async fn create_patrol_log(&self, l: &NewPatrolLog, actor: &Actor) -> Result<PatrolLog> {
        if l.end <= l.start {
            return Err(invalid("patrol log", "it ends before it starts"));
        }
        let now = self.now();
        let by = actor.to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO patrol_logs (unit, mahalla_id, started_at, ended_at, visit_id, synthetic, entered_by, entered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&l.unit)
            .bind(l.mahalla.0)
            .bind(DbTs(l.start))
            .bind(DbTs(l.end))
            .bind(l.visit)
            .bind(l.synthetic)
            .bind(&by)
            .bind(DbTs(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("record the patrol time"))?;
            tx.append_audit(
                now,
                &by,
                "patrol_log.create",
                &format!("patrol_log:{id}"),
                &json!({
                    "unit": l.unit,
                    "mahalla": l.mahalla.0,
                    "start": l.start,
                    "end": l.end,
                    "visit": l.visit,
                    "synthetic": l.synthetic,
                }),
            )
            .await?;
            id
        });
        Ok(PatrolLog {
            id,
            unit: l.unit.clone(),
            mahalla: l.mahalla,
            start: l.start,
            end: l.end,
            visit: l.visit,
            synthetic: l.synthetic,
            entered_by: actor.clone(),
            entered_at: now,
        })
    }

    /// Patrol log entries at mahallas within `scope` that overlap `[from, to)`, latest first,
    /// at most `limit`.
    pub async fn list_patrol_logs(
        &self,
        scope: &Scope,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<PatrolLog>> {
        fetch_scoped!(
            self,
            LOGS,
            scope,
            [DbTs(from), DbTs(to), i64::from(limit)],
            "list patrol logs",
            log_from_row
        )
    }
}
