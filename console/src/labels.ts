// Human names of the protocol's enums, as the console shows them.
import { OrderStatus, OrderType, Side, TimeInForce } from "@hft/sdk/web";

export const sideLabels: Readonly<Record<Side.BUY | Side.SELL, string>> = { [Side.BUY]: "Buy", [Side.SELL]: "Sell" };

export const orderTypeLabels: Readonly<Record<Exclude<OrderType, OrderType.UNSPECIFIED>, string>> = {
  [OrderType.LIMIT]: "Limit",
  [OrderType.MARKET]: "Market",
  [OrderType.STOP]: "Stop",
  [OrderType.STOP_LIMIT]: "Stop limit",
};

export const timeInForceLabels: Readonly<Record<Exclude<TimeInForce, TimeInForce.UNSPECIFIED>, string>> = {
  [TimeInForce.GTC]: "Good till cancelled",
  [TimeInForce.IOC]: "Immediate or cancel",
  [TimeInForce.FOK]: "Fill or kill",
  [TimeInForce.DAY]: "Day",
};

const statusLabels: Readonly<Record<OrderStatus, string>> = {
  [OrderStatus.UNSPECIFIED]: "Unknown",
  [OrderStatus.PENDING_TRIGGER]: "Waiting for trigger",
  [OrderStatus.NEW]: "New",
  [OrderStatus.PARTIALLY_FILLED]: "Partially filled",
  [OrderStatus.FILLED]: "Filled",
  [OrderStatus.CANCELLED]: "Cancelled",
  [OrderStatus.REJECTED]: "Rejected",
  [OrderStatus.EXPIRED]: "Expired",
};

export const statusLabel = (status: OrderStatus): string => statusLabels[status] ?? `Status ${status}`;
export const sideLabel = (side: Side): string => (side === Side.BUY || side === Side.SELL ? sideLabels[side] : "—");
export const orderTypeLabel = (type: OrderType): string => (type === OrderType.UNSPECIFIED ? "—" : orderTypeLabels[type]);

/** Whether the order can still trade, and so be cancelled. */
export const isOpen = (status: OrderStatus): boolean =>
  status === OrderStatus.NEW || status === OrderStatus.PARTIALLY_FILLED || status === OrderStatus.PENDING_TRIGGER;

/** Whether a decimal string is below zero, for colouring P&L without parsing it into a float. */
export const isNegative = (decimal: string): boolean => decimal.startsWith("-") && /[1-9]/.test(decimal);
