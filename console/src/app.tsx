// The console: the sign-in page until the platform accepts a token, then the trading and
// analytics pages (hash routes, so the gateway serves one page), under a bar that says whether the
// live connection is up.
import { useCallback, useEffect, useState } from "react";
import { AnalyticsPage } from "./analytics-page.js";
import { Blotter } from "./blotter.js";
import { BookPanel } from "./book-panel.js";
import { blotterRows } from "./order-blotter-state.js";
import { OrderForm } from "./order-form.js";
import type { SocketStatus } from "./platform-socket.js";
import { PositionsTable } from "./positions-table.js";
import { saveToken, savedToken } from "./session-token.js";
import { SignIn } from "./sign-in.js";
import { useTrading } from "./use-trading.js";

type Page = "trade" | "analytics";
const pageOf = (hash: string): Page => (hash === "#/analytics" ? "analytics" : "trade");

export function App() {
  const [token, setToken] = useState<string | undefined>(() => savedToken());
  const [notice, setNotice] = useState<string | undefined>();
  const signOut = useCallback((why?: string) => {
    saveToken(undefined);
    setToken(undefined);
    setNotice(why);
  }, []);
  if (token === undefined) {
    return (
      <SignIn
        notice={notice}
        signedIn={(accepted) => {
          saveToken(accepted);
          setNotice(undefined);
          setToken(accepted);
        }}
      />
    );
  }
  return <Console key={token} token={token} signOut={signOut} />;
}

function Console({ token, signOut }: { token: string; signOut(why?: string): void }) {
  const trading = useTrading(token);
  const [page, setPage] = useState<Page>(() => pageOf(window.location.hash));
  const [chosenSymbol, setSymbol] = useState("");
  const { status, instruments, watch } = trading;
  // The first listed instrument until the person picks one.
  const symbol = chosenSymbol || (instruments[0]?.symbol ?? "");

  useEffect(() => {
    const follow = () => setPage(pageOf(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  useEffect(() => {
    if (symbol !== "") watch(symbol);
  }, [symbol, watch]);
  useEffect(() => {
    if (status.state === "refused") signOut(`Signed out: ${status.why}. Sign in again.`);
  }, [status, signOut]);

  return (
    <>
      <header className="top-bar">
        <span className="brand">HFT console</span>
        <nav aria-label="Pages">
          <a href="#/trade" aria-current={page === "trade" ? "page" : undefined}>
            Trade
          </a>
          <a href="#/analytics" aria-current={page === "analytics" ? "page" : undefined}>
            Analytics
          </a>
        </nav>
        <ConnectionState status={status} />
        <button type="button" className="small" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      {trading.problem && (
        <div className="banner problem" role="alert">
          <strong>{trading.problem.title}:</strong> {trading.problem.detail}
          {trading.problem.reason && <code> {trading.problem.reason}</code>}
          <button type="button" className="small" onClick={trading.dismissProblem} aria-label="Dismiss the message">
            ×
          </button>
        </div>
      )}
      {page === "trade" ? (
        <main className="trade" aria-label="Trade">
          <OrderForm instruments={instruments} symbol={symbol} onSymbolChange={setSymbol} place={trading.place} />
          <BookPanel book={trading.book} />
          <PositionsTable positions={trading.positions} />
          <Blotter orders={blotterRows(trading.orders)} cancel={trading.cancel} />
        </main>
      ) : (
        <AnalyticsPage clients={trading.clients} fills={trading.fills} />
      )}
    </>
  );
}

function ConnectionState({ status }: { status: SocketStatus }) {
  const text =
    status.state === "open"
      ? `Live — ${status.account} (${status.role})${status.expiresAt ? `, signed in until ${status.expiresAt.toLocaleTimeString(undefined, { hour12: false })}` : ""}`
      : status.state === "connecting"
        ? "Connecting…"
        : status.state === "reconnecting"
          ? `Disconnected: ${status.why}. Reconnecting in ${Math.ceil(status.retryInMs / 1000)} s; orders and positions catch up when it is back.`
          : status.state === "refused"
            ? `Refused: ${status.why}`
            : "Closed";
  return (
    <span className={`connection ${status.state}`} role="status" aria-live="polite">
      {text}
    </span>
  );
}
