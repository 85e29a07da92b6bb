-- Accounts, instruments and per-account risk limits: the reference data every order is checked
-- against. Money and quantities are numeric, never floating point.

CREATE TABLE accounts (
  account_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The account name used in tokens (`sub`) and in the public API.
  name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instruments (
  -- The engine's numeric id of the instrument.
  instrument_id    integer PRIMARY KEY CHECK (instrument_id > 0),
  symbol           text NOT NULL UNIQUE CHECK (symbol ~ '^[A-Z0-9][A-Z0-9._-]{0,15}$'),
  tick_size        numeric NOT NULL CHECK (tick_size > 0),
  lot_size         numeric NOT NULL CHECK (lot_size > 0),
  min_quantity     numeric NOT NULL CHECK (min_quantity > 0),
  max_quantity     numeric NOT NULL CHECK (max_quantity >= min_quantity),
  price_band_low   numeric NOT NULL CHECK (price_band_low > 0),
  price_band_high  numeric NOT NULL CHECK (price_band_high > price_band_low),
  -- The engine shard that owns the instrument's book.
  shard            text NOT NULL DEFAULT 'default',
  trading_status   text NOT NULL DEFAULT 'open' CHECK (trading_status IN ('open', 'halted', 'closed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (mod(min_quantity, lot_size) = 0 AND mod(max_quantity, lot_size) = 0),
  CHECK (mod(price_band_low, tick_size) = 0 AND mod(price_band_high, tick_size) = 0)
);

CREATE TABLE risk_limits (
  account_id             bigint PRIMARY KEY REFERENCES accounts (account_id),
  max_order_quantity     numeric CHECK (max_order_quantity > 0),
  max_order_notional     numeric CHECK (max_order_notional > 0),
  -- Absolute net position per instrument, in the instrument's quantity.
  max_position           numeric CHECK (max_position > 0),
  -- Largest distance of a limit price from the last trade, in basis points.
  price_collar_bps       integer CHECK (price_collar_bps BETWEEN 1 AND 100000),
  max_orders_per_second  integer CHECK (max_orders_per_second > 0),
  -- While true every new order of the account is refused.
  kill_switch            boolean NOT NULL DEFAULT false,
  updated_at             timestamptz NOT NULL DEFAULT now()
);
