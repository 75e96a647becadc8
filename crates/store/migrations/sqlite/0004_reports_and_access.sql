-- posbon schema 4, SQLite: citizen reports and access requests for sealed originals. Kept in step
-- with ../postgres/0004_reports_and_access.sql.

-- What the public sends without an account. No client address is ever stored; an anonymous
-- report stores no contact either. A report counts for nothing until it is accepted, which
-- records an incident (source 'public') and links it here.
CREATE TABLE citizen_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE CHECK (length(code) = 13),
    category        TEXT NOT NULL CHECK (category IN ('drug_offence', 'theft', 'violence', 'fraud', 'cybercrime',
                                                      'public_order', 'traffic', 'domestic', 'other')),
    narrative       TEXT NOT NULL CHECK (length(trim(narrative)) > 0),
    occurred_at     TEXT NOT NULL,
    mahalla_id      INTEGER REFERENCES mahallas (id),
    lon             REAL,
    lat             REAL,
    affected_minor  BOOLEAN NOT NULL CHECK (affected_minor IN (0, 1)),
    affected_youth  BOOLEAN NOT NULL CHECK (affected_youth IN (0, 1)),
    affected_woman  BOOLEAN NOT NULL CHECK (affected_woman IN (0, 1)),
    anonymous       BOOLEAN NOT NULL CHECK (anonymous IN (0, 1)),
    contact         TEXT,
    -- SHA-256 of what was sent, to store a double submission once
    fingerprint     TEXT NOT NULL CHECK (length(fingerprint) = 64),
    status          TEXT NOT NULL CHECK (status IN ('received', 'under_review', 'accepted', 'rejected')),
    reject_reason   TEXT CHECK (reject_reason IN ('duplicate', 'not_enough_detail', 'not_a_safety_matter',
                                                  'outside_area', 'referred', 'other')),
    moderator_id    INTEGER REFERENCES users (id),
    moderation_note TEXT NOT NULL,
    incident_id     INTEGER UNIQUE REFERENCES incidents (id),
    submitted_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK ((lon IS NULL) = (lat IS NULL)),
    CHECK (mahalla_id IS NOT NULL OR lon IS NOT NULL),
    CHECK (NOT anonymous OR contact IS NULL),
    CHECK ((status = 'accepted') = (incident_id IS NOT NULL)),
    CHECK ((status = 'rejected') = (reject_reason IS NOT NULL)),
    CHECK ((status = 'received') = (moderator_id IS NULL))
);
CREATE INDEX citizen_reports_fingerprint ON citizen_reports (fingerprint, submitted_at);
CREATE INDEX citizen_reports_status ON citizen_reports (status, mahalla_id, id);

-- Requests to open an event's sealed original: a named case, a second person's decision, an
-- expiry. The event's camera and mahalla are copied in, so the record and its scope outlive the
-- event (retention deletes events; event_id then becomes NULL).
CREATE TABLE access_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     INTEGER REFERENCES events (id) ON DELETE SET NULL,
    camera_id    INTEGER NOT NULL REFERENCES cameras (id),
    mahalla_id   INTEGER NOT NULL REFERENCES mahallas (id),
    case_ref     TEXT NOT NULL CHECK (length(trim(case_ref)) > 0 AND length(case_ref) <= 64),
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    requester_id INTEGER NOT NULL REFERENCES users (id),
    requested_at TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'denied', 'revoked')),
    approver_id  INTEGER REFERENCES users (id),
    decided_at   TEXT,
    expires_at   TEXT,
    revoked_by   INTEGER REFERENCES users (id),
    revoked_at   TEXT,
    -- a second person decides
    CHECK (approver_id IS NULL OR approver_id <> requester_id),
    CHECK ((status = 'requested') = (approver_id IS NULL)),
    CHECK ((status = 'requested') = (decided_at IS NULL)),
    CHECK ((status IN ('approved', 'revoked')) = (expires_at IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX access_requests_status ON access_requests (status, mahalla_id, id);
CREATE INDEX access_requests_requester ON access_requests (requester_id, id);
