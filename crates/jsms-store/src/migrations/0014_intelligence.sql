-- Threat reports (PRODUCT §3.6). The marking (TLP label, release to the other party, the
-- organisations of an AMBER+STRICT report), the owner and the times stay plain: every read
-- path filters on them through the authorization component before anything is opened. The
-- content is sealed (XChaCha20-Poly1305, bound to "report:<id>"). `stix_id` makes imports
-- idempotent; `created_at` (the TAXII date added) and `updated_at` are Unix milliseconds.
CREATE TABLE reports (
    id          BLOB PRIMARY KEY,
    stix_id     TEXT NOT NULL UNIQUE,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    org_id      BLOB NOT NULL REFERENCES organisations(id),
    author      BLOB REFERENCES users(id),
    tlp         TEXT NOT NULL,
    shared      INTEGER NOT NULL,
    orgs        TEXT NOT NULL,            -- JSON array of organisation ids
    body        BLOB NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX reports_by_added ON reports (created_at, id);

-- TAXII 2.1 status resources of pushed envelopes, read back by the party that pushed.
CREATE TABLE taxii_status (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
