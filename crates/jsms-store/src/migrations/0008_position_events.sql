-- The live position stream: every new position in arrival order (the SSE event id).
CREATE TABLE position_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    movement_id BLOB NOT NULL REFERENCES movements(id),
    at          INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    speed       REAL
) STRICT;
