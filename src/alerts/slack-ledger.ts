/** The Slack message of a ledger spool alert: what happened on which host, the spool's size and rows, the log line. */
import type { LedgerPayload } from './ledger-payload.ts';
import { bytesShort, DATABASE_NAMES } from './ledger-payload.ts';
import type { SlackBlock, SlackBody } from './slack-blocks.ts';
import { clip, escape, FIELD_MAX, header, mrkdwn, SECTION_MAX } from './slack-blocks.ts';

const HEADLINES: Record<LedgerPayload['event'], (host: string) => string> = {
  spooling: (h) => `Ledger database unreachable on ${h}: rows spooled`,
  spool_full: (h) => `Ledger spool full on ${h}: model calls refused`,
  spool_failed: (h) => `Ledger rows cannot be written on ${h}: model calls refused`,
  replayed: (h) => `Ledger database back on ${h}: spool replayed`,
};

export function ledgerSlackBody(p: LedgerPayload): SlackBody {
  const headline = HEADLINES[p.event](p.host);
  const s = p.spool;
  const blocks: SlackBlock[] = [
    header(headline),
    {
      type: 'section',
      text: mrkdwn(clip(escape(p.summary), SECTION_MAX)),
      fields: [
        mrkdwn(`*Database*\n${DATABASE_NAMES[p.database]}`),
        mrkdwn(clip(`*Host*\n\`${escape(p.host)}\``, FIELD_MAX)),
        mrkdwn(clip(`*Spool*\n\`${escape(s.path)}\``, FIELD_MAX)),
        mrkdwn(`*Size*\n${bytesShort(s.bytes)} of ${bytesShort(s.max_bytes)}`),
        mrkdwn(`*Rows ${p.event === 'replayed' ? 'replayed' : 'spooled'}*\n${s.rows.toLocaleString('en')}`),
      ],
    },
    { type: 'context', elements: [mrkdwn(clip(`${escape(p.detail)} · outage \`${p.outage_id}\``, FIELD_MAX))] },
  ];
  return { text: `[Tollgate] ${headline}. ${p.summary}`, blocks };
}
