-- Each operator's load (open chats assigned to them), kept by the database itself as
-- conversations change hands or status, so routing reads it per operator instead of counting
-- the workspace's open chats on every decision.
ALTER TABLE operators ADD COLUMN open_load INTEGER NOT NULL DEFAULT 0;

UPDATE operators SET open_load = (
    SELECT COUNT(*) FROM conversations c
    WHERE c.assignee_id = operators.id AND c.status IN ('active', 'handed_off'));

CREATE TRIGGER conversations_load_insert AFTER INSERT ON conversations
WHEN NEW.assignee_id IS NOT NULL AND NEW.status IN ('active', 'handed_off')
BEGIN
    UPDATE operators SET open_load = open_load + 1 WHERE id = NEW.assignee_id;
END;

CREATE TRIGGER conversations_load_delete AFTER DELETE ON conversations
WHEN OLD.assignee_id IS NOT NULL AND OLD.status IN ('active', 'handed_off')
BEGIN
    UPDATE operators SET open_load = open_load - 1 WHERE id = OLD.assignee_id;
END;

CREATE TRIGGER conversations_load_update AFTER UPDATE OF assignee_id, status ON conversations
WHEN OLD.assignee_id IS NOT NEW.assignee_id OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE operators SET open_load = open_load - 1
    WHERE id = OLD.assignee_id AND OLD.status IN ('active', 'handed_off');
    UPDATE operators SET open_load = open_load + 1
    WHERE id = NEW.assignee_id AND NEW.status IN ('active', 'handed_off');
END;
