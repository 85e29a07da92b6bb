-- Order-update streams read changes by engine sequence: an account's history for a stream that
-- resumes from a sequence, and a shard's range when a replica missed a live batch.
CREATE INDEX orders_account_sequence ON orders (account_id, last_sequence);
CREATE INDEX orders_instrument_sequence ON orders (instrument_id, last_sequence);
CREATE INDEX executions_account_sequence ON executions (account_id, sequence);
