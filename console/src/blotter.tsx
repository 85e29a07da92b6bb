// The account's orders, newest first, live; an open order can be cancelled from its row.
import { useState } from "react";
import type { Order } from "@hft/sdk/web";
import { isOpen, orderTypeLabel, sideLabel, statusLabel } from "./labels.js";
import { type ProblemReport, describeProblem } from "./platform-error.js";
import { clockTime } from "./time-format.js";

export interface BlotterProps {
  readonly orders: readonly Order[];
  cancel(orderId: string): Promise<unknown>;
}

export function Blotter({ orders, cancel }: BlotterProps) {
  const [cancelling, setCancelling] = useState<ReadonlySet<string>>(new Set());
  const [problem, setProblem] = useState<{ orderId: string; report: ProblemReport } | undefined>();

  async function cancelOrder(orderId: string) {
    setCancelling((current) => new Set(current).add(orderId));
    setProblem(undefined);
    try {
      await cancel(orderId);
    } catch (error) {
      setProblem({ orderId, report: describeProblem(error) });
    } finally {
      setCancelling((current) => {
        const next = new Set(current);
        next.delete(orderId);
        return next;
      });
    }
  }

  return (
    <section className="panel blotter" aria-labelledby="blotter-title">
      <h2 id="blotter-title">Orders</h2>
      <div role="status" aria-live="polite">
        {problem && (
          <p className="problem">
            <strong>Cancel of order {problem.orderId} failed:</strong> {problem.report.detail}
          </p>
        )}
      </div>
      {orders.length === 0 ? (
        <p className="empty">No orders yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Order</th>
              <th scope="col">Symbol</th>
              <th scope="col">Side</th>
              <th scope="col">Type</th>
              <th scope="col" className="number">Price</th>
              <th scope="col" className="number">Quantity</th>
              <th scope="col" className="number">Filled</th>
              <th scope="col" className="number">Avg price</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <tr key={order.orderId} data-order-id={order.orderId}>
                <td>{clockTime(order.createTime)}</td>
                <td>{order.orderId}</td>
                <td>{order.symbol}</td>
                <td className={`side-${sideLabel(order.side).toLowerCase()}`}>{sideLabel(order.side)}</td>
                <td>{orderTypeLabel(order.type)}</td>
                <td className="number">{order.price || order.stopPrice || "—"}</td>
                <td className="number">{order.quantity}</td>
                <td className="number">{order.filledQuantity}</td>
                <td className="number">{order.averageFillPrice || "—"}</td>
                <td title={order.rejectMessage || undefined}>
                  {statusLabel(order.status)}
                  {order.rejectMessage && <span className="reject-message">: {order.rejectMessage}</span>}
                </td>
                <td>
                  {isOpen(order.status) && (
                    <button type="button" className="small" onClick={() => void cancelOrder(order.orderId)} disabled={cancelling.has(order.orderId)} aria-label={`Cancel order ${order.orderId}`}>
                      {cancelling.has(order.orderId) ? "Cancelling…" : "Cancel"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
