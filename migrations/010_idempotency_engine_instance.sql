-- A PlaceOrder sent to an engine that went away before acknowledging it leaves its claim with
-- no answer. The claim records which engine process it went to: once another process answers
-- for the shard (the engine restarted), the earlier one can sequence nothing more, so a retry may
-- take the claim over as soon as the record has caught up and shows no order for it, instead of
-- waiting out the stale-claim delay.
ALTER TABLE idempotency_keys ADD COLUMN engine_instance bigint;
