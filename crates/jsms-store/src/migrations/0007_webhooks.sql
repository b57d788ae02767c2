-- Outbound webhook deliveries of alerts: every attempt, its answer or error.
CREATE TABLE webhook_deliveries (
    id          BLOB PRIMARY KEY,
    delivery    BLOB NOT NULL,            -- one delivery (alert × target) across its attempts
    alert_id    BLOB NOT NULL,
    url         TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER,                  -- HTTP status, when an answer came
    error       TEXT,                     -- transport error, when none did
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (at);
