-- Each operator's load (open chats assigned to them), kept by the database itself as
-- conversations change hands or status, so routing reads it per operator instead of counting
-- the workspace's open chats on every decision.
ALTER TABLE operators ADD COLUMN open_load BIGINT NOT NULL DEFAULT 0;

UPDATE operators SET open_load = (
    SELECT COUNT(*) FROM conversations c
    WHERE c.assignee_id = operators.id AND c.status IN ('active', 'handed_off'));

CREATE FUNCTION conversations_count_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.assignee_id IS NOT NULL
       AND OLD.status IN ('active', 'handed_off') THEN
        UPDATE operators SET open_load = open_load - 1 WHERE id = OLD.assignee_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.assignee_id IS NOT NULL
       AND NEW.status IN ('active', 'handed_off') THEN
        UPDATE operators SET open_load = open_load + 1 WHERE id = NEW.assignee_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER conversations_load_insert_delete AFTER INSERT OR DELETE ON conversations
FOR EACH ROW EXECUTE FUNCTION conversations_count_load();

CREATE TRIGGER conversations_load_update AFTER UPDATE OF assignee_id, status ON conversations
FOR EACH ROW
WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION conversations_count_load();
