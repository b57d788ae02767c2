-- Two persons for privilege (PRODUCT §3.8): a change that grants a role, raises a clearance
-- or adds a compartment — a new user included — waits here until a second administrator of
-- the same party (neither the requester nor the user concerned) approves it. The change
-- is JSON: the new user (with its password hash) or the target's new profile and the
-- version it was requested against.
CREATE TABLE privilege_requests (
    id            BLOB PRIMARY KEY,
    party_id      BLOB NOT NULL REFERENCES parties(id),
    target_user   BLOB REFERENCES users(id),
    change        TEXT NOT NULL,
    reasons       TEXT NOT NULL,          -- JSON array: what the change grants
    requested_by  BLOB NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    state         TEXT NOT NULL,          -- pending | approved | rejected
    decided_by    BLOB REFERENCES users(id),
    decided_at    INTEGER,
    note          TEXT
) STRICT;
CREATE INDEX privilege_requests_by_party ON privilege_requests (party_id, created_at);
