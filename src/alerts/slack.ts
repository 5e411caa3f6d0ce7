/**
 * The Slack incoming-webhook body for an alert: `text` (the notification line, and all that
 * Slack-compatible receivers without Block Kit show) and `blocks` (header, what and where, baseline
 * against now, top models and traces, the dashboard link).
 * https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks
 */
import type { AlertPayload } from './payload.ts';
import { usdPerHour, usdShort } from './payload.ts';

export interface SlackBody {
  text: string;
  blocks: SlackBlock[];
}

type SlackText = { type: 'mrkdwn' | 'plain_text'; text: string };
type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** Slack's limits: a header's text, a section's text. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const TOP_SHOWN = 5;

const TITLES: Record<AlertPayload['event'], string> = {
  opened: 'Anomaly',
  resolved: 'Resolved',
  auto_killed: 'Agent killed automatically',
};

export function slackBody(p: AlertPayload): SlackBody {
  const signal = p.signal.replace(/_/g, ' ');
  const risk = usdPerHour(BigInt(p.at_risk_nano_per_hour));
  const peak = usdPerHour(BigInt(p.peak_nano_per_hour));
  const headline =
    p.event === 'resolved'
      ? `${TITLES.resolved}: ${signal} on ${p.scope.path} (peaked at ${peak} at risk)`
      : `${TITLES[p.event]}: ${signal} on ${p.scope.path}, ${risk} at risk`;

  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(headline, HEADER_MAX) } },
    {
      type: 'section',
      // Slack refuses an empty text: a finding without a summary still says what it is.
      text: mrkdwn(clip(escape(p.summary.trim() || `${signal} on ${p.scope.path}`), SECTION_MAX)),
      fields: [
        mrkdwn(`*Scope*\n\`${escape(p.scope.path)}\` (${p.scope.tier})`),
        mrkdwn(`*Signal*\n${escape(signal)}`),
        mrkdwn(`*Since*\n${p.since.replace(/\.\d{3}Z$/, 'Z')}`),
        mrkdwn(p.event === 'resolved' ? `*Resolved*\n${(p.resolved_at ?? p.sent_at).replace(/\.\d{3}Z$/, 'Z')}` : `*At risk*\n${risk} (peak ${peak})`),
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

function mrkdwn(text: string): SlackText {
  return { type: 'mrkdwn', text };
}

/** Slack's mrkdwn control characters. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
