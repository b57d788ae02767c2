-- Parties, organisations, users, credentials, sessions, API tokens, persons and sites.
-- Ids are UUIDv7 as 16-byte blobs: they sort by creation time and serve as cursors.
-- Times are Unix seconds (UTC).

-- Instance facts, e.g. a value sealed with the instance key, to detect a wrong key at start-up.
CREATE TABLE instance_meta (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
) STRICT;

CREATE TABLE parties (
    id          BLOB PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('host', 'partner')),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY,
    party_id    BLOB NOT NULL REFERENCES parties(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('agency', 'embassy_office', 'company')),
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (party_id, name)
) STRICT;

CREATE TABLE users (
    id                    BLOB PRIMARY KEY,
    party_id              BLOB NOT NULL REFERENCES parties(id),
    org_id                BLOB NOT NULL REFERENCES organisations(id),
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    roles                 TEXT NOT NULL,          -- JSON array of role names
    clearance             TEXT NOT NULL,
    compartments          TEXT NOT NULL,          -- JSON array
    disabled              INTEGER NOT NULL DEFAULT 0,
    password_hash         TEXT NOT NULL,          -- Argon2id PHC string
    totp_secret           BLOB,                   -- sealed with the instance key
    totp_enrolled         INTEGER NOT NULL DEFAULT 0,
    totp_last_step        INTEGER,
    version               INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX users_party ON users (party_id, id);

CREATE TABLE sessions (
    token_hash    BLOB PRIMARY KEY,               -- SHA-256 of the cookie value
    user_id       BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mfa_verified  INTEGER NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL                -- absolute expiry
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            BLOB PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    party_id      BLOB NOT NULL REFERENCES parties(id),
    org_id        BLOB NOT NULL REFERENCES organisations(id),
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,                  -- JSON array
    created_by    BLOB NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_used_at  INTEGER
) STRICT;

CREATE TABLE sites (
    id            BLOB PRIMARY KEY,
    owner_org_id  BLOB NOT NULL REFERENCES organisations(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    lat           REAL NOT NULL,
    lon           REAL NOT NULL,
    perimeter     TEXT,                           -- JSON [[lon, lat], ...]
    posture       TEXT NOT NULL,
    notes         TEXT,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE persons (
    id                BLOB PRIMARY KEY,
    full_name         TEXT NOT NULL,
    nationality       TEXT,
    employer_org_id   BLOB NOT NULL REFERENCES organisations(id),
    assigned_site_id  BLOB REFERENCES sites(id),
    protection_level  TEXT NOT NULL CHECK (protection_level IN ('A', 'B', 'C')),
    status            TEXT NOT NULL,
    -- Personal data: each sealed with XChaCha20-Poly1305, bound to (person id, field).
    passport_number   BLOB,
    phone             BLOB,
    date_of_birth     BLOB,
    home_address      BLOB,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX persons_employer ON persons (employer_org_id, id);
