-- Threat zones (PRODUCT §3.3).
CREATE TABLE zones (
    id           BLOB PRIMARY KEY,
    owner_party  BLOB NOT NULL REFERENCES parties(id),
    shape        TEXT NOT NULL,        -- {"polygon": [[lon, lat], ...]} or {"circle": {"center": [lon, lat], "radius_m": r}}
    severity     INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
    kind         TEXT NOT NULL,
    valid_from   INTEGER NOT NULL,
    valid_until  INTEGER,
    source       TEXT NOT NULL,
    notes        TEXT,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
