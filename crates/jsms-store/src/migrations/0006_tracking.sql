-- Live tracking (PRODUCT §3.4): devices of escort teams, positions, alerts.
CREATE TABLE devices (
    id          BLOB PRIMARY KEY,
    team_id     BLOB NOT NULL REFERENCES escort_teams(id),
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,      -- SHA-256 of the device token
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE positions (
    movement_id BLOB NOT NULL REFERENCES movements(id),
    device_id   BLOB NOT NULL REFERENCES devices(id),
    at          INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    speed       REAL,
    heading     REAL,
    accuracy    REAL,
    battery     REAL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (movement_id, device_id, at)
) STRICT, WITHOUT ROWID;

CREATE TABLE alerts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,   -- the SSE event id
    id          BLOB NOT NULL UNIQUE,
    movement_id BLOB NOT NULL REFERENCES movements(id),
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    evidence    TEXT NOT NULL,                        -- JSON: position, zone
    state       TEXT NOT NULL,                        -- open | acknowledged | resolved
    log         TEXT NOT NULL,                        -- JSON: [{at, user, action, note}]
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX alerts_open ON alerts (movement_id, kind, state);
