-- One email may belong to an operator in each of several workspaces: unique per workspace,
-- not per server, so that nothing about one workspace shows through another's answers.
ALTER TABLE operators DROP CONSTRAINT operators_email_key;
ALTER TABLE operators ADD CONSTRAINT operators_workspace_email UNIQUE (workspace_id, email);
CREATE INDEX operators_email ON operators(email);
