-- API keys of the banks that call the payee check (docs/design/021-payee-check.md). Only the
-- SHA-256 of a key is kept (a key is 32 random bytes, so a fast hash is enough): a copy of the
-- database does not let anyone call the API. Kept in step with ../postgres/0009_bank_keys.sql.
CREATE TABLE bank_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bank            TEXT NOT NULL CHECK (length(bank) BETWEEN 1 AND 200),
    -- the key's first characters, to tell keys apart on screen; not enough to use it
    key_prefix      TEXT NOT NULL CHECK (length(key_prefix) BETWEEN 1 AND 16),
    key_hash        TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
    rate_per_second INTEGER NOT NULL CHECK (rate_per_second BETWEEN 1 AND 100000),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_by      TEXT,
    revoked_at      TEXT,
    CHECK ((revoked_by IS NULL) = (revoked_at IS NULL))
);
