/**
 * One ledger event as one line of the spool file: JSON with the two nano-USD amounts as decimal
 * strings (JSON has no bigint, and a double would round them).
 */
import type { LedgerEvent } from '../contract.ts';

/** The event as one JSON line, newline included. */
export function eventLine(e: LedgerEvent): string {
  return JSON.stringify({ ...e, listCostNano: e.listCostNano.toString(), effectiveCostNano: e.effectiveCostNano.toString() }) + '\n';
}

/** Parses one spool line back into an event; throws on anything that is not one. */
export function parseEventLine(line: string): LedgerEvent {
  const o = JSON.parse(line) as Record<string, unknown>;
  const { id, listCostNano, effectiveCostNano } = o;
  if (typeof id !== 'string' || typeof listCostNano !== 'string' || typeof effectiveCostNano !== 'string' || typeof o['chain'] !== 'object' || typeof o['usage'] !== 'object') {
    throw new Error('not a spooled ledger event (id, chain, usage and the two cost amounts are required)');
  }
  return { ...(o as unknown as LedgerEvent), listCostNano: BigInt(listCostNano), effectiveCostNano: BigInt(effectiveCostNano) };
}
