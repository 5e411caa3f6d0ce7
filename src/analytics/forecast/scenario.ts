/**
 * The forecast's named inputs as people write them: a horizon (`3m`, `1y`), adoption growth
 * (`15%/month`, `40%/year`), a user count, the tiers to advise and the as-of day; and the users
 * each forecast month has.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { Tier } from '../../domain/scope.ts';
import { TIERS } from '../../domain/scope.ts';
import { DAY_MS } from './unit-series.ts';

export const MAX_HORIZON = 36;
export const MAX_USERS = 10_000_000;

/** `3m`, `12`, `1y` → months (1..36). `name` is how the caller's input names it, for the error. */
export function parseHorizon(text: string, name = 'horizon'): number {
  const m = /^(\d+)\s*(m|mo|months?|y|yr|years?)?$/i.exec(text.trim());
  const months = m ? Number(m[1]) * (/^y/i.test(m[2] ?? '') ? 12 : 1) : NaN;
  if (!Number.isInteger(months) || months < 1 || months > MAX_HORIZON) {
    throw new TollgateError('invalid_request', `cannot read ${name} "${text}": write months like 3m or 12m, or 1y (1 to ${MAX_HORIZON} months)`);
  }
  return months;
}

/** `15%/month`, `15%`, `-5%/month`, `40%/year`, `0` → monthly rate (0.15). */
export function parseGrowth(text: string, name = 'growth'): number {
  const t = text.trim();
  if (t === '0') return 0;
  const m = /^([+-]?\d+(?:\.\d+)?)\s*%\s*(?:\/\s*(month|mo|year|yr))?$/i.exec(t);
  const pct = m ? Number(m[1]) : NaN;
  if (!m || !(pct > -100) || pct > 1000) {
    throw new TollgateError('invalid_request', `cannot read ${name} "${text}": write a percentage per month or year, e.g. 15%/month, -5%/month or 40%/year`);
  }
  const rate = pct / 100;
  return /^y/i.test(m[2] ?? '') ? Math.pow(1 + rate, 1 / 12) - 1 : rate;
}

export function parseUsers(text: string, name = '--users'): number {
  const n = /^\d[\d_,]*$/.test(text.trim()) ? Number(text.trim().replace(/[_,]/g, '')) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_USERS) throw new TollgateError('invalid_request', `${name} is a whole number from 1 to ${MAX_USERS.toLocaleString('en')}, got "${text}"`);
  return n;
}

/** `share` as `0.15` or `15%`, 0..1. */
export function parseShare(text: string, name = '--frontier-share'): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%)?$/.exec(t);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) throw new TollgateError('invalid_request', `${name} is a share of tokens from 0 to 1 (0.15 or 15%), got "${text}"`);
  return v;
}

/** Active units per forecast month: `first` in month 1, then compounding `growth` a month. */
export function userSchedule(first: number, growth: number, horizon: number): number[] {
  return Array.from({ length: horizon }, (_, m) => Math.max(1, Math.round(first * Math.pow(1 + growth, m))));
}

/** Tiers to advise budgets for: a comma-separated list of org, team, project, agent. */
export function parseTiers(text: string, name = '--tiers'): Set<Tier> {
  const list = text.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) if (!(TIERS as readonly string[]).includes(t)) throw new TollgateError('invalid_request', `${name} lists tiers among ${TIERS.join(', ')}, got "${t}"`);
  return new Set(list as Tier[]);
}

/** A day like `2026-05-01` (UTC) → days since the epoch. */
export function parseDay(text: string, name: string): number {
  const t = text.trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(t) ? Date.parse(`${t}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== t) throw new TollgateError('invalid_request', `${name} is a day like 2026-05-01, got "${text}"`);
  return ms / DAY_MS;
}
