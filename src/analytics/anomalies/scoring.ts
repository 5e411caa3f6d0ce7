/**
 * Scores the detector's alerts against labelled incidents.
 *
 * An incident is detected when an alert of its own signal opens on its agent (or the agent's
 * project or team) between its start and 30 minutes after its end; the delay is from its start to
 * the first such alert. An alert is a true positive when an incident it can stand for holds on its
 * scope (the agent, or one beneath it) from 10 minutes before it opens to an hour after the
 * incident ends: the same signal, or a spend spike during a loop, a bloat or a price shift (spend
 * did spike). Anything else is a false alert.
 */
import type { Finding, Signal } from './contract.ts';
import { SIGNALS } from './contract.ts';
import type { Incident } from './synthetic.ts';

const DETECT_GRACE_MS = 30 * 60_000;
const MATCH_BEFORE_MS = 10 * 60_000;
const MATCH_AFTER_MS = 60 * 60_000;

export interface SignalScore {
  signal: Signal | 'all';
  injected: number;
  detected: number;
  recall: number;
  alerts: number;
  truePositives: number;
  precision: number;
  /** Detection delays of the detected incidents, minutes, ascending. */
  delaysMin: number[];
}

export interface Score {
  bySignal: SignalScore[];
  all: SignalScore;
  /** Incidents missed, for a closer look. */
  missed: Incident[];
  /** Alerts that matched no incident. */
  falseAlerts: Finding[];
}

function covers(alertPath: string, agentPath: string): boolean {
  return agentPath === alertPath || agentPath.startsWith(`${alertPath}/`);
}

function standsFor(alert: Signal, incident: Signal): boolean {
  return alert === incident || (alert === 'spend_spike' && incident !== 'silent_stop');
}

/** `opened`: every finding as it opened (its `at` is when). */
export function scoreAlerts(incidents: readonly Incident[], opened: readonly Finding[]): Score {
  const bySignal = new Map<Signal, SignalScore>();
  for (const signal of SIGNALS) bySignal.set(signal, { signal, injected: 0, detected: 0, recall: 1, alerts: 0, truePositives: 0, precision: 1, delaysMin: [] });
  const missed: Incident[] = [];
  for (const i of incidents) {
    const row = bySignal.get(i.signal)!;
    row.injected += 1;
    let first = Number.POSITIVE_INFINITY;
    for (const f of opened) {
      if (f.signal === i.signal && covers(f.path, i.path) && f.at >= i.start && f.at <= i.end + DETECT_GRACE_MS) first = Math.min(first, f.at);
    }
    if (Number.isFinite(first)) {
      row.detected += 1;
      row.delaysMin.push((first - i.start) / 60_000);
    } else {
      missed.push(i);
    }
  }
  const falseAlerts: Finding[] = [];
  for (const f of opened) {
    const row = bySignal.get(f.signal)!;
    row.alerts += 1;
    const hit = incidents.some((i) => standsFor(f.signal, i.signal) && covers(f.path, i.path) && f.at >= i.start - MATCH_BEFORE_MS && f.at <= i.end + MATCH_AFTER_MS);
    if (hit) row.truePositives += 1;
    else falseAlerts.push(f);
  }
  const all: SignalScore = { signal: 'all', injected: 0, detected: 0, recall: 1, alerts: 0, truePositives: 0, precision: 1, delaysMin: [] };
  for (const row of bySignal.values()) {
    row.delaysMin.sort((a, b) => a - b);
    row.recall = row.injected > 0 ? row.detected / row.injected : 1;
    row.precision = row.alerts > 0 ? row.truePositives / row.alerts : 1;
    all.injected += row.injected;
    all.detected += row.detected;
    all.alerts += row.alerts;
    all.truePositives += row.truePositives;
    all.delaysMin.push(...row.delaysMin);
  }
  all.delaysMin.sort((a, b) => a - b);
  all.recall = all.injected > 0 ? all.detected / all.injected : 1;
  all.precision = all.alerts > 0 ? all.truePositives / all.alerts : 1;
  return { bySignal: [...bySignal.values()], all, missed, falseAlerts };
}

/** Median of an ascending list (NaN when empty). */
export function medianOf(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}
