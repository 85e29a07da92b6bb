import type { Position } from "@hft/sdk/web";
import { isNegative } from "./labels.js";

export function PositionsTable({ positions }: { positions: readonly Position[] }) {
  return (
    <section className="panel positions" aria-labelledby="positions-title">
      <h2 id="positions-title">Positions</h2>
      {positions.length === 0 ? (
        <p className="empty">No positions.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col" className="number">Net quantity</th>
              <th scope="col" className="number">Average price</th>
              <th scope="col" className="number">Realized P&amp;L</th>
            </tr>
          </thead>
          <tbody>
            {positions.map((p) => (
              <tr key={p.symbol}>
                <th scope="row">{p.symbol}</th>
                <td className="number">{p.netQuantity}</td>
                <td className="number">{p.averagePrice || "—"}</td>
                <td className={`number ${isNegative(p.realizedPnl) ? "loss" : "gain"}`}>{p.realizedPnl}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
