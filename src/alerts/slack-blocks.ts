/**
 * The parts of a Slack incoming-webhook body the alert renderers share, and Slack's limits.
 * https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks
 */

export interface SlackBody {
  text: string;
  blocks: SlackBlock[];
}

export type SlackText = { type: 'mrkdwn' | 'plain_text'; text: string };
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** Slack's limits: a header's text, a section's text (a field's is 2000). */
export const HEADER_MAX = 150;
export const SECTION_MAX = 3000;
export const FIELD_MAX = 2000;

export function header(text: string): SlackBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, HEADER_MAX) } };
}

export function mrkdwn(text: string): SlackText {
  return { type: 'mrkdwn', text };
}

/** Slack's mrkdwn control characters. */
export function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `2026-11-03T02:00:00.000Z` → `2026-11-03T02:00:00Z`. */
export function shortTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}
