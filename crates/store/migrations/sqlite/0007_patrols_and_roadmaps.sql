-- posbon schema 7, SQLite: patrol plans, patrol logs and prevention roadmaps. Kept in step with
-- ../postgres/0007_patrols_and_roadmaps.sql. Patrol units are call signs (labels), never
-- people's names. Every write also appends to the audit log, in the same transaction.

-- A patrol plan for one shift of one district: where and when each unit visits (Koper's 10 to
-- 15 minute visits, docs/design/018). basis records how the places were chosen (weeks of
-- incidents, sources, confidence, each place's weight and Gi* class).
CREATE TABLE patrol_plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    district_id     INTEGER NOT NULL REFERENCES districts (id),
    shift_start     TEXT NOT NULL,
    shift_end       TEXT NOT NULL,
    units           TEXT NOT NULL CHECK (json_valid(units)),
    seed            INTEGER NOT NULL CHECK (seed >= 0),
    visits_per_unit INTEGER NOT NULL CHECK (visits_per_unit > 0),
    floor_visits    INTEGER NOT NULL CHECK (floor_visits >= 0),
    idle_unit_slots INTEGER NOT NULL CHECK (idle_unit_slots >= 0),
    basis           TEXT NOT NULL CHECK (json_valid(basis)),
    synthetic       BOOLEAN NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1)),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    CHECK (shift_end > shift_start)
);
CREATE INDEX patrol_plans_district ON patrol_plans (district_id, id);

-- One visit of a plan. The unique keys hold the plan's promises in the database too: a unit
-- makes one visit per slot, and no place gets two units in one slot.
CREATE TABLE patrol_visits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id    INTEGER NOT NULL REFERENCES patrol_plans (id),
    unit       TEXT NOT NULL CHECK (length(trim(unit)) > 0),
    mahalla_id INTEGER NOT NULL REFERENCES mahallas (id),
    slot       INTEGER NOT NULL CHECK (slot >= 0),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    minutes    INTEGER NOT NULL CHECK (minutes BETWEEN 10 AND 15),
    CHECK (ends_at > starts_at),
    UNIQUE (plan_id, unit, slot),
    UNIQUE (plan_id, mahalla_id, slot)
);
CREATE INDEX patrol_visits_plan ON patrol_visits (plan_id, starts_at);

-- Patrol time actually spent at a place, as entered by an operator or inspector.
CREATE TABLE patrol_logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit       TEXT NOT NULL CHECK (length(trim(unit)) > 0 AND length(unit) <= 40),
    mahalla_id INTEGER NOT NULL REFERENCES mahallas (id),
    started_at TEXT NOT NULL,
    ended_at   TEXT NOT NULL,
    visit_id   INTEGER REFERENCES patrol_visits (id),
    synthetic  BOOLEAN NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1)),
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    CHECK (ended_at > started_at)
);
CREATE INDEX patrol_logs_mahalla ON patrol_logs (mahalla_id, started_at);
CREATE INDEX patrol_logs_started ON patrol_logs (started_at);

-- A prevention roadmap of a region, district or mahalla. The places above the roadmap's own are
-- copied in, so a scope's roadmaps are found without joins.
CREATE TABLE roadmaps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    level       TEXT NOT NULL CHECK (level IN ('region', 'district', 'mahalla')),
    region_id   INTEGER NOT NULL REFERENCES regions (id),
    district_id INTEGER REFERENCES districts (id),
    mahalla_id  INTEGER REFERENCES mahallas (id),
    title       TEXT NOT NULL CHECK (length(trim(title)) > 0 AND length(title) <= 200),
    period      TEXT NOT NULL CHECK (length(period) <= 40),
    synthetic   BOOLEAN NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1)),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK ((district_id IS NOT NULL) = (level IN ('district', 'mahalla'))),
    CHECK ((mahalla_id IS NOT NULL) = (level = 'mahalla'))
);
CREATE INDEX roadmaps_region ON roadmaps (region_id, id);
CREATE INDEX roadmaps_district ON roadmaps (district_id, id);
CREATE INDEX roadmaps_mahalla ON roadmaps (mahalla_id, id);

-- A measure of a roadmap. Done needs evidence of completion; a second person verifies it, and
-- only verified evidence counts towards progress (docs/design/018).
CREATE TABLE roadmap_measures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    roadmap_id    INTEGER NOT NULL REFERENCES roadmaps (id),
    kind          TEXT NOT NULL CHECK (kind IN ('digital_monitoring', 'outreach_education', 'social_services',
                                                'inspector_staffing', 'social_worker_staffing',
                                                'youth_prevention', 'drug_prevention')),
    description   TEXT NOT NULL CHECK (length(trim(description)) > 0 AND length(description) <= 2000),
    owner         TEXT NOT NULL CHECK (length(trim(owner)) > 0 AND length(owner) <= 200),
    deadline      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'cancelled')),
    evidence_text TEXT NOT NULL CHECK (length(evidence_text) <= 2000),
    evidence_link TEXT CHECK (evidence_link IS NULL OR length(evidence_link) <= 500),
    completed_at  TEXT,
    done_by       TEXT,
    verified_by   INTEGER REFERENCES users (id),
    verified_at   TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (status <> 'done' OR length(trim(evidence_text)) > 0),
    CHECK ((status = 'done') = (completed_at IS NOT NULL)),
    CHECK ((status = 'done') = (done_by IS NOT NULL)),
    CHECK ((verified_by IS NULL) = (verified_at IS NULL)),
    CHECK (verified_by IS NULL OR status = 'done')
);
CREATE INDEX roadmap_measures_roadmap ON roadmap_measures (roadmap_id, id);
