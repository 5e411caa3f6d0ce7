/**
 * Calls: the ledger rows behind a figure, a page at a time, with their tokens and cost, and the
 * exact total of the whole filter (not just the page) so a figure can be checked against its rows.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { apiPath } from '../api/client.ts';
import type { CallsPage as CallsAnswer } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { SelectField, TextField } from '../components/field.tsx';
import { Page } from '../components/page.tsx';
import { PeriodFields } from '../components/period-fields.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatCount, formatUsd, formatUsdExact } from '../format/money.ts';
import { formatDateTime } from '../format/time.ts';
import type { Route } from '../router.ts';
import { href, paramsObject } from '../router.ts';
import { CallDetailPage } from './call-detail.tsx';

const FILTERS = ['scope', 'from', 'to', 'provider', 'model', 'customer', 'trace', 'status'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export function CallsPage({ route }: { route: Route }) {
  const id = route.segments[1];
  if (id !== undefined) return <CallDetailPage id={id} />;
  const f = Object.fromEntries(FILTERS.map((k) => [k, route.params.get(k) ?? ''])) as Filters;
  // A new filter starts again at the first page.
  return <CallsList key={JSON.stringify(f)} f={f} all={paramsObject(route.params)} />;
}

function CallsList({ f, all }: { f: Filters; all: Record<string, string> }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1] ?? '';
  const state = useApi<CallsAnswer>(apiPath('/api/calls', { ...f, cursor, limit: 50 }));
  const go = (change: Partial<Filters>) => {
    window.location.hash = href('calls', { ...all, ...change }).slice(1);
  };
  const described = [f.scope || 'every scope', f.provider && `provider ${f.provider}`, f.model && `model ${f.model}`, f.customer && `customer ${f.customer}`, f.trace && `trace ${f.trace}`, f.status && `status ${f.status}`]
    .filter(Boolean)
    .join(' · ');
  return (
    <Page title="Calls" intro={<>The ledger rows of {described}{f.from || f.to ? `, ${when(f.from) || '…'} to ${when(f.to) || 'now'} (end not included)` : ', this month so far'}.</>}>
      <CallFilters f={f} go={go} />
      <Async state={state} what="Loading calls">
        {(r) => (
          <>
            <p className="summary" data-testid="calls-totals">
              <strong data-testid="calls-total-count">{formatCount(r.totals.calls)}</strong> calls, exactly{' '}
              <strong data-testid="calls-total" data-spend-usd={r.totals.spendUsd} data-spend-nano={r.totals.spendNano}>
                {formatUsdExact(r.totals.spendUsd)}
              </strong>{' '}
              <span className="muted">(the whole filter, not just this page)</span>
            </p>
            {r.rows.length === 0 ? (
              <Empty>No calls match.</Empty>
            ) : (
              <div className="table-wrap">
                <table data-testid="calls-table" className="dense">
                  <thead>
                    <tr>
                      <th scope="col">Started</th>
                      <th scope="col">{f.scope === '' ? 'Agent' : `Agent (under ${f.scope})`}</th>
                      <th scope="col">Model</th>
                      <th scope="col" className="num">Input</th>
                      <th scope="col" className="num">Cached</th>
                      <th scope="col" className="num">Output</th>
                      <th scope="col" className="num">Cost</th>
                      <th scope="col" className="num">Latency</th>
                      <th scope="col">Status</th>
                      <th scope="col">Trace</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.rows.map((c) => (
                      <tr key={c.id} data-testid={`call-row-${c.id}`}>
                        <td className="nowrap">
                          <a href={href(`calls/${encodeURIComponent(c.id)}`)} aria-label={`Call ${c.id} at ${formatDateTime(c.startedAt)}`}>
                            {formatDateTime(c.startedAt)}
                          </a>
                        </td>
                        <td title={c.scope}>{relative(c.scope, f.scope)}</td>
                        <td>
                          {c.servedModel}
                          {c.requestedModel !== c.servedModel && <span className="muted"> (asked {c.requestedModel})</span>}
                          {c.routeTier !== null && <span className="muted"> · {c.routeTier} tier</span>}
                        </td>
                        <td className="num">{formatCount(c.inputTokens)}</td>
                        <td className="num">{formatCount(c.cacheReadTokens)}</td>
                        <td className="num">{formatCount(c.outputTokens)}</td>
                        <td className="num" data-spend-usd={c.spendUsd} title={formatUsdExact(c.spendUsd)}>
                          {formatUsd(c.spendUsd)}
                          {c.estimated && <span className="muted"> est.</span>}
                        </td>
                        <td className="num">{formatCount(c.latencyMs)} ms</td>
                        <td>{c.status >= 400 ? <span className="bad">{c.errorCode ?? c.status}</span> : c.status}</td>
                        <td className="clip">
                          {c.traceId === null ? (
                            '—'
                          ) : (
                            <a href={href('calls', { ...all, trace: c.traceId })} title={c.traceId} aria-label={`Calls of trace ${c.traceId}`}>
                              {c.traceId}
                            </a>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <div className="pager">
              <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="calls-prev">
                Previous page
              </button>
              <span className="muted">Page {cursors.length + 1}</span>
              <button type="button" disabled={r.nextCursor === null} onClick={() => r.nextCursor !== null && setCursors((c) => [...c, r.nextCursor!])} data-testid="calls-next">
                Next page
              </button>
            </div>
          </>
        )}
      </Async>
    </Page>
  );
}

function CallFilters({ f, go }: { f: Filters; go: (c: Partial<Filters>) => void }) {
  const [text, setText] = useState({ scope: f.scope, provider: f.provider, model: f.model, customer: f.customer, trace: f.trace });
  const set = (k: keyof typeof text) => (e: { target: { value: string } }) => setText((t) => ({ ...t, [k]: e.target.value }));
  function apply(e: FormEvent) {
    e.preventDefault();
    go(Object.fromEntries(Object.entries(text).map(([k, v]) => [k, v.trim()])));
  }
  return (
    <form className="filters card" onSubmit={apply} aria-label="Filters" data-testid="calls-filters">
      <TextField label="Scope" value={text.scope} onChange={set('scope')} placeholder="acme/support" testId="calls-filter-scope" />
      <PeriodFields from={f.from} to={f.to} onChange={(r) => go(r)} />
      <TextField label="Provider" value={text.provider} onChange={set('provider')} placeholder="any" />
      <TextField label="Model" value={text.model} onChange={set('model')} placeholder="any" />
      <TextField label="Customer tag" value={text.customer} onChange={set('customer')} placeholder="any" />
      <TextField label="Trace" value={text.trace} onChange={set('trace')} placeholder="any" />
      <SelectField
        label="Status"
        value={f.status}
        onChange={(e) => go({ status: e.target.value })}
        options={[
          { value: '', label: 'Any' },
          { value: 'ok', label: 'Succeeded' },
          { value: 'error', label: 'Failed' },
        ]}
      />
      <div className="field field-button">
        <button type="submit" className="primary">
          Apply
        </button>
      </div>
    </form>
  );
}

/** An agent's path below the filtered scope: "ci/test-fixer" under acme/eng. */
function relative(path: string, scope: string): string {
  return scope !== '' && path.startsWith(`${scope}/`) ? path.slice(scope.length + 1) : path;
}

/** A period end as given: epoch ms (from a figure's link) as a date-time, a date as itself. */
function when(v: string): string {
  return /^\d+$/.test(v) ? formatDateTime(Number(v)) : v === '' ? '' : `${v} UTC`;
}
