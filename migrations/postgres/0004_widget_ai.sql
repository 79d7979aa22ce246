-- The built-in AI responder's knowledge base (question/answer articles per widget), and the
-- origins a widget may be embedded on (newline-separated; empty = any).

CREATE TABLE kb_articles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    widget_id BIGINT NOT NULL REFERENCES widgets(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX kb_articles_widget ON kb_articles(widget_id, id);

ALTER TABLE widgets ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
