import { apiPath } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import { Page } from '../components/page.tsx';
import { Async } from '../components/status.tsx';
import { formatUsdExact } from '../format/money.ts';
import { formatDateTime } from '../format/time.ts';
import { href } from '../router.ts';

type Call = Record<string, unknown> & { scope?: string; effectiveCostUsd?: string; listCostUsd?: string; startedAt?: number; traceId?: string | null };

/** One ledger row, every field as the ledger holds it. */
export function CallDetailPage({ id }: { id: string }) {
  const state = useApi<Call>(apiPath(`/api/calls/${encodeURIComponent(id)}`));
  return (
    <Page title={`Call ${id}`} intro={<a href={href('calls')}>All calls</a>}>
      <Async state={state}>
        {(c) => (
          <>
            <p className="summary">
              {c.scope} · {formatDateTime(c.startedAt)} · cost exactly <strong data-testid="call-cost">{formatUsdExact(c.effectiveCostUsd)}</strong>{' '}
              <span className="muted">(list {formatUsdExact(c.listCostUsd)})</span>
              {typeof c.traceId === 'string' && (
                <>
                  {' '}
                  · <a href={href('calls', { trace: c.traceId })}>other calls of trace {c.traceId}</a>
                </>
              )}
            </p>
            <dl className="fields card" data-testid="call-fields">
              {Object.entries(c)
                .filter(([k]) => !k.endsWith('Nano'))
                .map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{show(k, v)}</dd>
                  </div>
                ))}
            </dl>
          </>
        )}
      </Async>
    </Page>
  );
}

/** A field of the row for people: money with its unit (exact), times as dates, the rest as stored. */
function show(key: string, v: unknown) {
  if (typeof v === 'string' && key.endsWith('Usd')) return formatUsdExact(v);
  if (typeof v === 'number' && key.endsWith('At')) return `${formatDateTime(v)} (${v})`;
  if (typeof v === 'object' && v !== null) return <pre>{JSON.stringify(v, null, 2)}</pre>;
  return String(v);
}
