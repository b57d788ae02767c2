-- Break-glass grants and the auditors' alert queue.

CREATE TABLE break_glass (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users(id),
    party_id        BLOB NOT NULL REFERENCES parties(id),
    resource        TEXT NOT NULL,            -- e.g. person:<id>
    reason          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    reviewed_at     INTEGER,
    reviewed_by     BLOB REFERENCES users(id),
    review_verdict  TEXT CHECK (review_verdict IN ('justified', 'unjustified')),
    review_note     TEXT,
    escalated_at    INTEGER
) STRICT;
CREATE INDEX break_glass_by_user ON break_glass (user_id, expires_at);

CREATE TABLE auditor_alerts (
    id               BLOB PRIMARY KEY,
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    principal        TEXT,
    resource         TEXT,
    message          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    acknowledged_at  INTEGER,
    acknowledged_by  BLOB REFERENCES users(id)
) STRICT;

-- Time-limited need-to-know grants, created by other features (e.g. movement release).
CREATE TABLE grants (
    id          BLOB PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users(id),
    resource    TEXT NOT NULL,            -- e.g. person:<id>, movement:<id>
    source      TEXT NOT NULL,            -- what created it, e.g. movement.release:<id>
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX grants_by_user ON grants (user_id, expires_at);
