/**
 * A fill as the analytics read it from the execution stream, and its validation. Decimals arrive
 * as strings (as in `hft.v1.Execution`) and are parsed once here, strictly: a malformed value is
 * refused, never coerced.
 */
import { DecimalError } from "@hft/service-kit";
import { Decimal } from "./decimal.js";

export type Side = "buy" | "sell";
export type Liquidity = "maker" | "taker";

/** One execution of one account's order, as the stream carries it. */
export interface Fill {
  /** The engine shard that sequenced the trade: engine sequences are per shard. */
  readonly shard: string;
  /**
   * The engine sequence of the command that produced the trade. One command can fill an order
   * against several resting orders, and both sides of a trade carry it, so several fills share a
   * sequence.
   */
  readonly sequence: bigint;
  /** The engine's trade id; with `liquidity` it tells apart the fills of one sequence. */
  readonly tradeId: string;
  readonly liquidity: Liquidity;
  readonly account: string;
  readonly symbol: string;
  readonly side: Side;
  /** Trade price, positive. */
  readonly price: string;
  /** Quantity filled, positive. */
  readonly quantity: string;
  /** What the fill cost; "0" for none, negative for a rebate. */
  readonly fee: string;
  readonly executedAt: Date;
}

/** A validated {@link Fill} with its decimals parsed. */
export interface ParsedFill extends Omit<Fill, "price" | "quantity" | "fee"> {
  readonly price: Decimal;
  readonly quantity: Decimal;
  readonly fee: Decimal;
}

export type FillErrorCode = "FILL_MALFORMED" | "FILL_NOT_POSITIVE";

/** A refused fill, naming the field and what was expected. */
export class FillError extends Error {
  override readonly name = "FillError";
  constructor(
    readonly code: FillErrorCode,
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const tradeIdPattern = /^[1-9]\d{0,19}$/;

/**
 * Validates a fill and parses its decimals. Throws a {@link FillError} naming the field: a
 * malformed decimal (`price "1e3" is not a decimal number like "101.25"`), a price or quantity
 * not above zero, a sequence below 1, a trade id that is not a positive integer, an empty shard,
 * account or symbol, an unknown side or liquidity, or an invalid date.
 */
export function parseFill(fill: Fill): ParsedFill {
  if (typeof fill.sequence !== "bigint" || fill.sequence < 1n) {
    throw new FillError("FILL_NOT_POSITIVE", "sequence", `sequence must be at least 1, got ${String(fill.sequence)}`);
  }
  requireText(fill.shard, "shard");
  if (typeof fill.tradeId !== "string" || !tradeIdPattern.test(fill.tradeId)) {
    throw new FillError("FILL_MALFORMED", "tradeId", `tradeId must be a positive integer like "42", got "${String(fill.tradeId)}"`);
  }
  if (fill.liquidity !== "maker" && fill.liquidity !== "taker") {
    throw new FillError("FILL_MALFORMED", "liquidity", `liquidity must be "maker" or "taker", got "${String(fill.liquidity)}"`);
  }
  requireText(fill.account, "account");
  requireText(fill.symbol, "symbol");
  if (fill.side !== "buy" && fill.side !== "sell") {
    throw new FillError("FILL_MALFORMED", "side", `side must be "buy" or "sell", got "${String(fill.side)}"`);
  }
  if (!(fill.executedAt instanceof Date) || Number.isNaN(fill.executedAt.getTime())) {
    throw new FillError("FILL_MALFORMED", "executedAt", "executedAt must be a valid time");
  }
  const price = parseDecimal(fill.price, "price");
  const quantity = parseDecimal(fill.quantity, "quantity");
  if (price.sign() <= 0) throw new FillError("FILL_NOT_POSITIVE", "price", `price "${fill.price}" must be greater than zero`);
  if (quantity.sign() <= 0) throw new FillError("FILL_NOT_POSITIVE", "quantity", `quantity "${fill.quantity}" must be greater than zero`);
  const fee = parseDecimal(fill.fee, "fee");
  return { ...fill, price, quantity, fee };
}

/**
 * What tells one fill apart from every other: both sides of a trade share the shard, sequence
 * and trade id, and differ in liquidity (a self-trade has the same account on both sides).
 */
export function fillKey(fill: Pick<Fill, "shard" | "sequence" | "tradeId" | "liquidity">): string {
  return `${fill.shard}/${fill.sequence}/${fill.tradeId}/${fill.liquidity}`;
}

function parseDecimal(value: string, field: string): Decimal {
  try {
    return Decimal.parse(value, field);
  } catch (error) {
    if (error instanceof DecimalError) throw new FillError("FILL_MALFORMED", field, error.message, { cause: error });
    throw error;
  }
}

function requireText(value: string, field: string): void {
  if (typeof value !== "string" || value.length === 0) {
    throw new FillError("FILL_MALFORMED", field, `${field} must be a non-empty string`);
  }
}
