/**
 * `tollgate anomalies`: what the detector found (open and past), one anomaly's evidence, resolving by
 * hand, the per-scope policies that let a runaway agent trip its own kill switch, and the delivery
 * log of alerts (with the dead letters).
 */
import type { Command } from 'commander';
import { anomalyPolicyInput, anomalyQuery, deliveryJson, policyJson } from '../../alerts/admin-input.ts';
import { anomalyJson, usdPerHour, usdShort } from '../../alerts/payload.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import type { AnomalyAlert } from '../../ledger/anomalies-contract.ts';
import type { CliContext } from '../context.ts';
import { isoOrDash, table, toJson } from '../output.ts';
import { positiveInt } from './audit.ts';

const SUMMARY_WIDTH = 72;

export function registerAnomalies(program: Command, ctx: CliContext): void {
  const anomalies = program.command('anomalies').description('anomalies the gateway detected (spend spikes, runaway loops, prompt bloat, …), their alerts and automatic actions');

  anomalies
    .command('list', { isDefault: true })
    .description('anomalies, newest first (the default: `tollgate anomalies`)')
    .option('--open', 'only those still open')
    .option('--scope <path>', 'only this scope and its subtree')
    .option('--since <time>', 'only those open at some time since: 24h, 7d, or a date like 2026-11-01 (UTC)')
    .option('--limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (o: { open?: boolean; scope?: string; since?: string; limit: number; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.anomalies.list(anomalyQuery({ open: o.open ? true : undefined, scope: o.scope, since: o.since, limit: o.limit }, ctx.now()));
      if (o.json) return ctx.io.stdout(toJson(list.map((a) => anomalyJson(a))));
      if (list.length === 0) return ctx.io.stdout(`No ${o.open ? 'open ' : ''}anomalies${o.scope ? ` under ${o.scope}` : ''}${o.since ? ` since ${o.since}` : ''}.\n`);
      ctx.io.stdout(
        table(
          ['id', 'scope', 'signal', 'state', 'since', 'at risk', 'summary'],
          list.map((a) => [a.id, a.path, a.signal, stateText(a), isoOrDash(a.since), a.state === 'open' ? usdPerHour(a.atRiskNanoPerHour) : `peak ${usdPerHour(a.peakNanoPerHour)}`, clip(a.summary, SUMMARY_WIDTH)]),
          ['left', 'left', 'left', 'left', 'left', 'right', 'left'],
        ),
      );
    });

  anomalies
    .command('show <id>')
    .description('one anomaly with its evidence: baseline against now, top models and traces, alerts sent')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const store = await ctx.store();
      const a = await store.anomalies.get(id.trim());
      if (!a) throw new TollgateError('not_found', `no anomaly ${id} (list them with: tollgate anomalies)`);
      const deliveries = await store.anomalies.deliveries({ anomalyId: a.id });
      const json = anomalyJson(a);
      if (o.json) return ctx.io.stdout(toJson({ ...json, evidence: a.evidence, deliveries: deliveries.map(deliveryJson) }));
      const lines = [
        `Anomaly ${a.id}: ${a.signal.replace(/_/g, ' ')} on ${a.path} (${a.tier})`,
        `State:    ${stateText(a)}${a.state === 'resolved' ? ` at ${isoOrDash(a.resolvedAt)} by ${a.resolvedBy ?? 'unknown'}` : ''}`,
        `Since:    ${isoOrDash(a.since)} (opened ${isoOrDash(a.openedAt)}, last seen ${isoOrDash(a.lastSeenAt)})`,
        `At risk:  ${usdPerHour(a.atRiskNanoPerHour)} above the baseline (peak ${usdPerHour(a.peakNanoPerHour)})`,
        `Summary:  ${a.summary}`,
        ...(a.action === 'auto_killed' ? [`Action:   its kill switch was tripped automatically; revive with: tollgate revive --scope ${a.path}`] : []),
        '',
        'Baseline → now:',
        ...json.baseline_vs_now.map((c) => `  ${c.text}`),
        '',
      ];
      const models = a.evidence.topModels.length === 0 ? 'Top models: none\n' : 'Top models:\n' + table(['model', 'cost', 'calls'], a.evidence.topModels.map((m) => [m.model, usdShort(BigInt(Math.round(m.costNano))), m.calls]), ['left', 'right', 'right']);
      const traces = a.evidence.topTraces.length === 0 ? 'Top traces: none\n' : 'Top traces:\n' + table(['trace', 'cost', 'calls'], a.evidence.topTraces.map((t) => [t.traceId, usdShort(BigInt(Math.round(t.costNano))), t.calls]), ['left', 'right', 'right']);
      const sent =
        deliveries.length === 0
          ? 'Alerts sent: none\n'
          : 'Alerts sent:\n' + table(['at', 'event', 'sink', 'state', 'attempts', 'last error'], deliveries.map((d) => [isoOrDash(d.at), d.event, `${d.sink} ${d.url}`, d.state, d.attempts, d.lastError ?? '—']), ['left', 'left', 'left', 'left', 'right', 'left']);
      ctx.io.stdout(`${lines.join('\n')}\n${models}\n${traces}\n${sent}`);
    });

  anomalies
    .command('resolve <id>')
    .description('close an open anomaly by hand (audited); if the detector still sees it, a new one opens')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const store = await ctx.store();
      const a = await store.anomalies.resolveById(id.trim(), ctx.actor, ctx.now());
      if (o.json) return ctx.io.stdout(toJson(anomalyJson(a)));
      ctx.io.stdout(`Resolved ${a.id} (${a.signal.replace(/_/g, ' ')} on ${a.path}, open since ${isoOrDash(a.since)}).\n${a.action === 'auto_killed' ? `Its kill switch stays on: tollgate revive --scope ${a.path}\n` : ''}`);
    });

  const policy = anomalies.command('policy').description('automatic action per scope: runaway-loop and prompt-bloat anomalies of agents above a $/hour rate trip the agent\'s kill switch');

  policy
    .command('set')
    .description('create or replace the policy of a scope (it covers the agents beneath; the nearest policy wins)')
    .requiredOption('--scope <path>', 'org, org/team, org/team/project or an agent')
    .option('--auto-kill', 'kill an agent whose runaway loop or prompt bloat puts more than the rate at risk')
    .option('--no-auto-kill', 'alert only (overrides an auto-kill policy above this scope)')
    .requiredOption('--min-usd-per-hour <usd>', 'the at-risk rate, USD per hour, an anomaly must exceed, e.g. 5')
    .option('--json', 'print JSON')
    .action(async (o: { scope: string; autoKill?: boolean; minUsdPerHour: string; json?: boolean }) => {
      if (o.autoKill === undefined) throw new TollgateError('invalid_request', 'give --auto-kill (kill runaway agents) or --no-auto-kill (alert only)');
      const store = await ctx.store();
      const { policy: p, before } = await store.anomalies.setPolicy(anomalyPolicyInput({ scope: o.scope, autoKill: o.autoKill, minUsdPerHour: o.minUsdPerHour }), ctx.actor);
      if (o.json) return ctx.io.stdout(toJson({ policy: policyJson(p), replaced: before !== null }));
      ctx.io.stdout(
        `${before ? 'Updated' : 'Set'} the anomaly policy of ${p.scopePath}: ${policyText(p.autoKill, p.minNanoPerHour)}.\n` +
          (before ? `Was: ${policyText(before.autoKill, before.minNanoPerHour)}.\n` : ''),
      );
    });

  policy
    .command('list')
    .description('anomaly policies in force')
    .option('--scope <path>', 'only policies in this subtree')
    .option('--json', 'print JSON')
    .action(async (o: { scope?: string; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.anomalies.listPolicies(o.scope ? { under: o.scope } : {});
      if (o.json) return ctx.io.stdout(toJson(list.map(policyJson)));
      if (list.length === 0) return ctx.io.stdout('No anomaly policies: anomalies alert, nothing is killed automatically. Set one with: tollgate anomalies policy set --scope acme/support --auto-kill --min-usd-per-hour 5\n');
      ctx.io.stdout(
        table(
          ['scope', 'auto-kill', 'above', 'updated', 'by'],
          list.map((p) => [p.scopePath, p.autoKill ? 'on' : 'off', usdPerHour(p.minNanoPerHour), isoOrDash(p.updatedAt), p.updatedBy]),
          ['left', 'left', 'right', 'left', 'left'],
        ),
      );
    });

  policy
    .command('delete')
    .description('remove the policy of a scope (the one above it, if any, applies again)')
    .requiredOption('--scope <path>', 'the scope')
    .action(async (o: { scope: string }) => {
      const store = await ctx.store();
      const gone = await store.anomalies.deletePolicy(o.scope, ctx.actor);
      ctx.io.stdout(`Deleted the anomaly policy of ${gone.scopePath} (${policyText(gone.autoKill, gone.minNanoPerHour)}).\n`);
    });

  anomalies
    .command('deliveries')
    .description('alerts sent to webhooks and Slack, newest first; --dead for the dead letters')
    .option('--dead', 'only deliveries that failed for good')
    .option('--anomaly <id>', 'only the alerts of one anomaly')
    .option('--limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (o: { dead?: boolean; anomaly?: string; limit: number; json?: boolean }) => {
      const store = await ctx.store();
      const list = await store.anomalies.deliveries({ ...(o.dead ? { state: 'dead' as const } : {}), ...(o.anomaly ? { anomalyId: o.anomaly.trim() } : {}), limit: o.limit });
      if (o.json) return ctx.io.stdout(toJson(list.map(deliveryJson)));
      if (list.length === 0) return ctx.io.stdout(o.dead ? 'No dead letters: every alert was delivered.\n' : 'No alerts sent yet.\n');
      ctx.io.stdout(
        table(
          ['at', 'anomaly', 'event', 'sink', 'url', 'state', 'attempts', 'last error'],
          list.map((d) => [isoOrDash(d.at), d.anomalyId, d.event, d.sink, d.url, d.state, d.attempts, d.lastError ?? '—']),
          ['left', 'left', 'left', 'left', 'left', 'left', 'right', 'left'],
        ),
      );
    });
}

function stateText(a: AnomalyAlert): string {
  return a.action === 'auto_killed' ? `${a.state}, killed` : a.state;
}

function policyText(autoKill: boolean, minNano: bigint): string {
  return autoKill
    ? `agents whose runaway loop or prompt bloat puts more than ${formatUsd(minNano)}/h at risk are killed automatically`
    : 'alerts only, no agent is killed automatically';
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
