-- People a moderator removed from a room for good ("remove and ban"). The room is the meeting id for scheduled
-- meetings (or any room name of a `plenum token` link). The identity is what the join token says: an account id,
-- a guest's per-browser identity from the guest link (see docs/api.md), or a token's --identity.
-- No foreign key to meetings: bans of rooms without a meeting must survive a restart too.
CREATE TABLE room_bans (
    room TEXT NOT NULL,
    identity TEXT NOT NULL,
    name TEXT NOT NULL,
    banned_by_identity TEXT NOT NULL,
    banned_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room, identity)
);
