-- The projection applies a whole batch's fills in one call: fills change a position in order
-- (average price and realized P&L depend on what came before), so they are applied one by one,
-- in array order, by apply_position_fill.
CREATE FUNCTION apply_position_fills(
  p_account_ids bigint[],
  p_instrument_ids integer[],
  p_sides text[],
  p_prices numeric[],
  p_quantities numeric[],
  p_ats timestamptz[],
  p_sequences bigint[]
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_account_ids, 1), 0) LOOP
    PERFORM apply_position_fill(p_account_ids[i], p_instrument_ids[i], p_sides[i], p_prices[i], p_quantities[i], p_ats[i], p_sequences[i]);
  END LOOP;
END;
$$;
