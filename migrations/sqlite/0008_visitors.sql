-- no-transaction
-- Who the visitor is (SPEC 11): the visitor record holds their name and email, the embedding
-- site's user id for them and whether the site vouched for it (an HMAC under the widget's
-- identity secret), the page they are on, where they came from, their browser, and when they
-- were first and last seen. Tokens move to a table of their own: one record may hold several
-- (one per browser), so a visitor identified on two devices is one record with all their chats.
-- Widgets gain that secret and the greeting their widget opens with (NULL = the default).
-- SQLite cannot drop the token column's UNIQUE constraint, so the table is rebuilt as in 0005:
-- foreign keys off meanwhile (a DROP would otherwise cascade to every conversation), in one
-- transaction.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE visitors_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    widget_id INTEGER NOT NULL REFERENCES widgets(id) ON DELETE CASCADE,
    name TEXT,
    email TEXT,
    external_id TEXT,
    verified INTEGER NOT NULL DEFAULT 0,
    current_url TEXT,
    referrer TEXT,
    user_agent TEXT,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
-- A visitor was last seen when they last wrote, as far as the old rows tell.
INSERT INTO visitors_rebuilt (id, widget_id, first_seen_at, last_seen_at)
    SELECT v.id, v.widget_id, v.created_at,
           COALESCE((SELECT MAX(m.created_at) FROM messages m
                     JOIN conversations c ON c.id = m.conversation_id
                     WHERE c.visitor_id = v.id AND m.author = 'visitor'), v.created_at)
    FROM visitors v;
CREATE TABLE visitor_tokens (
    token_hash TEXT PRIMARY KEY,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
INSERT INTO visitor_tokens (token_hash, visitor_id, created_at)
    SELECT token_hash, id, created_at FROM visitors;
DROP TABLE visitors;
ALTER TABLE visitors_rebuilt RENAME TO visitors;
CREATE UNIQUE INDEX visitors_external_id ON visitors(widget_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX visitor_tokens_visitor ON visitor_tokens(visitor_id);

-- 64 hex characters, as the server generates them for new widgets.
ALTER TABLE widgets ADD COLUMN identity_secret TEXT NOT NULL DEFAULT '';
UPDATE widgets SET identity_secret = lower(hex(randomblob(32)));
ALTER TABLE widgets ADD COLUMN greeting TEXT;
COMMIT;
PRAGMA foreign_keys = ON;
