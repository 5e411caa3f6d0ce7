import { formatPct } from '../format/money.ts';

/** How much of a budget is used: a native meter (warns from 80%, alarms from 100%) and the figure. */
export function UsageMeter({ pct, label }: { pct: number | null | undefined; label: string }) {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return <span>—</span>;
  return (
    <span className="usage">
      <meter min={0} max={100} low={80} high={99.99} optimum={0} value={Math.min(pct, 100)} aria-label={label} />
      <span className={pct >= 100 ? 'over' : undefined}>{formatPct(pct)}</span>
    </span>
  );
}
