-- Movements and escort teams (PRODUCT §3.2).
CREATE TABLE escort_teams (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    unit        TEXT NOT NULL,
    call_sign   TEXT NOT NULL,
    members     TEXT NOT NULL,            -- JSON array of user ids
    vehicles    TEXT NOT NULL,            -- JSON array of strings
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE movements (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES organisations(id),
    party_id     BLOB NOT NULL REFERENCES parties(id),
    requester    BLOB NOT NULL REFERENCES users(id),
    state        TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    release_at   INTEGER,                 -- when the plan is released (clear: the scheduler needs it)
    ends_at      INTEGER,                 -- when escort grants expire
    body         TEXT NOT NULL,           -- JSON: request, assessment, approvals, history (no plan)
    plan         BLOB,                    -- the plan, sealed (XChaCha20-Poly1305, bound to the movement)
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX movements_due ON movements (state, release_at);
CREATE INDEX movements_by_org ON movements (org_id, created_at);
