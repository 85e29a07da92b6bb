-- The order service's projection of engine events: orders, executions and positions, with the
-- last engine sequence applied per shard written in the same transaction.

CREATE TABLE orders (
  -- Assigned by the engine.
  order_id           bigint PRIMARY KEY,
  account_id         bigint NOT NULL REFERENCES accounts (account_id),
  client_order_id    text NOT NULL CHECK (length(client_order_id) BETWEEN 1 AND 40),
  instrument_id      integer NOT NULL REFERENCES instruments (instrument_id),
  side               text NOT NULL CHECK (side IN ('buy', 'sell')),
  order_type         text NOT NULL CHECK (order_type IN ('limit', 'market', 'stop', 'stop_limit')),
  time_in_force      text NOT NULL CHECK (time_in_force IN ('gtc', 'ioc', 'fok', 'day')),
  price              numeric CHECK (price > 0),
  stop_price         numeric CHECK (stop_price > 0),
  quantity           numeric NOT NULL CHECK (quantity > 0),
  display_quantity   numeric CHECK (display_quantity >= 0),
  filled_quantity    numeric NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
  -- Sum of price x quantity over fills, so the average fill price is exact.
  filled_notional    numeric NOT NULL DEFAULT 0 CHECK (filled_notional >= 0),
  status             text NOT NULL CHECK (status IN ('pending_trigger', 'new', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')),
  reject_reason      text,
  cancel_reason      text,
  post_only          boolean NOT NULL DEFAULT false,
  self_trade_prevention text NOT NULL DEFAULT 'none',
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  -- Engine sequence of the last event applied to this row.
  last_sequence      bigint NOT NULL,
  CHECK (filled_quantity <= quantity),
  UNIQUE (account_id, client_order_id)
);
-- ListOrders: an account's orders newest first, keyset-paginated on (created_at, order_id).
CREATE INDEX orders_account_created ON orders (account_id, created_at DESC, order_id DESC);
CREATE INDEX orders_account_instrument_created ON orders (account_id, instrument_id, created_at DESC, order_id DESC);
-- Open orders per account (cancel-all, open-order cache rebuild).
CREATE INDEX orders_open ON orders (account_id) WHERE status IN ('pending_trigger', 'new', 'partially_filled');

CREATE TABLE executions (
  trade_id        bigint NOT NULL,
  -- One row per side of a trade: the maker's and the taker's.
  liquidity       text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
  order_id        bigint NOT NULL REFERENCES orders (order_id),
  account_id      bigint NOT NULL REFERENCES accounts (account_id),
  instrument_id   integer NOT NULL REFERENCES instruments (instrument_id),
  side            text NOT NULL CHECK (side IN ('buy', 'sell')),
  price           numeric NOT NULL CHECK (price > 0),
  quantity        numeric NOT NULL CHECK (quantity > 0),
  fee             numeric NOT NULL DEFAULT 0,
  executed_at     timestamptz NOT NULL,
  sequence        bigint NOT NULL,
  PRIMARY KEY (trade_id, liquidity)
);
CREATE INDEX executions_account_time ON executions (account_id, executed_at DESC, trade_id DESC);
CREATE INDEX executions_order ON executions (order_id);

CREATE TABLE positions (
  account_id       bigint NOT NULL REFERENCES accounts (account_id),
  instrument_id    integer NOT NULL REFERENCES instruments (instrument_id),
  -- Signed: positive long, negative short.
  net_quantity     numeric NOT NULL DEFAULT 0,
  average_price    numeric NOT NULL DEFAULT 0 CHECK (average_price >= 0),
  realized_pnl     numeric NOT NULL DEFAULT 0,
  bought_quantity  numeric NOT NULL DEFAULT 0,
  sold_quantity    numeric NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL,
  last_sequence    bigint NOT NULL,
  PRIMARY KEY (account_id, instrument_id)
);

-- The last engine sequence whose events are in the tables above, per engine shard.
CREATE TABLE engine_checkpoints (
  shard          text PRIMARY KEY,
  last_sequence  bigint NOT NULL CHECK (last_sequence >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Idempotency of PlaceOrder on (account, client_order_id): a retry with the same request gets
-- the original answer; the same key with a different request is refused.
CREATE TABLE idempotency_keys (
  account_id       bigint NOT NULL REFERENCES accounts (account_id),
  client_order_id  text NOT NULL,
  request_hash     text NOT NULL,
  order_id         bigint,
  response         jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, client_order_id)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
