/**
 * Rollout status, the first page of a new organisation: how much of the provider bill the gateway
 * attributes, which tiers have budgets, which teams are in showback or chargeback, whether anomaly
 * detection and alerts are wired, and what to do next, in order.
 */
import type { Rollout, Tier } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { Page, Section } from '../components/page.tsx';
import { Async, Empty } from '../components/status.tsx';
import { formatCount, formatPct, formatUsd } from '../format/money.ts';
import { href } from '../router.ts';

const TIERS: readonly Tier[] = ['org', 'team', 'project', 'agent'];

export function RolloutPage() {
  const state = useApi<Rollout>('/api/rollout');
  return (
    <Page title="Rollout status" intro="How far the gateway is from seeing, owning and controlling all of the AI spend.">
      <Async state={state} what="Loading the rollout status">
        {(r) => <RolloutBody r={r} />}
      </Async>
    </Page>
  );
}

function RolloutBody({ r }: { r: Rollout }) {
  const next = r.steps.findIndex((s) => !s.done);
  const done = r.steps.filter((s) => s.done).length;
  return (
    <>
      <div className="kpis">
        <div className="card kpi" data-testid="rollout-attributed">
          <h2>Spend attributed by the gateway</h2>
          {r.attributedSharePct === null ? (
            <>
              <p className="big">{formatUsd(r.gatewayUsd)}</p>
              <p className="muted">seen this month; import a provider report to see what share of the bill that is</p>
            </>
          ) : (
            <>
              <p className="big">{formatPct(r.attributedSharePct)}</p>
              <p className="muted">
                {formatUsd(r.gatewayUsd)} of {formatUsd(r.providerBilledUsd)} billed by the providers
              </p>
            </>
          )}
        </div>
        <div className="card kpi">
          <h2>Anomaly detection</h2>
          <p className="big">{r.anomalyDetection ? 'On' : 'Off'}</p>
          <p className="muted">
            {formatCount(r.alertSinks)} alert {r.alertSinks === 1 ? 'sink' : 'sinks'} wired
          </p>
        </div>
        <div className="card kpi">
          <h2>Outcomes</h2>
          <p className="big">{r.outcomesRecorded ? 'Recorded' : 'None yet'}</p>
          <p className="muted">needed for $/outcome and ROI</p>
        </div>
        <div className="card kpi">
          <h2>Steps done</h2>
          <p className="big">
            {done} of {r.steps.length}
          </p>
          <p className="muted">
            <a href={href('overview')}>Go to the overview</a>
          </p>
        </div>
      </div>

      <Section title="What to do next">
        {r.steps.length === 0 ? (
          <Empty>Nothing left to do.</Empty>
        ) : (
          <ol className="steps" data-testid="rollout-steps">
            {r.steps.map((s, i) => (
              <li key={s.title} className={s.done ? 'done' : i === next ? 'next' : undefined} aria-current={i === next ? 'step' : undefined}>
                <span className="step-state">{s.done ? 'Done' : i === next ? 'Next' : 'To do'}</span>
                <div>
                  <strong>{s.title}</strong>
                  <p className="muted">{s.detail}</p>
                  {!s.done && s.command && (
                    <p className="command">
                      <code>{s.command}</code> <CopyButton text={s.command} label="Copy command" what={s.title} />
                    </p>
                  )}
                </div>
              </li>
            ))}
          </ol>
        )}
      </Section>

      <div className="two">
        <Section title="Budgets per tier">
          <table data-testid="rollout-tiers">
            <thead>
              <tr>
                <th scope="col">Tier</th>
                <th scope="col" className="num">Scopes</th>
                <th scope="col" className="num">With a budget</th>
              </tr>
            </thead>
            <tbody>
              {TIERS.map((t) => {
                const x = r.tiers[t];
                return (
                  <tr key={t}>
                    <th scope="row">{t}</th>
                    <td className="num">{formatCount(x?.count ?? 0)}</td>
                    <td className="num">
                      {formatCount(x?.withBudget ?? 0)}
                      {x !== undefined && x.count > 0 && <span className="muted"> ({formatPct((x.withBudget / x.count) * 100)})</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Section>
        <Section title="Teams">
          {r.teams.length === 0 ? (
            <Empty>No teams yet.</Empty>
          ) : (
            <table data-testid="rollout-teams">
              <thead>
                <tr>
                  <th scope="col">Team</th>
                  <th scope="col">Mode</th>
                </tr>
              </thead>
              <tbody>
                {r.teams.map((t) => (
                  <tr key={t.path}>
                    <th scope="row">
                      <a href={href('explore', { scope: t.path })}>{t.path}</a>
                    </th>
                    <td>
                      <span className={`badge ${t.mode}`}>{t.mode === 'none' ? 'no budget' : t.mode}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
    </>
  );
}
