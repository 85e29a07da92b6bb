/**
 * What the pre-trade risk check reads from the projection for an (account, instrument): the
 * account's limits, its position, its open quantity on each side and the instrument's last
 * trade price. The reads of orders that arrive together go out as one statement, one row per
 * distinct pair that has limits; an account without a risk_limits row has no limits.
 */
import type pg from "pg";
import { createBatcher, type Batched } from "./batcher.js";
import type { OrderMetrics } from "./metrics.js";

export interface RiskInputsKey {
  readonly accountId: string;
  readonly instrumentId: number;
}

/** Decimals as text, as PostgreSQL's numeric gives them. */
export interface RiskInputsRow {
  readonly max_order_quantity: string | null;
  readonly max_order_notional: string | null;
  readonly max_position: string | null;
  readonly price_collar_bps: number | null;
  readonly max_orders_per_second: number | null;
  readonly kill_switch: boolean;
  readonly net_quantity: string | null;
  readonly open_buy: string;
  readonly open_sell: string;
  readonly last_price: string | null;
}

/** Reads risk inputs, batched; resolves with undefined for an account without limits. */
export function createRiskInputsReader(pool: pg.Pool, metrics: OrderMetrics): Batched<RiskInputsKey, RiskInputsRow | undefined> {
  return createBatcher({ run: (keys) => metrics.time("postgres", "read_risk_inputs", () => readRiskInputs(pool, keys)) });
}

async function readRiskInputs(pool: pg.Pool, keys: readonly RiskInputsKey[]): Promise<(RiskInputsRow | undefined)[]> {
  const keyOf = (accountId: string, instrumentId: number) => `${accountId}/${instrumentId}`;
  const distinct = [...new Map(keys.map((k) => [keyOf(k.accountId, k.instrumentId), k])).values()];
  const { rows } = await pool.query<RiskInputsRow & { account_id: string; instrument_id: number }>(
    `SELECT q.account_id::text, q.instrument_id,
            r.max_order_quantity::text, r.max_order_notional::text, r.max_position::text, r.price_collar_bps,
            r.max_orders_per_second, r.kill_switch,
            (SELECT p.net_quantity::text FROM positions p WHERE p.account_id = q.account_id AND p.instrument_id = q.instrument_id) AS net_quantity,
            open.buy::text AS open_buy, open.sell::text AS open_sell,
            (SELECT e.price::text FROM executions e WHERE e.instrument_id = q.instrument_id ORDER BY e.sequence DESC LIMIT 1) AS last_price
       FROM unnest($1::bigint[], $2::int[]) AS q(account_id, instrument_id)
       JOIN risk_limits r ON r.account_id = q.account_id
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(o.quantity - o.filled_quantity) FILTER (WHERE o.side = 'buy'), 0) AS buy,
                coalesce(sum(o.quantity - o.filled_quantity) FILTER (WHERE o.side = 'sell'), 0) AS sell
           FROM orders o
          WHERE o.account_id = q.account_id AND o.instrument_id = q.instrument_id AND o.status IN ('pending_trigger', 'new', 'partially_filled')
       ) AS open`,
    [distinct.map((k) => k.accountId), distinct.map((k) => k.instrumentId)],
  );
  const byKey = new Map(rows.map((row) => [keyOf(row.account_id, row.instrument_id), row]));
  return keys.map((k) => byKey.get(keyOf(k.accountId, k.instrumentId)));
}
