// The account's P&L and statistics from the analytics service: totals, the daily chart and the
// per-symbol table. The figures follow the executions through Kafka, so they can trail the
// blotter by a moment; the page reloads when fills arrive and says when its figures date from.
import { useCallback, useEffect, useState } from "react";
import type { GetAnalyticsResponse, GetDailyPnlResponse, PlatformClients } from "@hft/sdk/web";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { isNegative } from "./labels.js";
import { type ProblemReport, describeProblem } from "./platform-error.js";
import { PnlChart } from "./pnl-chart.js";

const reloadDelayMs = 500;

export function AnalyticsPage({ clients, fills }: { clients: PlatformClients; fills: number }) {
  const [figures, setFigures] = useState<{ analytics: GetAnalyticsResponse; daily: GetDailyPnlResponse } | undefined>();
  const [problem, setProblem] = useState<ProblemReport | undefined>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [analytics, daily] = await Promise.all([clients.analytics.getAnalytics({}), clients.analytics.getDailyPnl({ days: 30 })]);
      setFigures({ analytics, daily });
      setProblem(undefined);
    } catch (error) {
      setProblem(describeProblem(error));
    } finally {
      setLoading(false);
    }
  }, [clients]);

  useEffect(() => {
    const timer = setTimeout(() => void load(), fills === 0 ? 0 : reloadDelayMs);
    return () => clearTimeout(timer);
  }, [load, fills]);

  const totals = figures?.analytics.totals;
  const asOf = figures?.analytics.asOf;
  return (
    <main className="analytics" aria-labelledby="analytics-title">
      <div className="page-head">
        <h1 id="analytics-title">Analytics{figures && ` — ${figures.analytics.account}`}</h1>
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Refresh"}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {problem && (
          <p className="problem">
            <strong>{problem.title}:</strong> {problem.detail}
          </p>
        )}
      </div>
      {totals && (
        <>
          <p className="hint">{asOf ? `Figures as of the fill at ${timestampDate(asOf).toLocaleString()}` : "No fills yet."}</p>
          <dl className="figures">
            <Figure label="Total P&L" value={totals.totalPnl} signed />
            <Figure label="Realized P&L" value={totals.realizedPnl} signed />
            <Figure label="Unrealized P&L" value={totals.unrealizedPnl} signed />
            <Figure label="Fees" value={totals.fees} />
            <Figure label="Win rate" value={`${(Number(totals.winRate) * 100).toFixed(1)}%`} detail={`${totals.winningTrades} won, ${totals.losingTrades} lost`} />
            <Figure label="Fills" value={String(totals.tradeCount)} detail={`volume ${totals.volume}`} />
          </dl>
          <section className="panel" aria-labelledby="daily-title">
            <h2 id="daily-title">Daily P&amp;L, last 30 days</h2>
            <PnlChart days={figures.daily.days} />
          </section>
          <section className="panel" aria-labelledby="symbols-title">
            <h2 id="symbols-title">By symbol</h2>
            {figures.analytics.symbols.length === 0 ? (
              <p className="empty">No symbol traded yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Symbol</th>
                    <th scope="col" className="number">Net quantity</th>
                    <th scope="col" className="number">Last price</th>
                    <th scope="col" className="number">Realized</th>
                    <th scope="col" className="number">Unrealized</th>
                    <th scope="col" className="number">Total</th>
                    <th scope="col" className="number">Fills</th>
                    <th scope="col" className="number">Win rate</th>
                    <th scope="col" className="number">Volume</th>
                  </tr>
                </thead>
                <tbody>
                  {figures.analytics.symbols.map((s) => (
                    <tr key={s.symbol}>
                      <th scope="row">{s.symbol}</th>
                      <td className="number">{s.netQuantity}</td>
                      <td className="number">{s.lastPrice || "—"}</td>
                      <Signed value={s.stats?.realizedPnl ?? "0"} />
                      <Signed value={s.stats?.unrealizedPnl ?? "0"} />
                      <Signed value={s.stats?.totalPnl ?? "0"} />
                      <td className="number">{String(s.stats?.tradeCount ?? 0n)}</td>
                      <td className="number">{`${(Number(s.stats?.winRate ?? "0") * 100).toFixed(1)}%`}</td>
                      <td className="number">{s.stats?.volume ?? "0"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </main>
  );
}

function Figure({ label, value, detail, signed = false }: { label: string; value: string; detail?: string; signed?: boolean }) {
  return (
    <div className="figure">
      <dt>{label}</dt>
      <dd className={signed ? (isNegative(value) ? "loss" : "gain") : undefined}>{value}</dd>
      {detail && <dd className="hint">{detail}</dd>}
    </div>
  );
}

const Signed = ({ value }: { value: string }) => <td className={`number ${isNegative(value) ? "loss" : "gain"}`}>{value}</td>;
