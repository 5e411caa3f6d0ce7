/**
 * Explore: drill org → team → project → agent. At each scope, the spend of the tier below as a
 * treemap, over time with anomaly markers and budget lines, and as a table; every figure links to
 * the calls behind it.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { apiPath } from '../api/client.ts';
import { useScopes } from '../api/scopes.ts';
import type { SpendReport, SpendSeries } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { SelectField, TextField } from '../components/field.tsx';
import { Page, Section } from '../components/page.tsx';
import { PeriodFields } from '../components/period-fields.tsx';
import { Async, Empty, ErrorNotice, Loading } from '../components/status.tsx';
import { formatUsd } from '../format/money.ts';
import { formatDay, formatDateTime } from '../format/time.ts';
import type { Route } from '../router.ts';
import { useSession } from '../session.tsx';
import { SeriesChart, SpendTreemap } from './explore-charts.tsx';
import type { ExploreParams } from './explore-params.ts';
import { callsHref, defaultGroupBy, exploreHref, readExploreParams, tierOfPath } from './explore-params.ts';
import { SpendTable } from './explore-table.tsx';

export function ExplorePage({ route }: { route: Route }) {
  const session = useSession();
  const { scopes, error: scopesError } = useScopes();
  const orgs = (scopes ?? []).filter((s) => s.tier === 'org');
  const fallback = session.viewerScope ?? (orgs.length === 1 ? orgs[0]!.path : '');
  const p = readExploreParams(route.params, fallback);

  if (p.scope === '') {
    return (
      <Page title="Explore">
        <ErrorNotice error={scopesError} />
        {scopes === undefined ? (
          scopesError === undefined && <Loading what="Loading scopes" />
        ) : orgs.length === 0 ? (
          <Empty>No organisation yet: create an agent key with tollgate keys create --scope org/team/project/agent.</Empty>
        ) : (
          <ul className="plain-list">
            {orgs.map((o) => (
              <li key={o.id}>
                <a href={exploreHref({ ...p, scope: o.path })}>{o.path}</a>
              </li>
            ))}
          </ul>
        )}
      </Page>
    );
  }
  return <ExploreScope p={p} viewerScope={session.viewerScope} />;
}

function ExploreScope({ p, viewerScope }: { p: ExploreParams; viewerScope: string | null }) {
  const groupBy = p.groupBy === '' ? defaultGroupBy(p.scope) : p.groupBy;
  const common = { scope: p.scope, from: p.from, to: p.to, provider: p.provider, model: p.model };
  const spend = useApi<SpendReport>(apiPath('/api/spend', { ...common, groupBy: p.groupBy, customer: p.customer }));
  const series = useApi<SpendSeries>(apiPath('/api/spend/series', { ...common, bucket: p.bucket, groupBy }));
  const go = (change: Partial<ExploreParams>) => {
    window.location.hash = exploreHref(p, change).slice(1);
  };

  return (
    <Page title="Explore" intro={<Breadcrumb scope={p.scope} p={p} viewerScope={viewerScope} />}>
      <Filters key={`${p.provider}|${p.model}|${p.customer}`} p={p} go={go} />
      <Async state={spend} what="Loading spend">
        {(r) => (
          <>
            <p className="summary" data-testid="explore-summary">
              <span>
                {r.scope} spent{' '}
                <a href={callsHref(p, r)} data-testid="calls-link-total" data-spend-usd={r.totalUsd}>
                  <strong>{formatUsd(r.totalUsd)}</strong>
                </a>{' '}
                from {formatDay(r.from)} to {formatDateTime(r.to)}
              </span>
              <span className="muted">
                {' '}
                · the period before: {formatUsd(r.previousTotalUsd)}
              </span>
            </p>
            <div className="two">
              <Section title={`Spend by ${r.groupBy}`}>
                {r.rows.length === 0 ? <Empty>No spend in this period.</Empty> : <SpendTreemap report={r} p={p} />}
              </Section>
              <Section title={`Over time, per ${p.bucket}`}>
                <Async state={series} what="Loading the time series">
                  {(s) => <SeriesChart series={s} p={p} />}
                </Async>
                {p.customer !== '' && <p className="muted">The time series is not filtered by customer (it reads the hourly rollups, which carry no customer tag).</p>}
              </Section>
            </div>
            <Section title={`${capital(r.groupBy)}s of ${r.scope}`}>
              <SpendTable report={r} p={p} />
            </Section>
          </>
        )}
      </Async>
    </Page>
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function Breadcrumb({ scope, p, viewerScope }: { scope: string; p: ExploreParams; viewerScope: string | null }) {
  const parts = scope.split('/');
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb" data-testid="breadcrumb">
      <ol>
        {parts.map((name, i) => {
          const path = parts.slice(0, i + 1).join('/');
          const last = i === parts.length - 1;
          // A viewer cannot read above its own scope: those steps are shown, not linked.
          const readable = viewerScope === null || path === viewerScope || path.startsWith(`${viewerScope}/`);
          return (
            <li key={path}>
              {last ? (
                <span aria-current="page" data-testid={`crumb-${path}`}>
                  {name} <span className="muted">({tierOfPath(path)})</span>
                </span>
              ) : readable ? (
                <a href={exploreHref(p, { scope: path, groupBy: '' })} data-testid={`crumb-${path}`}>
                  {name}
                </a>
              ) : (
                <span data-testid={`crumb-${path}`}>{name}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function Filters({ p, go }: { p: ExploreParams; go: (c: Partial<ExploreParams>) => void }) {
  const [provider, setProvider] = useState(p.provider);
  const [model, setModel] = useState(p.model);
  const [customer, setCustomer] = useState(p.customer);
  const [wantOptions, setWantOptions] = useState(false);
  // Models and providers of this scope, read only when someone reaches for the filter.
  const models = useApi<SpendReport>(wantOptions ? apiPath('/api/spend', { scope: p.scope, from: p.from, to: p.to, groupBy: 'model' }) : null);
  const providers = useApi<SpendReport>(wantOptions ? apiPath('/api/spend', { scope: p.scope, from: p.from, to: p.to, groupBy: 'provider' }) : null);

  function apply(e: FormEvent) {
    e.preventDefault();
    go({ provider: provider.trim(), model: model.trim(), customer: customer.trim() });
  }
  const tier = tierOfPath(p.scope);
  const groupOptions = [
    { value: '', label: tier === 'agent' ? 'Model (default)' : `${capital(defaultGroupBy(p.scope))} (default)` },
    ...(tier === 'agent' ? [] : [{ value: 'model', label: 'Model' }]),
    { value: 'provider', label: 'Provider' },
  ];
  return (
    <form className="filters card" onSubmit={apply} aria-label="Filters" data-testid="explore-filters">
      <PeriodFields from={p.from} to={p.to} onChange={(r) => go(r)} />
      <SelectField
        label="Time buckets"
        value={p.bucket}
        onChange={(e) => go({ bucket: e.target.value as ExploreParams['bucket'] })}
        options={[
          { value: 'hour', label: 'Hour' },
          { value: 'day', label: 'Day' },
          { value: 'week', label: 'Week' },
        ]}
        testId="explore-bucket"
      />
      <SelectField label="Rows are" value={p.groupBy} onChange={(e) => go({ groupBy: e.target.value as ExploreParams['groupBy'] })} options={groupOptions} testId="explore-group-by" />
      <TextField label="Provider" value={provider} onChange={(e) => setProvider(e.target.value)} onFocus={() => setWantOptions(true)} list="explore-providers" placeholder="any" testId="filter-provider" />
      <TextField label="Model" value={model} onChange={(e) => setModel(e.target.value)} onFocus={() => setWantOptions(true)} list="explore-models" placeholder="any" testId="filter-model" />
      <TextField label="Customer tag" value={customer} onChange={(e) => setCustomer(e.target.value)} placeholder="any" testId="filter-customer" />
      <datalist id="explore-models">
        {models.data?.rows.map((r) => <option key={r.key} value={r.key} />)}
      </datalist>
      <datalist id="explore-providers">
        {providers.data?.rows.map((r) => <option key={r.key} value={r.key} />)}
      </datalist>
      <div className="field field-button">
        <button type="submit" className="primary" data-testid="filters-apply">
          Apply
        </button>
      </div>
      {(p.provider !== '' || p.model !== '' || p.customer !== '') && (
        <div className="field field-button">
          <a className="button" href={exploreHref(p, { provider: '', model: '', customer: '' })} onClick={() => {
            setProvider('');
            setModel('');
            setCustomer('');
          }}>
            Clear filters
          </a>
        </div>
      )}
    </form>
  );
}

