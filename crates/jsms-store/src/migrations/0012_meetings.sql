-- Coordination meetings (PRODUCT §3.5): agenda, attendance by party and organisation,
-- minutes approved by a representative of each attending party (then immutable;
-- corrections are new meetings linked to the one they correct), action items.
CREATE TABLE meetings (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    final       INTEGER NOT NULL,
    body        TEXT NOT NULL,            -- JSON: see jsms_server::routes::meetings::Meeting
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
