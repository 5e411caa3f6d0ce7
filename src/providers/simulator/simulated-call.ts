import type { IncomingMessage } from 'node:http';
import type { Usage } from '../../domain/usage.ts';
import type { SimRoute } from './sim-endpoint.ts';

/** One call as the simulator saw and answered it. Filled in as the call progresses. */
export interface SimulatedCall {
  /** The API called; null for an unknown path. */
  route: SimRoute | null;
  method: string;
  path: string;
  /**
   * The credential received, as sent: the `x-api-key` value on Anthropic routes when present, else the
   * whole `Authorization` value (`Bearer …`; Anthropic's SDK 1.x sends its API key that way too).
   */
  auth: string | null;
  headers: IncomingMessage['headers'];
  /** The parsed JSON request body ({} for GET). */
  body: unknown;
  model: string | null;
  stream: boolean;
  status: number;
  /** The usage the simulator reported, in the ledger's shape; null until (unless) it was sent. */
  usage: Usage | null;
  /** The usage the simulator meant to report had the call run to the end. */
  planned: Usage | null;
  /** Exactly the body text sent (the whole SSE text for a stream). */
  sent: string;
  /** The simulator ended the response itself (normally, or after a mid-stream error event). */
  completed: boolean;
  /** The connection was broken on purpose (`x-sim-fail-after`). */
  broken: boolean;
  /** The client went away before the response was complete. */
  disconnected: boolean;
}
