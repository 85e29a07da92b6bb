-- Applies one fill to an account's position in numeric arithmetic, so average prices and
-- realized P&L are exact to the database's precision and never pass through floating point.
-- Average cost: buying into a long (or selling into a short) moves the average; trading against
-- the position realizes (price - average) on the closed quantity; crossing through zero opens the
-- rest at the fill price.
CREATE FUNCTION apply_position_fill(
  p_account_id bigint,
  p_instrument_id integer,
  p_side text,
  p_price numeric,
  p_quantity numeric,
  p_at timestamptz,
  p_sequence bigint
) RETURNS positions
LANGUAGE plpgsql AS $$
DECLARE
  p positions;
  signed numeric := CASE p_side WHEN 'buy' THEN p_quantity ELSE -p_quantity END;
  closing numeric;
BEGIN
  INSERT INTO positions (account_id, instrument_id, updated_at, last_sequence)
  VALUES (p_account_id, p_instrument_id, p_at, p_sequence)
  ON CONFLICT (account_id, instrument_id) DO NOTHING;
  SELECT * INTO p FROM positions WHERE account_id = p_account_id AND instrument_id = p_instrument_id FOR UPDATE;

  IF p.net_quantity = 0 OR sign(p.net_quantity) = sign(signed) THEN
    p.average_price := (abs(p.net_quantity) * p.average_price + p_quantity * p_price) / (abs(p.net_quantity) + p_quantity);
  ELSE
    closing := least(abs(p.net_quantity), p_quantity);
    p.realized_pnl := p.realized_pnl + closing * (p_price - p.average_price) * sign(p.net_quantity);
    IF p_quantity > abs(p.net_quantity) THEN
      p.average_price := p_price;
    ELSIF p_quantity = abs(p.net_quantity) THEN
      p.average_price := 0;
    END IF;
  END IF;
  p.net_quantity := p.net_quantity + signed;
  IF p_side = 'buy' THEN
    p.bought_quantity := p.bought_quantity + p_quantity;
  ELSE
    p.sold_quantity := p.sold_quantity + p_quantity;
  END IF;

  UPDATE positions
     SET net_quantity = p.net_quantity, average_price = p.average_price, realized_pnl = p.realized_pnl,
         bought_quantity = p.bought_quantity, sold_quantity = p.sold_quantity,
         updated_at = p_at, last_sequence = p_sequence
   WHERE account_id = p_account_id AND instrument_id = p_instrument_id
  RETURNING * INTO p;
  RETURN p;
END;
$$;
