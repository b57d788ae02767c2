-- Decision attachments (their SHA-256 is part of what approvers sign), the designated
-- authorities of each party (who approves decisions; when a party designates none, its
-- movement coordinators and liaison officers), and per-user notifications (reminders of
-- overdue action items, decisions awaiting one's approval).
CREATE TABLE decision_attachments (
    decision_id BLOB NOT NULL REFERENCES decisions(id),
    sha256      TEXT NOT NULL,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    content     BLOB NOT NULL,
    added_by    BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (decision_id, sha256)
) STRICT;

CREATE TABLE decision_authorities (
    party_id    BLOB NOT NULL REFERENCES parties(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    designated_by BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (party_id, user_id)
) STRICT;

CREATE TABLE notifications (
    id          BLOB PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    link        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    read_at     INTEGER
) STRICT;
CREATE INDEX notifications_user ON notifications (user_id, created_at);
