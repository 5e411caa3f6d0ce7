/**
 * The Slack message of an anomaly alert: header, what and where, baseline against now, top models
 * and traces, the revive command after an automatic kill, the dashboard link.
 */
import type { AlertPayload } from './payload.ts';
import { usdPerHour, usdShort } from './payload.ts';
import type { SlackBlock, SlackBody } from './slack-blocks.ts';
import { clip, escape, header, mrkdwn, SECTION_MAX, shortTime } from './slack-blocks.ts';

const TOP_SHOWN = 5;

const TITLES: Record<AlertPayload['event'], string> = {
  opened: 'Anomaly',
  resolved: 'Resolved',
  auto_killed: 'Agent killed automatically',
};

export function anomalySlackBody(p: AlertPayload): SlackBody {
  const signal = p.signal.replace(/_/g, ' ');
  const risk = usdPerHour(BigInt(p.at_risk_nano_per_hour));
  const peak = usdPerHour(BigInt(p.peak_nano_per_hour));
  const headline =
    p.event === 'resolved'
      ? `${TITLES.resolved}: ${signal} on ${p.scope.path} (peaked at ${peak} at risk)`
      : `${TITLES[p.event]}: ${signal} on ${p.scope.path}, ${risk} at risk`;

  const blocks: SlackBlock[] = [
    header(headline),
    {
      type: 'section',
      // Slack refuses an empty text: a finding without a summary still says what it is.
      text: mrkdwn(clip(escape(p.summary.trim() || `${signal} on ${p.scope.path}`), SECTION_MAX)),
      fields: [
        mrkdwn(`*Scope*\n\`${escape(p.scope.path)}\` (${p.scope.tier})`),
        mrkdwn(`*Signal*\n${escape(signal)}`),
        mrkdwn(`*Since*\n${shortTime(p.since)}`),
        mrkdwn(p.event === 'resolved' ? `*Resolved*\n${shortTime(p.resolved_at ?? p.sent_at)}` : `*At risk*\n${risk} (peak ${peak})`),
      ],
    },
  ];
  if (p.baseline_vs_now.length > 0) {
    blocks.push({ type: 'section', text: mrkdwn(clip(`*Baseline → now*\n${p.baseline_vs_now.map((c) => `• ${escape(c.text)}`).join('\n')}`, SECTION_MAX)) });
  }
  const top = [
    ...(p.top_models.length > 0 ? [`*Top models*\n${p.top_models.slice(0, TOP_SHOWN).map((m) => `• \`${escape(m.model)}\` ${usdShort(BigInt(m.cost_nano))} in ${m.calls} calls`).join('\n')}`] : []),
    ...(p.top_traces.length > 0 ? [`*Top traces*\n${p.top_traces.slice(0, TOP_SHOWN).map((t) => `• \`${escape(t.trace_id)}\` ${usdShort(BigInt(t.cost_nano))} in ${t.calls} calls`).join('\n')}`] : []),
  ];
  if (top.length > 0) blocks.push({ type: 'section', text: mrkdwn(clip(top.join('\n'), SECTION_MAX)) });
  if (p.revive_command) blocks.push({ type: 'section', text: mrkdwn(`Its kill switch is on. Revive it with \`${escape(p.revive_command)}\``) });
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`${p.dashboard_url ? `<${p.dashboard_url}|Open in the dashboard> · ` : ''}anomaly \`${p.id}\``)],
  });

  return { text: `[Tollgate] ${headline}. ${p.summary}`, blocks };
}
