-- Traceable disclosures: the codeword each recipient's copy of a movement brief encodes.
CREATE TABLE disclosures (
    movement_id BLOB NOT NULL REFERENCES movements(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    codeword    TEXT NOT NULL,            -- 256 bits, hex
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    copies      INTEGER NOT NULL,
    PRIMARY KEY (movement_id, user_id)
) STRICT;
