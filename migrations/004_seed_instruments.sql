-- The instruments the platform lists out of the box. Operators add more with new migrations or
-- by inserting rows; existing definitions are never overwritten here.
INSERT INTO instruments (instrument_id, symbol, tick_size, lot_size, min_quantity, max_quantity, price_band_low, price_band_high)
VALUES
  (1, 'BTC-USD', 0.01, 0.0001, 0.0001, 1000,    0.01, 10000000),
  (2, 'ETH-USD', 0.01, 0.001,  0.001,  10000,   0.01, 1000000),
  (3, 'AAPL',    0.01, 1,      1,      1000000, 0.01, 100000),
  (4, 'MSFT',    0.01, 1,      1,      1000000, 0.01, 100000)
ON CONFLICT (instrument_id) DO NOTHING;
