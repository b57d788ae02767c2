-- Incidents (PRODUCT §3.7). The report, timeline, findings and lessons are sealed
-- (XChaCha20-Poly1305, bound to "incident:<id>"); kind, severity, time, place, releasability
-- and status stay plain for listing, authorization and the route risk feed.
CREATE TABLE incidents (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    reporter    BLOB NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    severity    INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    shared      INTEGER NOT NULL,
    status      TEXT NOT NULL,
    body        BLOB NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX incidents_by_time ON incidents (occurred_at);
