// Daily realized P&L (after fees) as bars, with the running total as a line. Heights are drawn
// from floats, which is fine for pixels; every figure shown as text is the platform's exact string.
import type { DailyPnl } from "@hft/sdk/web";

const width = 640;
const height = 220;
const margin = { top: 12, right: 12, bottom: 28, left: 56 };

export function PnlChart({ days }: { days: readonly DailyPnl[] }) {
  if (days.length === 0) return <p className="empty">No days to chart.</p>;
  const net = days.map((d) => Number(d.realizedPnl) - Number(d.fees));
  const cumulative = net.reduce<number[]>((sums, value) => [...sums, (sums.at(-1) ?? 0) + value], []);
  const extent = Math.max(1e-9, ...net.map(Math.abs), ...cumulative.map(Math.abs));
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const y = (value: number) => margin.top + plotHeight / 2 - (value / extent) * (plotHeight / 2);
  const step = plotWidth / days.length;
  const x = (index: number) => margin.left + index * step;
  const line = cumulative.map((value, index) => `${index === 0 ? "M" : "L"}${(x(index) + step / 2).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
  const label = (value: number) => value.toLocaleString(undefined, { maximumFractionDigits: 2 });

  return (
    <svg className="pnl-chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="pnl-chart-title">
      <title id="pnl-chart-title">{`Daily P&L after fees over ${days.length} days, from ${days[0]!.date} to ${days.at(-1)!.date}; running total ${label(cumulative.at(-1)!)}`}</title>
      <line className="axis" x1={margin.left} x2={width - margin.right} y1={y(0)} y2={y(0)} />
      <text className="tick" x={margin.left - 6} y={y(extent) + 4} textAnchor="end">
        {label(extent)}
      </text>
      <text className="tick" x={margin.left - 6} y={y(0) + 4} textAnchor="end">
        0
      </text>
      <text className="tick" x={margin.left - 6} y={y(-extent) + 4} textAnchor="end">
        {label(-extent)}
      </text>
      {net.map((value, index) => (
        <rect key={days[index]!.date} className={value < 0 ? "bar loss" : "bar gain"} x={x(index) + step * 0.15} width={step * 0.7} y={Math.min(y(value), y(0))} height={Math.max(1, Math.abs(y(value) - y(0)))}>
          <title>{`${days[index]!.date}: realized ${days[index]!.realizedPnl}, fees ${days[index]!.fees}, ${days[index]!.tradeCount} fills`}</title>
        </rect>
      ))}
      <path className="cumulative" d={line} fill="none" />
      <text className="tick" x={x(0)} y={height - 8}>
        {days[0]!.date}
      </text>
      <text className="tick" x={width - margin.right} y={height - 8} textAnchor="end">
        {days.at(-1)!.date}
      </text>
    </svg>
  );
}
