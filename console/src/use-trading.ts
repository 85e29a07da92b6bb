/**
 * Everything the trading pages show for one signed-in token: the instruments, the account's
 * orders and positions kept live through the WebSocket, and the watched symbol's book. Orders are
 * loaded once the order-update subscription has started (again), so nothing falls between the
 * page and the stream; positions are read again after every fill.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type Instrument, type Order, type PlatformClients, type Position, createWebClients } from "@hft/sdk/web";
import { type OrdersById, mergeOrders } from "./order-blotter-state.js";
import { type BookView, applyMarketData, emptyBook } from "./order-book.js";
import { type ProblemReport, describeProblem } from "./platform-error.js";
import { PlatformSocket, type SocketProblem, type SocketStatus, socketUrlOf } from "./platform-socket.js";

export interface Trading {
  readonly clients: PlatformClients;
  readonly status: SocketStatus;
  readonly instruments: readonly Instrument[];
  readonly orders: OrdersById;
  readonly positions: readonly Position[];
  readonly book: BookView | undefined;
  /** Fills seen on the stream since sign-in: the analytics page reloads when it moves. */
  readonly fills: number;
  /** The latest problem worth telling (a stream refused, a load failed), until dismissed. */
  readonly problem: ProblemReport | undefined;
  dismissProblem(): void;
  watch(symbol: string): void;
  /** The order as the platform answered, merged into the blotter at once. */
  place(request: Parameters<PlatformClients["orders"]["placeOrder"]>[0]): Promise<Order>;
  cancel(orderId: string): Promise<Order>;
}

const positionsDelayMs = 200;

export function useTrading(token: string): Trading {
  const clients = useMemo(() => createWebClients({ baseUrl: window.location.origin, token }), [token]);
  const [status, setStatus] = useState<SocketStatus>({ state: "connecting" });
  const [instruments, setInstruments] = useState<readonly Instrument[]>([]);
  const [orders, setOrders] = useState<OrdersById>(new Map());
  const [positions, setPositions] = useState<readonly Position[]>([]);
  const [book, setBook] = useState<BookView | undefined>();
  const [fills, setFills] = useState(0);
  const [problem, setProblem] = useState<ProblemReport | undefined>();
  const socket = useRef<PlatformSocket | undefined>(undefined);
  const positionsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const report = useCallback((error: unknown) => setProblem(describeProblem(error)), []);
  const merge = useCallback((incoming: readonly Order[]) => setOrders((current) => mergeOrders(current, incoming)), []);

  const loadPositions = useCallback(() => {
    clearTimeout(positionsTimer.current);
    positionsTimer.current = setTimeout(() => {
      clients.orders.getPositions({}).then((answer) => setPositions(answer.positions), report);
    }, positionsDelayMs);
  }, [clients, report]);

  const loadOrders = useCallback(async () => {
    try {
      const answer = await clients.orders.listOrders({ pageSize: 200 });
      merge(answer.orders);
    } catch (error) {
      report(error);
    }
  }, [clients, merge, report]);

  useEffect(() => {
    clients.marketData.listInstruments({}).then((answer) => setInstruments(answer.instruments), report);
    const live = new PlatformSocket({
      url: socketUrlOf(window.location),
      token,
      handlers: {
        status: setStatus,
        orderUpdate(update) {
          if (update.order) merge([update.order]);
          if (update.execution) {
            setFills((n) => n + 1);
            loadPositions();
          }
        },
        marketData(symbol, update) {
          setBook((current) => applyMarketData(current?.symbol === symbol ? current : emptyBook(symbol), update));
        },
        subscribed(channel) {
          if (channel !== "orders") return;
          void loadOrders();
          loadPositions();
        },
        problem(problem: SocketProblem) {
          setProblem({ title: problem.channel ? `The ${problem.channel} stream failed` : "The live connection failed", detail: problem.message, ...(problem.reason ? { reason: problem.reason } : {}) });
        },
      },
    });
    socket.current = live;
    live.subscribeOrders();
    return () => {
      clearTimeout(positionsTimer.current);
      live.close();
      socket.current = undefined;
    };
  }, [clients, token, merge, loadOrders, loadPositions, report]);

  const watch = useCallback((symbol: string) => {
    setBook((current) => (current?.symbol === symbol ? current : emptyBook(symbol)));
    socket.current?.watchMarket(symbol);
  }, []);

  const place = useCallback<Trading["place"]>(
    async (request) => {
      const { order } = await clients.orders.placeOrder(request);
      if (!order) throw new Error("the platform answered without the order");
      merge([order]);
      return order;
    },
    [clients, merge],
  );

  const cancel = useCallback(
    async (orderId: string) => {
      const { order } = await clients.orders.cancelOrder({ orderId });
      if (!order) throw new Error("the platform answered without the order");
      merge([order]);
      return order;
    },
    [clients, merge],
  );

  return { clients, status, instruments, orders, positions, book, fills, problem, dismissProblem: () => setProblem(undefined), watch, place, cancel };
}
