// The order ticket: every field labelled, checked against the instrument's tick, lot, band and
// quantity limits as it is typed, and sent only when nothing is wrong; then the platform's answer.
import { type FormEvent, useState } from "react";
import { type Instrument, type Order, OrderStatus, OrderType, Side, TimeInForce } from "@hft/sdk/web";
import { orderTypeLabels, sideLabels, statusLabel, timeInForceLabels } from "./labels.js";
import { type OrderTicket, type TicketField, checkTicket, needsPrice, needsStopPrice, newClientOrderId, placeOrderRequest, timesInForceFor } from "./order-ticket.js";
import { type ProblemReport, describeProblem } from "./platform-error.js";

export interface OrderFormProps {
  readonly instruments: readonly Instrument[];
  readonly symbol: string;
  onSymbolChange(symbol: string): void;
  place(request: ReturnType<typeof placeOrderRequest>): Promise<Order>;
  /** Fresh client order ids; tests pass a fixed one. */
  readonly newId?: () => string;
}

type Answer = { readonly kind: "order"; readonly order: Order } | { readonly kind: "problem"; readonly problem: ProblemReport };

export function OrderForm({ instruments, symbol, onSymbolChange, place, newId = newClientOrderId }: OrderFormProps) {
  const [ticket, setTicket] = useState<Omit<OrderTicket, "symbol">>({ side: Side.BUY, type: OrderType.LIMIT, timeInForce: TimeInForce.GTC, price: "", stopPrice: "", quantity: "" });
  const [touched, setTouched] = useState<ReadonlySet<TicketField>>(new Set());
  const [sending, setSending] = useState(false);
  const [answer, setAnswer] = useState<Answer | undefined>();
  const instrument = instruments.find((i) => i.symbol === symbol);
  const full: OrderTicket = { ...ticket, symbol };
  const problems = checkTicket(full, instrument);
  const shown = (field: TicketField) => (touched.has(field) ? problems[field] : undefined);

  const change = <K extends keyof typeof ticket>(field: K, value: (typeof ticket)[K]) => {
    setTicket((current) => {
      const next = { ...current, [field]: value };
      // A market order cannot rest: move a resting time in force to IOC.
      if (field === "type" && !timesInForceFor(next.type).includes(next.timeInForce)) next.timeInForce = timesInForceFor(next.type)[0]!;
      return next;
    });
    setTouched((current) => new Set(current).add(field));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(new Set(["symbol", "side", "type", "timeInForce", "price", "stopPrice", "quantity"]));
    if (Object.keys(problems).length > 0) return;
    setSending(true);
    setAnswer(undefined);
    try {
      setAnswer({ kind: "order", order: await place(placeOrderRequest(full, newId())) });
    } catch (error) {
      setAnswer({ kind: "problem", problem: describeProblem(error) });
    } finally {
      setSending(false);
    }
  }

  return (
    <form className="panel order-form" aria-labelledby="order-form-title" onSubmit={submit} noValidate>
      <h2 id="order-form-title">New order</h2>
      <label htmlFor="order-symbol">Symbol</label>
      <select id="order-symbol" value={symbol} onChange={(e) => onSymbolChange(e.target.value)} aria-invalid={shown("symbol") !== undefined} aria-describedby="order-symbol-rules order-symbol-error">
        {instrument === undefined && <option value="">{instruments.length === 0 ? "Loading instruments…" : "Choose a symbol"}</option>}
        {instruments.map((i) => (
          <option key={i.symbol} value={i.symbol}>
            {i.symbol}
          </option>
        ))}
      </select>
      {instrument && (
        <p id="order-symbol-rules" className="hint">
          Tick {instrument.tickSize}, lot {instrument.lotSize}, quantity {instrument.minQuantity}–{instrument.maxQuantity}
          {instrument.priceBandLow !== "" && `, price ${instrument.priceBandLow}–${instrument.priceBandHigh}`}
        </p>
      )}
      <FieldError id="order-symbol-error" text={shown("symbol")} />

      <fieldset>
        <legend>Side</legend>
        {([Side.BUY, Side.SELL] as const).map((side) => (
          <label key={side} className="radio">
            <input type="radio" name="side" value={side} checked={ticket.side === side} onChange={() => change("side", side)} />
            {sideLabels[side]}
          </label>
        ))}
      </fieldset>

      <label htmlFor="order-type">Type</label>
      <select id="order-type" value={ticket.type} onChange={(e) => change("type", Number(e.target.value) as OrderType)}>
        {Object.entries(orderTypeLabels).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>

      <label htmlFor="order-tif">Time in force</label>
      <select id="order-tif" value={ticket.timeInForce} onChange={(e) => change("timeInForce", Number(e.target.value) as TimeInForce)} aria-describedby="order-tif-error">
        {timesInForceFor(ticket.type).map((tif) => (
          <option key={tif} value={tif}>
            {timeInForceLabels[tif as keyof typeof timeInForceLabels]}
          </option>
        ))}
      </select>
      <FieldError id="order-tif-error" text={shown("timeInForce")} />

      {needsPrice(ticket.type) && (
        <DecimalInput id="order-price" label="Price" value={ticket.price} onChange={(v) => change("price", v)} error={shown("price")} />
      )}
      {needsStopPrice(ticket.type) && (
        <DecimalInput id="order-stop-price" label="Stop price" value={ticket.stopPrice} onChange={(v) => change("stopPrice", v)} error={shown("stopPrice")} />
      )}
      <DecimalInput id="order-quantity" label="Quantity" value={ticket.quantity} onChange={(v) => change("quantity", v)} error={shown("quantity")} />

      <button type="submit" disabled={sending}>
        {sending ? "Sending…" : `${sideLabels[ticket.side as Side.BUY | Side.SELL] ?? "Send"} ${symbol}`}
      </button>
      <div role="status" aria-live="polite" className="answer">
        {answer && <AnswerText answer={answer} />}
      </div>
    </form>
  );
}

function DecimalInput(props: { id: string; label: string; value: string; onChange(value: string): void; error: string | undefined }) {
  return (
    <>
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        inputMode="decimal"
        autoComplete="off"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error !== undefined}
        aria-describedby={`${props.id}-error`}
      />
      <FieldError id={`${props.id}-error`} text={props.error} />
    </>
  );
}

function FieldError({ id, text }: { id: string; text: string | undefined }) {
  return (
    <p id={id} className="field-error">
      {text}
    </p>
  );
}

function AnswerText({ answer }: { answer: Answer }) {
  if (answer.kind === "problem") {
    return (
      <p className="problem">
        <strong>{answer.problem.title}:</strong> {answer.problem.detail}
        {answer.problem.reason && <code> {answer.problem.reason}</code>}
      </p>
    );
  }
  const { order } = answer;
  if (order.status === OrderStatus.REJECTED) {
    return (
      <p className="problem">
        <strong>Rejected by the engine:</strong> {order.rejectMessage || "no reason given"} (order {order.orderId})
      </p>
    );
  }
  const filled = order.filledQuantity !== "" && !/^0*(\.0*)?$/.test(order.filledQuantity);
  return (
    <p className="accepted">
      <strong>{statusLabel(order.status)}:</strong> order {order.orderId}
      {filled && ` filled ${order.filledQuantity} of ${order.quantity} at ${order.averageFillPrice}`}
      {!filled && ` for ${order.quantity}`}
    </p>
  );
}
