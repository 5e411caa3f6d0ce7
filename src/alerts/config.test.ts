import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { alertsConfigSchema } from './config.ts';

describe('alerts config', () => {
  it('defaults to no sinks', () => {
    expect(alertsConfigSchema.parse({})).toEqual({ webhooks: [], slack: [] });
  });

  it('refuses a short or empty secret without printing it, and URLs that are not http(s)', () => {
    const secret = 'short-secret';
    const r = alertsConfigSchema.safeParse({ webhooks: [{ url: 'https://hooks.example.com/x', secret }] });
    expect(r.success).toBe(false);
    const msg = z.prettifyError(r.error!);
    expect(msg).toContain('a webhook secret must be at least 16 characters (is its ${VAR} set?)');
    expect(msg).toContain('webhooks[0].secret');
    expect(msg).not.toContain(secret);
    const slackPath = '/services/T0/B0/sekrit';
    const bad = alertsConfigSchema.safeParse({ slack: [{ url: `ftp://hooks.slack.com${slackPath}` }], dashboard_url: 'nope' });
    const badMsg = z.prettifyError(bad.error!);
    expect(badMsg).toContain('a slack url must be an http(s) URL');
    expect(badMsg).toContain('alerts.dashboard_url must be an http(s) URL');
    expect(badMsg).not.toContain('sekrit');
    expect(alertsConfigSchema.safeParse({ webhook: [] }).success).toBe(false);
    expect(alertsConfigSchema.safeParse({ retry: { max_attempts: 0 } }).success).toBe(false);
  });
});
