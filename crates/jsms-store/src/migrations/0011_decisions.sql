-- Bilateral decisions (PRODUCT §3.5) and the public keys approvers sign them with. The
-- private keys never reach the server.
CREATE TABLE signing_keys (
    user_id     BLOB PRIMARY KEY REFERENCES users(id),
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE decisions (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    proposer    BLOB NOT NULL REFERENCES users(id),
    state       TEXT NOT NULL,
    body        TEXT NOT NULL,            -- the jsms_decision::Decision, JSON
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
