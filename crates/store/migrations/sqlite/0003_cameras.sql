-- Cameras can be switched off without losing their settings or events, and each camera's health
-- as its worker last reported it. Kept in step with ../postgres/0003_cameras.sql.
ALTER TABLE cameras ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));

-- One row per camera, replaced by the worker every few seconds and at each change of state.
CREATE TABLE camera_status (
    camera_id     INTEGER PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN ('starting', 'online', 'offline', 'stopped', 'error')),
    fps           REAL NOT NULL CHECK (fps >= 0),
    frames        INTEGER NOT NULL CHECK (frames >= 0),
    last_frame_at TEXT,
    last_error    TEXT,
    updated_at    TEXT NOT NULL
);
