/**
 * The market maker's pure quoting rules, in ticks and lots: where the fair price is, where the bid
 * and the ask go around it, how inventory skews them, and when a resting quote is far enough from
 * its target to be worth an action.
 */

/** The book without the market maker's own quotes, in ticks; absent where there is nothing. */
export interface MarketView {
  readonly bestBid?: bigint;
  readonly bestAsk?: bigint;
  readonly lastTrade?: bigint;
  /** The configured price to quote around while nothing else gives one. */
  readonly reference?: bigint;
}

export interface QuotingParams {
  /** Distance from the bid to the ask, in ticks (at least 2 keeps both off the fair price). */
  readonly spreadTicks: bigint;
  /** Size of each quote, in lots. */
  readonly quoteLots: bigint;
  /** Largest absolute position the quotes may lead to, in lots. */
  readonly maxPositionLots: bigint;
}

export interface TargetQuotes {
  /** Bid price in ticks; absent when the bid side must not quote. */
  readonly bid?: bigint;
  readonly ask?: bigint;
}

/**
 * The price to quote around: the mid of the others' best bid and offer (rounded down to a tick),
 * else the one side there is, else the last trade, else the reference; undefined when there is
 * none of them.
 */
export function fairPrice(view: MarketView): bigint | undefined {
  if (view.bestBid !== undefined && view.bestAsk !== undefined) return (view.bestBid + view.bestAsk) / 2n;
  return view.bestBid ?? view.bestAsk ?? view.lastTrade ?? view.reference;
}

/**
 * Bid and ask `spreadTicks` apart around `fair`, both shifted against the inventory: by up to half
 * the spread down when long (so the ask is likelier to trade) and up when short. A side whose fill
 * would take the position beyond max position is not quoted, nor a bid below one tick.
 */
export function targetQuotes(fair: bigint, positionLots: bigint, params: QuotingParams): TargetQuotes {
  const half = params.spreadTicks / 2n;
  const skew = params.maxPositionLots > 0n ? -(positionLots * half) / params.maxPositionLots : 0n;
  const bid = fair - half + skew;
  const ask = bid + params.spreadTicks;
  const bidAllowed = positionLots + params.quoteLots <= params.maxPositionLots && bid >= 1n;
  const askAllowed = positionLots - params.quoteLots >= -params.maxPositionLots;
  return { ...(bidAllowed ? { bid } : {}), ...(askAllowed ? { ask } : {}) };
}

/**
 * Whether a side needs an action: a quote to place, one to withdraw, or a resting price at least
 * `thresholdTicks` from its target. Smaller moves are left alone, so a jittery book does not burn
 * the action budget and queue priority.
 */
export function needsRequote(resting: bigint | undefined, target: bigint | undefined, thresholdTicks: bigint): boolean {
  if (resting === undefined || target === undefined) return resting !== target;
  const distance = resting > target ? resting - target : target - resting;
  return distance >= thresholdTicks;
}
