-- web-console schema "console": browser sessions. The browser holds a random session token in a cookie; only its
-- SHA-256 is stored. A session is opened by signing in with an API key and remembers that key's tenant.

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    -- SHA-256 (hex) of the session token
    token_hash    TEXT NOT NULL UNIQUE,
    tenant_id     TEXT NOT NULL,
    api_key_id    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
