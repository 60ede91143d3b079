-- Accounts linked to an OpenID Connect provider. The provider's issuer and subject identify a person for good
-- (email and name may change at the provider); one account may be linked to one subject per issuer.
-- (users.oidc_subject from 0001 was never used: it lacks the issuer; this table takes its place.)
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX oidc_links_user ON oidc_links (user_id, issuer);
