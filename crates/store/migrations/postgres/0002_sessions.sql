-- Login sessions of the HTTP server. Only SHA-256 hashes of the session token and of its CSRF
-- token are kept: a copy of the database does not let anyone act as a logged-in user.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_hash   TEXT NOT NULL CHECK (length(csrf_hash) = 64),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
