/**
 * Spaces the market maker's order actions (places and cancels) at most `perSecond` a second, so
 * a fast market cannot make it flood the order service or trip its account's order rate limit.
 */
export interface ActionPacer {
  /** Resolves when the next action may go; rejects when `signal` aborts first. */
  next(signal: AbortSignal): Promise<void>;
}

export function createActionPacer(perSecond: number, now: () => number = Date.now): ActionPacer {
  const intervalMs = 1000 / perSecond;
  let nextFreeAt = 0;
  return {
    next: function waitForSlot(signal) {
      const at = Math.max(now(), nextFreeAt);
      nextFreeAt = at + intervalMs;
      const delay = at - now();
      if (delay <= 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
      });
    },
  };
}
