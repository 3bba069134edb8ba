-- Knowledge base: best-practice entries loaded from knowledge/**.md, and their full-text index.
-- kb_entries is the source of truth (one row per valid file, keyed by entry id, with the
-- file's sha256 so unchanged files are skipped on reload); kb_fts mirrors it row for row
-- (kb_fts.rowid = kb_entries.doc) and is kept in sync by the loader in the same transaction.
CREATE TABLE kb_entries (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    title TEXT NOT NULL,
    provider TEXT NOT NULL CHECK (provider IN ('gcp', 'aws', 'azure', 'general')),
    category TEXT NOT NULL CHECK (category IN ('security', 'cost', 'performance', 'reliability', 'compliance')),
    services TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    frameworks TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL,
    loaded_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX kb_entries_provider_category ON kb_entries(provider, category);

-- Porter stemming lets "backups" match "backup" and "encrypted" match "encryption".
-- provider_terms holds the provider's names (e.g. "aws amazon web services") so a query that
-- names a provider favours its entries even without a filter.
CREATE VIRTUAL TABLE kb_fts USING fts5(
    title,
    services,
    tags,
    body,
    provider_terms,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
