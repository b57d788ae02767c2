-- Check-ins by the escort: the missed-check-in detector resumes from the last one after a
-- restart.
CREATE TABLE check_ins (
    movement_id BLOB NOT NULL REFERENCES movements (id),
    at          INTEGER NOT NULL,
    user_id     BLOB
) STRICT;
CREATE INDEX check_ins_by_movement ON check_ins (movement_id, at);

-- Webhook deliveries still to be made, written in the alert's transaction so that a
-- restart loses none. A row leaves the outbox when delivered or after its last attempt
-- (every attempt stays in webhook_deliveries).
CREATE TABLE webhook_outbox (
    delivery    BLOB PRIMARY KEY,
    alert_id    BLOB NOT NULL REFERENCES alerts (id),
    url         TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at);
