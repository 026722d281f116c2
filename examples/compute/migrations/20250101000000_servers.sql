-- The compute service's own tables: its servers, where their consoles
-- listen, and who may call it.
CREATE TABLE servers (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    project_id TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'ACTIVE',
    host       TEXT
);

CREATE TABLE console_endpoints (
    server_id            TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    protocol             TEXT NOT NULL,
    host                 TEXT NOT NULL,
    port                 INTEGER NOT NULL,
    tls_port             INTEGER,
    internal_access_path TEXT,
    PRIMARY KEY (server_id, protocol)
);

-- Keys are kept as their SHA-256 only, as consoled keeps its tokens.
CREATE TABLE api_keys (
    key_sha256 TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL,
    project_id TEXT NOT NULL,
    -- Comma-separated, lower case: member, reader, admin.
    roles      TEXT NOT NULL
);
