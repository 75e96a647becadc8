-- posbon schema 8, SQLite: victims' fraud reports and the indicators found in them. Kept in step
-- with ../postgres/0008_fraud_reports.sql.

-- What a victim of fraud sends without an account. Moderated like citizen_reports (same
-- statuses, reject reasons and code form); accepting one records an incident of category fraud
-- (or cybercrime) in the victim's mahalla and links it here. No client address is stored.
-- Card numbers never reach this table: the narrative is stored with every card number found in
-- it replaced by its BIN…last4 form.
CREATE TABLE fraud_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE CHECK (length(code) = 13),
    occurred_at     TEXT NOT NULL,
    -- in tiyin (1/100 so'm)
    amount_lost     INTEGER NOT NULL CHECK (amount_lost >= 0),
    channel         TEXT NOT NULL CHECK (channel IN ('call', 'sms', 'messenger', 'marketplace', 'social_network',
                                                     'fake_site', 'other')),
    narrative       TEXT NOT NULL CHECK (length(trim(narrative)) > 0),
    mahalla_id      INTEGER NOT NULL REFERENCES mahallas (id),
    contact         TEXT,
    -- SHA-256 of what was sent, to store a double submission once
    fingerprint     TEXT NOT NULL CHECK (length(fingerprint) = 64),
    -- SHA-256 of the client's idempotency key, when it sent one
    idempotency_key TEXT UNIQUE CHECK (idempotency_key IS NULL OR length(idempotency_key) = 64),
    status          TEXT NOT NULL CHECK (status IN ('received', 'under_review', 'accepted', 'rejected')),
    reject_reason   TEXT CHECK (reject_reason IN ('duplicate', 'not_enough_detail', 'not_a_safety_matter',
                                                  'outside_area', 'referred', 'other')),
    moderator_id    INTEGER REFERENCES users (id),
    moderation_note TEXT NOT NULL,
    incident_id     INTEGER UNIQUE REFERENCES incidents (id),
    submitted_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK ((status = 'accepted') = (incident_id IS NOT NULL)),
    CHECK ((status = 'rejected') = (reject_reason IS NOT NULL)),
    CHECK ((status = 'received') = (moderator_id IS NULL))
);
CREATE INDEX fraud_reports_fingerprint ON fraud_reports (fingerprint, submitted_at);
CREATE INDEX fraud_reports_status ON fraud_reports (status, mahalla_id, id);

-- The fraudster's identifiers in a report: phone numbers, cards, IBANs, links, domains, handles,
-- wallets, in cyber's normal forms. A card is its BIN…last4 and the keyed hash of its number,
-- never the number (the last CHECK refuses a run of 11 or more digits in a card's value).
CREATE TABLE fraud_indicators (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   INTEGER NOT NULL REFERENCES fraud_reports (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('phone', 'card', 'iban', 'link', 'domain', 'handle', 'wallet')),
    value       TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 4096),
    card_hash   TEXT CHECK (card_hash IS NULL OR length(card_hash) = 64),
    -- hex SHA-256 of the exact key: what links reports and what the checks look up
    hash        TEXT NOT NULL CHECK (length(hash) = 64),
    link_domain TEXT,
    found_in    TEXT NOT NULL CHECK (found_in IN ('field', 'text')),
    -- deception tricks seen in its writing, space-separated words
    suspicious  TEXT NOT NULL,
    defanged    BOOLEAN NOT NULL CHECK (defanged IN (0, 1)),
    UNIQUE (report_id, hash),
    CHECK ((kind = 'card') = (card_hash IS NOT NULL)),
    CHECK (kind <> 'card' OR value NOT GLOB '*[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*')
);
CREATE INDEX fraud_indicators_hash ON fraud_indicators (hash);
