-- Who the visitor is (SPEC 11): the visitor record holds their name and email, the embedding
-- site's user id for them and whether the site vouched for it (an HMAC under the widget's
-- identity secret), the page they are on, where they came from, their browser, and when they
-- were first and last seen. Tokens move to a table of their own: one record may hold several
-- (one per browser), so a visitor identified on two devices is one record with all their chats.
-- Widgets gain that secret and the greeting their widget opens with (NULL = the default).
ALTER TABLE visitors RENAME COLUMN created_at TO first_seen_at;
ALTER TABLE visitors
    ADD COLUMN name TEXT,
    ADD COLUMN email TEXT,
    ADD COLUMN external_id TEXT,
    ADD COLUMN verified BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN current_url TEXT,
    ADD COLUMN referrer TEXT,
    ADD COLUMN user_agent TEXT,
    ADD COLUMN last_seen_at BIGINT;
-- A visitor was last seen when they last wrote, as far as the old rows tell.
UPDATE visitors v SET last_seen_at = COALESCE(
    (SELECT MAX(m.created_at) FROM messages m
     JOIN conversations c ON c.id = m.conversation_id
     WHERE c.visitor_id = v.id AND m.author = 'visitor'), v.first_seen_at);
ALTER TABLE visitors ALTER COLUMN last_seen_at SET NOT NULL;
CREATE TABLE visitor_tokens (
    token_hash TEXT PRIMARY KEY,
    visitor_id BIGINT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
INSERT INTO visitor_tokens (token_hash, visitor_id, created_at)
    SELECT token_hash, id, first_seen_at FROM visitors;
ALTER TABLE visitors DROP COLUMN token_hash;
CREATE UNIQUE INDEX visitors_external_id ON visitors(widget_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX visitor_tokens_visitor ON visitor_tokens(visitor_id);

-- 64 hex characters, as the server generates them for new widgets (gen_random_uuid draws
-- from the operating system's random source).
ALTER TABLE widgets ADD COLUMN identity_secret TEXT;
UPDATE widgets SET identity_secret = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
ALTER TABLE widgets ALTER COLUMN identity_secret SET NOT NULL;
ALTER TABLE widgets ADD COLUMN greeting TEXT;
