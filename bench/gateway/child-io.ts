/**
 * The child side of the benchmark's process protocol: announce a JSON line on stdout, answer
 * one-line commands from stdin with one JSON line each, and clean up on SIGTERM, SIGINT or when
 * the parent goes away (stdin closes).
 */
import { createInterface } from 'node:readline';

export function serve(announce: Record<string, unknown>, cleanup: () => Promise<void>, commands: Record<string, () => Promise<unknown>> = {}): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // process.exit (not a kill) so that --cpu-prof gets to write its profile.
    cleanup().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const run = commands[line.trim()];
    const reply = run ? run() : Promise.resolve({ error: `unknown command ${line}` });
    reply.then(
      (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
      (err: unknown) => process.stdout.write(`${JSON.stringify({ error: String(err) })}\n`),
    );
  });
  lines.once('close', stop);
  process.stdout.write(`${JSON.stringify(announce)}\n`);
}
