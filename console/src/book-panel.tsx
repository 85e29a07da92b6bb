// The watched symbol's depth (asks above, bids below, best in the middle) and its latest trades.
import type { PriceLevel } from "@hft/sdk/web";
import { sideLabel } from "./labels.js";
import type { BookView } from "./order-book.js";
import { clockTime } from "./time-format.js";

export function BookPanel({ book }: { book: BookView | undefined }) {
  if (!book) return <section className="panel book" aria-label="Order book" />;
  return (
    <section className="panel book" aria-labelledby="book-title">
      <h2 id="book-title">
        {book.symbol} book <span className="hint">last {book.lastTradePrice || "—"}</span>
      </h2>
      <table aria-label={`${book.symbol} depth`}>
        <thead>
          <tr>
            <th scope="col" className="number">Price</th>
            <th scope="col" className="number">Quantity</th>
            <th scope="col" className="number">Orders</th>
          </tr>
        </thead>
        <tbody>
          {[...book.asks].reverse().map((level) => (
            <LevelRow key={`ask-${level.price}`} level={level} side="ask" />
          ))}
          {book.asks.length === 0 && book.bids.length === 0 && (
            <tr>
              <td colSpan={3} className="empty">
                The book is empty.
              </td>
            </tr>
          )}
          {book.bids.map((level) => (
            <LevelRow key={`bid-${level.price}`} level={level} side="bid" />
          ))}
        </tbody>
      </table>
      <h3>Recent trades</h3>
      {book.trades.length === 0 ? (
        <p className="empty">No trades since the page opened.</p>
      ) : (
        <table aria-label={`${book.symbol} recent trades`}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col" className="number">Price</th>
              <th scope="col" className="number">Quantity</th>
              <th scope="col">Aggressor</th>
            </tr>
          </thead>
          <tbody>
            {book.trades.map((trade) => (
              <tr key={trade.tradeId}>
                <td>{clockTime(trade.tradeTime)}</td>
                <td className="number">{trade.price}</td>
                <td className="number">{trade.quantity}</td>
                <td>{sideLabel(trade.aggressorSide)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LevelRow({ level, side }: { level: PriceLevel; side: "bid" | "ask" }) {
  return (
    <tr className={side} aria-label={`${side === "bid" ? "Bid" : "Ask"} ${level.quantity} at ${level.price}`}>
      <td className="number">{level.price}</td>
      <td className="number">{level.quantity}</td>
      <td className="number">{level.orderCount}</td>
    </tr>
  );
}
