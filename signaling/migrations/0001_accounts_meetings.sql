-- Accounts, sessions, scheduled meetings and the audit log.
-- One migration set for SQLite and PostgreSQL: only portable types (TEXT, BIGINT), ids and timestamps made by
-- the server (random text ids, UTC seconds or microseconds since the epoch), booleans as 0/1.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash TEXT,
    oidc_subject TEXT UNIQUE,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    start_utc BIGINT NOT NULL,
    end_utc BIGINT NOT NULL,
    time_zone TEXT NOT NULL,
    weekly BIGINT NOT NULL,
    recurrence_until TEXT,
    guests_allowed BIGINT NOT NULL,
    lobby TEXT NOT NULL CHECK (lobby IN ('off', 'guests', 'everyone')),
    join_opens_minutes BIGINT NOT NULL,
    guest_secret TEXT NOT NULL,
    ended_at BIGINT,
    deleted_at BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX meetings_owner ON meetings (owner_id);

CREATE TABLE meeting_moderators (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_moderators_user ON meeting_moderators (user_id);

CREATE TABLE meeting_invitees (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (meeting_id, email)
);
CREATE INDEX meeting_invitees_email ON meeting_invitees (email);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at_micros BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    meeting_id TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at_micros);
