/**
 * The request side of a client or bidi stream as Connect takes it (an AsyncIterable), fed by
 * push: requests wait here until the transport reads them, and `close` half-closes the stream.
 */
export interface RequestQueue<T> {
  push(request: T): void;
  close(): void;
  readonly requests: AsyncIterable<T>;
}

export function createRequestQueue<T>(): RequestQueue<T> {
  const waiting: T[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  async function* drain() {
    for (;;) {
      while (waiting.length > 0) yield waiting.shift()!;
      if (closed) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
  return {
    push(request) {
      if (closed) throw new Error("the request stream is closed");
      waiting.push(request);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    requests: drain(),
  };
}
