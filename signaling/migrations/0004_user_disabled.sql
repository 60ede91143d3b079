-- Accounts an admin disabled: they cannot log in (password or OpenID Connect) and their sessions end. NULL: active.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
