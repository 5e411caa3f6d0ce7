// Minimal types for the parts of autocannon 9's programmatic API the gateway benchmark uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    /** One load-generating connection; `responseMax` and `reqsMade` drive its request limit. */
    interface Client extends EventEmitter {
      responseMax: number;
      reqsMade: number;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      sampleInt?: number;
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      setupClient?: (client: Client) => void;
    }
    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
    }
    interface Instance extends EventEmitter {
      stop(): void;
    }
  }

  function autocannon(opts: autocannon.Options, cb: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export = autocannon;
}
