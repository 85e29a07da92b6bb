-- Analytics figures built from hft.executions.v1, and the consumer offsets committed in the same
-- transaction as the figures, so a crash never counts a fill twice.

CREATE TABLE analytics_consumer_offsets (
  group_id        text NOT NULL,
  topic           text NOT NULL,
  partition       integer NOT NULL CHECK (partition >= 0),
  -- The next offset to consume.
  next_offset     bigint NOT NULL CHECK (next_offset >= 0),
  -- Highest engine sequence applied from this partition, to recognise producer duplicates.
  last_sequence   bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);

-- Open FIFO lots per account and instrument: positive quantity long, negative short.
CREATE TABLE analytics_open_lots (
  account_id     bigint NOT NULL,
  instrument_id  integer NOT NULL,
  lot_seq        bigint NOT NULL,
  quantity       numeric NOT NULL CHECK (quantity <> 0),
  price          numeric NOT NULL CHECK (price > 0),
  opened_at      timestamptz NOT NULL,
  PRIMARY KEY (account_id, instrument_id, lot_seq)
);

CREATE TABLE analytics_symbol_stats (
  account_id       bigint NOT NULL,
  instrument_id    integer NOT NULL,
  realized_pnl     numeric NOT NULL DEFAULT 0,
  fees             numeric NOT NULL DEFAULT 0,
  trade_count      bigint NOT NULL DEFAULT 0,
  winning_trades   bigint NOT NULL DEFAULT 0,
  losing_trades    bigint NOT NULL DEFAULT 0,
  total_win        numeric NOT NULL DEFAULT 0,
  total_loss       numeric NOT NULL DEFAULT 0,
  largest_win      numeric NOT NULL DEFAULT 0,
  largest_loss     numeric NOT NULL DEFAULT 0,
  volume           numeric NOT NULL DEFAULT 0,
  notional         numeric NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, instrument_id)
);

CREATE TABLE analytics_daily_pnl (
  account_id     bigint NOT NULL,
  instrument_id  integer NOT NULL,
  -- UTC calendar day.
  day            date NOT NULL,
  realized_pnl   numeric NOT NULL DEFAULT 0,
  fees           numeric NOT NULL DEFAULT 0,
  trade_count    bigint NOT NULL DEFAULT 0,
  volume         numeric NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, instrument_id)
);

-- Last trade price per instrument, the mark for unrealized P&L.
CREATE TABLE analytics_last_prices (
  instrument_id  integer PRIMARY KEY,
  price          numeric NOT NULL CHECK (price > 0),
  sequence       bigint NOT NULL,
  traded_at      timestamptz NOT NULL
);
