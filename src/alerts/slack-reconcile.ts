/** The Slack message of a reconciliation finding: what disagrees, its dollar impact, the evidence, a link to the reconciliation page. */
import { usdShort } from './payload.ts';
import type { ReconcilePayload } from './reconcile-payload.ts';
import type { SlackBlock, SlackBody } from './slack-blocks.ts';
import { clip, escape, FIELD_MAX, header, mrkdwn, SECTION_MAX, shortTime } from './slack-blocks.ts';

const TITLES: Record<ReconcilePayload['event'], string> = {
  bypass: 'Bypass',
  price_drift: 'Price drift',
  token_mismatch: 'Token mismatch',
  cost_mismatch: 'Cost mismatch',
};

export function reconcileSlackBody(p: ReconcilePayload): SlackBody {
  const headline = `${TITLES[p.event]}: ${p.summary}`;
  const impact = BigInt(p.impact_nano);
  const window = `${day(p.window.from)} → ${day(p.window.to)}`;
  const blocks: SlackBlock[] = [
    header(headline),
    {
      type: 'section',
      text: mrkdwn(clip(escape(p.detail.trim() || p.summary), SECTION_MAX)),
      fields: [
        mrkdwn(`*Impact*\n${impact > 0n ? usdShort(impact) : 'not priced'}`),
        mrkdwn(`*Window*\n${window} (tolerance ${p.tolerance_pct}%)`),
      ],
    },
    {
      type: 'section',
      text: mrkdwn(clip(`*Evidence*\n${Object.entries(p.evidence).map(([k, v]) => `• ${escape(k.replace(/_/g, ' '))}: \`${escape(String(v))}\``).join('\n')}`, SECTION_MAX)),
    },
    {
      type: 'context',
      elements: [mrkdwn(clip(`${p.dashboard_url ? `<${p.dashboard_url}|Open the reconciliation> · ` : ''}finding \`${escape(p.finding_key)}\``, FIELD_MAX))],
    },
  ];
  return { text: `[Tollgate] ${headline}`, blocks };
}

/** A window edge for people: the day when it is midnight. */
function day(iso: string): string {
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : shortTime(iso);
}
