/**
 * The order form's fields, checked against the instrument's trading rules before anything is sent:
 * price on the tick and inside the band, quantity on the lot and between the minimum and maximum.
 * The arithmetic is the order service's own (exact decimals, never floating point), so what passes
 * here is refused by the platform only for reasons the form cannot know: risk limits, a halt, the
 * book.
 */
import { DecimalError, toUnits } from "@hft/service-kit/decimal";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Instrument, OrderType, type PlaceOrderRequestSchema, Side, TimeInForce, TradingStatus } from "@hft/sdk/web";

export interface OrderTicket {
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly price: string;
  readonly stopPrice: string;
  readonly quantity: string;
}

export type TicketField = keyof OrderTicket;
export type TicketProblems = Partial<Record<TicketField, string>>;

export const needsPrice = (type: OrderType): boolean => type === OrderType.LIMIT || type === OrderType.STOP_LIMIT;
export const needsStopPrice = (type: OrderType): boolean => type === OrderType.STOP || type === OrderType.STOP_LIMIT;

/** The time-in-force values the engine takes with each type: a market order never rests. */
export function timesInForceFor(type: OrderType): TimeInForce[] {
  return type === OrderType.MARKET ? [TimeInForce.IOC, TimeInForce.FOK] : [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY];
}

/** What is wrong with each field of `ticket` for `instrument`; empty when it can be sent. */
export function checkTicket(ticket: OrderTicket, instrument: Instrument | undefined): TicketProblems {
  const problems: TicketProblems = {};
  if (!instrument) {
    problems.symbol = ticket.symbol === "" ? "Choose a symbol" : `${ticket.symbol} is not a listed instrument`;
    return problems;
  }
  if (instrument.tradingStatus !== TradingStatus.OPEN) {
    problems.symbol = `${instrument.symbol} is ${instrument.tradingStatus === TradingStatus.HALTED ? "halted" : "closed"}: it takes no orders now`;
  }
  if (ticket.side !== Side.BUY && ticket.side !== Side.SELL) problems.side = "Choose buy or sell";
  if (!timesInForceFor(ticket.type).includes(ticket.timeInForce)) problems.timeInForce = "A market order is immediate or cancel, or fill or kill";
  if (needsPrice(ticket.type)) {
    const problem = priceProblem(ticket.price, instrument, "Price");
    if (problem) problems.price = problem;
  }
  if (needsStopPrice(ticket.type)) {
    const problem = priceProblem(ticket.stopPrice, instrument, "Stop price");
    if (problem) problems.stopPrice = problem;
  }
  const quantity = quantityProblem(ticket.quantity, instrument);
  if (quantity) problems.quantity = quantity;
  return problems;
}

function priceProblem(text: string, instrument: Instrument, field: string): string | undefined {
  if (text.trim() === "") return `${field} is required for this order type`;
  const ticks = unitsOf(text.trim(), instrument.tickSize, field);
  if (typeof ticks === "string") return ticks;
  const low = instrument.priceBandLow === "" ? undefined : toUnits(instrument.priceBandLow, instrument.tickSize, "band", { allowZero: true });
  const high = instrument.priceBandHigh === "" ? undefined : toUnits(instrument.priceBandHigh, instrument.tickSize, "band", { allowZero: true });
  if ((low !== undefined && ticks < low) || (high !== undefined && ticks > high)) {
    return `${field} must be between ${instrument.priceBandLow} and ${instrument.priceBandHigh}`;
  }
  return undefined;
}

function quantityProblem(text: string, instrument: Instrument): string | undefined {
  if (text.trim() === "") return "Quantity is required";
  const lots = unitsOf(text.trim(), instrument.lotSize, "Quantity");
  if (typeof lots === "string") return lots;
  if (instrument.minQuantity !== "" && lots < toUnits(instrument.minQuantity, instrument.lotSize, "minimum")) {
    return `Quantity must be at least ${instrument.minQuantity}`;
  }
  if (instrument.maxQuantity !== "" && lots > toUnits(instrument.maxQuantity, instrument.lotSize, "maximum")) {
    return `Quantity must be at most ${instrument.maxQuantity}`;
  }
  return undefined;
}

/** The value in whole units, or the message saying why it is not a positive multiple of `unit`. */
function unitsOf(text: string, unit: string, field: string): bigint | string {
  try {
    return toUnits(text, unit, field);
  } catch (error) {
    if (!(error instanceof DecimalError)) throw error;
    switch (error.code) {
      case "DECIMAL_MALFORMED":
        return `${field} must be a number like ${unit}`;
      case "DECIMAL_NOT_MULTIPLE":
        return `${field} must be a multiple of ${unit} (the ${field === "Quantity" ? "lot" : "tick"} size)`;
      case "DECIMAL_NOT_POSITIVE":
        return `${field} must be greater than zero`;
      case "DECIMAL_OUT_OF_RANGE":
        return `${field} is too large`;
    }
  }
}

/** The PlaceOrder request of a checked ticket, under a fresh client order id. */
export function placeOrderRequest(ticket: OrderTicket, clientOrderId: string): MessageInitShape<typeof PlaceOrderRequestSchema> {
  return {
    clientOrderId,
    symbol: ticket.symbol,
    side: ticket.side,
    type: ticket.type,
    timeInForce: ticket.timeInForce,
    price: needsPrice(ticket.type) ? ticket.price.trim() : "",
    stopPrice: needsStopPrice(ticket.type) ? ticket.stopPrice.trim() : "",
    quantity: ticket.quantity.trim(),
  };
}

/** A client order id unique per browser tab and order: the idempotency key of a retry. */
export function newClientOrderId(): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  return `web-${Date.now().toString(36)}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
