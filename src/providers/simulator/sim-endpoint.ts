import type { Usage } from '../../domain/usage.ts';
import type { ApiRoute } from '../contract.ts';
import type { SimPlan } from './sim-plan.ts';

/** Every route the simulator serves: the proxied APIs plus two that generate nothing. */
export type SimRoute = ApiRoute | 'openai.models' | 'anthropic.count_tokens';

/** One SSE event, ready to write. */
export interface SimEvent {
  text: string;
  /** This event carries the call's final usage: once it is written, the upstream has reported `plan.usage`. */
  reportsUsage?: boolean;
}

export type SimAnswer =
  | { kind: 'json'; body: unknown; usage: Usage | null }
  | { kind: 'stream'; events: SimEvent[]; errorEvent: string };

/** One simulated API: a pure function from request to answer; the server does all the I/O. */
export interface SimEndpoint {
  route: SimRoute;
  method: 'GET' | 'POST';
  /** Error shape and credential header. */
  dialect: 'openai' | 'anthropic';
  answer(body: Record<string, unknown>, plan: SimPlan): SimAnswer;
}

/** `data: …` with an optional `event:` line, as both providers frame their events. */
export function sseEvent(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return event === undefined ? `data: ${payload}\n\n` : `event: ${event}\ndata: ${payload}\n\n`;
}
