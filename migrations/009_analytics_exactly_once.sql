-- What the analytics service needs beside 003's tables to count every fill exactly once and to
-- report when its figures are as of.

-- Every fill counted, by what identifies it: engine sequences are per shard, and both sides of a
-- trade (maker and taker) carry the same sequence and trade id. A producer duplicate (the order
-- service republishes a batch after a crash) finds its row here and is skipped. Written in the
-- same transaction as the figures and the offsets.
CREATE TABLE analytics_applied_fills (
  shard        text NOT NULL,
  sequence     bigint NOT NULL,
  trade_id     bigint NOT NULL,
  liquidity    text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
  account_id   bigint NOT NULL,
  -- Where the fill was read, for audits.
  partition    integer NOT NULL,
  kafka_offset bigint NOT NULL,
  PRIMARY KEY (shard, sequence, trade_id, liquidity)
);

-- Messages that cannot be a fill (undecodable, a header missing, an unknown account or symbol, a
-- malformed decimal): recorded with the reason and skipped, so one bad message never stalls a
-- partition and an operator can see what was left out.
CREATE TABLE analytics_rejected_messages (
  group_id      text NOT NULL,
  topic         text NOT NULL,
  partition     integer NOT NULL,
  kafka_offset  bigint NOT NULL,
  code          text NOT NULL,
  reason        text NOT NULL,
  rejected_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition, kafka_offset)
);

-- The highest engine sequence applied from the partition per shard ({"shard": "123"}); a
-- partition carries the fills of every shard for its accounts. last_sequence keeps the highest
-- over all shards.
ALTER TABLE analytics_consumer_offsets ADD COLUMN shard_sequences jsonb NOT NULL DEFAULT '{}';

-- When the latest fill counted in the row happened: the "as of" of the figures.
ALTER TABLE analytics_symbol_stats ADD COLUMN last_fill_at timestamptz;

-- With the sequence, orders the trades of one sequence (an order sweeping several levels), so the
-- mark is the same whichever side of the trade a consumer reads first.
ALTER TABLE analytics_last_prices ADD COLUMN trade_id bigint NOT NULL DEFAULT 0;
