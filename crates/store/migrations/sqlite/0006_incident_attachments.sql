-- posbon schema 6, SQLite: files attached to incidents. Kept in step with
-- ../postgres/0006_incident_attachments.sql.

-- The file lies under the server's data folder at stored_path
-- (attachments/incident-N/<sha256>), written before the row. Incidents are never deleted and
-- retention does not touch this table or that folder: an incident keeps its attachments.
CREATE TABLE incident_attachments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE RESTRICT,
    -- as sent, cleaned for display (no path, no control or invisible formatting characters)
    file_name   TEXT NOT NULL CHECK (length(trim(file_name)) > 0 AND length(file_name) <= 200),
    media_type  TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'application/pdf',
                                                    'video/mp4', 'video/quicktime', 'text/plain')),
    size_bytes  INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    stored_path TEXT NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    uploaded_at TEXT NOT NULL,
    -- the same content twice on one incident is one attachment
    UNIQUE (incident_id, sha256)
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id, id);
