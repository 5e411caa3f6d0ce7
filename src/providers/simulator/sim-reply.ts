import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Usage } from '../../domain/usage.ts';
import { anthropicError, openaiError } from './api-error.ts';
import type { SimControls } from './sim-controls.ts';
import type { SimAnswer } from './sim-endpoint.ts';
import type { SimulatedCall } from './simulated-call.ts';

/** Writes one answer and keeps its record in step. */
export class SimReply {
  closed = false;
  readonly #res: ServerResponse;
  readonly #call: SimulatedCall;
  readonly #dialect: 'openai' | 'anthropic';
  readonly #requestId: string;
  readonly #record: boolean;

  constructor(res: ServerResponse, call: SimulatedCall, dialect: 'openai' | 'anthropic', seq: number, record: boolean) {
    this.#res = res;
    this.#call = call;
    this.#dialect = dialect;
    this.#requestId = `req_sim${seq}`;
    this.#record = record;
  }

  onClose(): void {
    this.closed = true;
    if (!this.#call.completed && !this.#call.broken) this.#call.disconnected = true;
  }

  error(status: number, message: string): void {
    const body = this.#dialect === 'anthropic' ? anthropicError(status, message, this.#requestId) : openaiError(status, message);
    this.#send(status, JSON.stringify(body));
  }

  json(answer: Extract<SimAnswer, { kind: 'json' }>, controls: SimControls): void {
    if (controls.failAfter !== null) return this.#break();
    // Recorded before the bytes leave: a client that has the answer always finds it in `calls`.
    this.#call.usage = answer.usage;
    this.#send(200, JSON.stringify(answer.body));
  }

  async stream(answer: Extract<SimAnswer, { kind: 'stream' }>, usage: Usage, controls: SimControls): Promise<void> {
    const res = this.#res;
    this.#call.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...this.#idHeader() });
    let flushed: Promise<void> = Promise.resolve();
    for (let i = 0; i < answer.events.length; i++) {
      if (i > 0 && controls.chunkDelayMs > 0) await sleep(controls.chunkDelayMs);
      if (this.closed) return;
      if (i === controls.failAfter) {
        // Let the chunks already written reach the socket, or the cut would land earlier than asked.
        await flushed;
        return this.#break();
      }
      if (i === controls.errorAfter) {
        this.#write(answer.errorEvent);
        this.#call.completed = true;
        res.end();
        return;
      }
      const event = answer.events[i];
      if (event === undefined) break;
      if (event.reportsUsage === true) this.#call.usage = usage;
      // Only a planned cut needs to know when bytes reached the socket.
      if (controls.failAfter === null) this.#write(event.text);
      else flushed = new Promise((resolve) => this.#write(event.text, resolve));
    }
    if (controls.failAfter !== null && controls.failAfter === answer.events.length && !this.closed) {
      await flushed;
      return this.#break();
    }
    if (this.closed) return;
    this.#call.completed = true;
    res.end();
  }

  #write(text: string, onFlushed?: () => void): void {
    if (this.#record) this.#call.sent += text;
    this.#res.write(text, onFlushed === undefined ? undefined : () => onFlushed());
  }

  #send(status: number, text: string): void {
    if (this.closed) return;
    this.#call.status = status;
    if (this.#record) this.#call.sent = text;
    this.#call.completed = true;
    this.#res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...this.#idHeader() });
    this.#res.end(text);
  }

  #break(): void {
    this.#call.broken = true;
    this.#res.destroy();
  }

  #idHeader(): Record<string, string> {
    return this.#dialect === 'anthropic' ? { 'request-id': this.#requestId } : { 'x-request-id': this.#requestId };
  }
}
