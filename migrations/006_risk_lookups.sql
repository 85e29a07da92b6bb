-- The pre-trade risk check reads, per order, the instrument's last trade price: newest execution
-- of the instrument first.
CREATE INDEX executions_instrument_sequence ON executions (instrument_id, sequence DESC);
