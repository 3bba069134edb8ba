-- Operational excellence, the fifth Well-Architected pillar, becomes the knowledge category
-- `operations`. SQLite cannot change a CHECK in place, so kb_entries is rebuilt with the same
-- rows and the same doc ids: kb_fts mirrors it by rowid and stays valid untouched.
CREATE TABLE kb_entries_new (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    title TEXT NOT NULL,
    provider TEXT NOT NULL CHECK (provider IN ('gcp', 'aws', 'azure', 'general')),
    category TEXT NOT NULL CHECK (category IN ('security', 'cost', 'performance', 'reliability', 'compliance',
                                               'operations')),
    services TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    frameworks TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL,
    loaded_at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO kb_entries_new (doc, id, path, sha256, title, provider, category, services, tags, frameworks, body,
                            loaded_at)
    SELECT doc, id, path, sha256, title, provider, category, services, tags, frameworks, body, loaded_at
    FROM kb_entries;
DROP TABLE kb_entries;
ALTER TABLE kb_entries_new RENAME TO kb_entries;
CREATE INDEX kb_entries_provider_category ON kb_entries(provider, category);
