-- An owed AI turn (an active chat whose last message is the visitor's) that its node did not
-- finish is taken over by another node's sweep; this lease keeps two nodes from taking it at
-- once.
ALTER TABLE conversations ADD COLUMN ai_turn_leased_until BIGINT;
