-- posbon schema 1, SQLite. Kept in step with ../postgres/0001_init.sql: same tables, columns and
-- constraints; only types differ. Times are TEXT in the fixed-width form
-- YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC), which sorts in time order. Booleans are 0/1.

CREATE TABLE regions (
    id           INTEGER PRIMARY KEY,
    name_uz_latn TEXT NOT NULL CHECK (length(trim(name_uz_latn)) > 0),
    name_uz_cyrl TEXT,
    name_ru      TEXT,
    name_en      TEXT,
    geometry     TEXT
);

CREATE TABLE districts (
    id           INTEGER PRIMARY KEY,
    region_id    INTEGER NOT NULL REFERENCES regions (id),
    name_uz_latn TEXT NOT NULL CHECK (length(trim(name_uz_latn)) > 0),
    name_uz_cyrl TEXT,
    name_ru      TEXT,
    name_en      TEXT,
    geometry     TEXT
);
CREATE INDEX districts_region ON districts (region_id);

CREATE TABLE mahallas (
    id           INTEGER PRIMARY KEY,
    district_id  INTEGER NOT NULL REFERENCES districts (id),
    name_uz_latn TEXT NOT NULL CHECK (length(trim(name_uz_latn)) > 0),
    name_uz_cyrl TEXT,
    name_ru      TEXT,
    name_en      TEXT,
    population   INTEGER CHECK (population IS NULL OR population >= 0),
    geometry     TEXT,
    synthetic    BOOLEAN NOT NULL DEFAULT 0 CHECK (synthetic IN (0, 1))
);
CREATE INDEX mahallas_district ON mahallas (district_id);

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    username          TEXT NOT NULL UNIQUE,
    display_name      TEXT NOT NULL,
    password_hash     TEXT NOT NULL CHECK (password_hash LIKE '$argon2%'),
    role              TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'inspector', 'analyst', 'auditor')),
    scope_level       TEXT NOT NULL CHECK (scope_level IN ('national', 'region', 'district', 'mahalla')),
    scope_region_id   INTEGER REFERENCES regions (id),
    scope_district_id INTEGER REFERENCES districts (id),
    scope_mahalla_id  INTEGER REFERENCES mahallas (id),
    disabled          BOOLEAN NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at        TEXT NOT NULL,
    -- exactly the scope's own place is named
    CHECK ((scope_region_id IS NOT NULL) = (scope_level = 'region')),
    CHECK ((scope_district_id IS NOT NULL) = (scope_level = 'district')),
    CHECK ((scope_mahalla_id IS NOT NULL) = (scope_level = 'mahalla'))
);

CREATE TABLE cameras (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    mahalla_id  INTEGER NOT NULL REFERENCES mahallas (id),
    config_toml TEXT NOT NULL,
    lon         REAL,
    lat         REAL,
    created_at  TEXT NOT NULL,
    CHECK ((lon IS NULL) = (lat IS NULL))
);
CREATE INDEX cameras_mahalla ON cameras (mahalla_id);

-- What the pipeline reported. Deleted by retention unless an incident names it.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id   INTEGER NOT NULL REFERENCES cameras (id),
    rule        TEXT NOT NULL,
    at          TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    received_at TEXT NOT NULL
);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_camera_at ON events (camera_id, at);

-- One verdict per event. Rule, camera and event time are copied in so that precision statistics
-- outlive the event: retention sets event_id to NULL.
CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    INTEGER UNIQUE REFERENCES events (id) ON DELETE SET NULL,
    camera_id   INTEGER NOT NULL REFERENCES cameras (id),
    rule        TEXT NOT NULL,
    event_at    TEXT NOT NULL,
    verdict     TEXT NOT NULL CHECK (verdict IN ('confirm', 'dismiss')),
    reason      TEXT CHECK (reason IN ('shadow', 'animal', 'reflection', 'vegetation', 'weather', 'other')),
    note        TEXT NOT NULL,
    reviewer_id INTEGER NOT NULL REFERENCES users (id),
    reviewed_at TEXT NOT NULL,
    CHECK ((verdict = 'dismiss') = (reason IS NOT NULL))
);
CREATE INDEX reviews_camera_rule ON reviews (camera_id, rule, event_at);

CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    category       TEXT NOT NULL CHECK (category IN ('drug_offence', 'theft', 'violence', 'fraud', 'cybercrime',
                                                     'public_order', 'traffic', 'domestic', 'other')),
    source         TEXT NOT NULL CHECK (source IN ('public', 'patrol', 'camera', 'inspector')),
    status         TEXT NOT NULL CHECK (status IN ('new', 'assigned', 'in_progress', 'closed')),
    occurred_at    TEXT NOT NULL,
    reported_at    TEXT NOT NULL,
    mahalla_id     INTEGER NOT NULL REFERENCES mahallas (id),
    lon            REAL,
    lat            REAL,
    affected_minor BOOLEAN NOT NULL CHECK (affected_minor IN (0, 1)),
    affected_youth BOOLEAN NOT NULL CHECK (affected_youth IN (0, 1)),
    affected_woman BOOLEAN NOT NULL CHECK (affected_woman IN (0, 1)),
    narrative      TEXT NOT NULL,
    assignee_id    INTEGER REFERENCES users (id),
    -- the confirmed camera event; RESTRICT keeps retention from deleting it
    event_id       INTEGER UNIQUE REFERENCES events (id) ON DELETE RESTRICT,
    created_by     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK ((lon IS NULL) = (lat IS NULL)),
    CHECK ((source = 'camera') = (event_id IS NOT NULL)),
    CHECK (status NOT IN ('assigned', 'in_progress') OR assignee_id IS NOT NULL)
);
CREATE INDEX incidents_mahalla ON incidents (mahalla_id, id);
CREATE INDEX incidents_occurred ON incidents (occurred_at);

CREATE TABLE incident_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    from_status TEXT CHECK (from_status IN ('new', 'assigned', 'in_progress', 'closed')),
    to_status   TEXT NOT NULL CHECK (to_status IN ('new', 'assigned', 'in_progress', 'closed')),
    assignee_id INTEGER REFERENCES users (id),
    actor       TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

-- The hash chain (see crates/domain/src/audit.rs). seq is assigned by the writer as the last
-- seq + 1 under the write lock, never by AUTOINCREMENT: a rolled-back append must leave no gap.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- Append-only: posbon never updates or deletes audit rows, and neither may anyone else without
-- first dropping these triggers (which `audit verify` would then catch).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
