import { describe, expect, it } from 'vitest';
import { alertPayload } from '../../src/alerts/payload.ts';
import { slackBody } from '../../src/alerts/slack.ts';
import { sampleAlert } from './receiver.ts';

const NOW = Date.UTC(2026, 10, 3, 2, 6);

describe('slack body', () => {
  it('stays within Slack\'s limits whatever the data', () => {
    const path = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'd'.repeat(64)].join('/');
    const body = slackBody(alertPayload(sampleAlert({ path, summary: 'x'.repeat(5000) }), 'opened', { now: NOW }));
    const [header, summary] = body.blocks;
    expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect((header as { text: { text: string } }).text.text).toHaveLength(150);
    expect((summary as { text: { text: string } }).text.text).toHaveLength(3000);
    expect((summary as { text: { text: string } }).text.text.endsWith('…')).toBe(true);
  });

  it('never sends an empty section, and leaves out what is missing', () => {
    const a = sampleAlert({ summary: ' ' });
    const body = slackBody(alertPayload({ ...a, evidence: { ...a.evidence, comparisons: [], topModels: [], topTraces: [] } }, 'opened', { now: NOW }));
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect((body.blocks[1] as { text: { text: string } }).text.text).toBe('runaway loop on acme/support/helpdesk/triage-bot');
    // No dashboard configured: no link, the anomaly id still.
    expect(body.blocks[2]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'anomaly `anm_0123456789abcdef`' }] });
  });
});
