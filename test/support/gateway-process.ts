/**
 * `tollgate serve` as a real child process on 127.0.0.1 port 0, for tests that kill it: crash
 * safety, outages, graceful stop. Children still running when the test process exits are SIGKILLed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tollgate.js', import.meta.url));
const STARTUP_MS = 30_000;
const running = new Set<() => void>();
process.once('exit', () => killAllGateways());

/** SIGKILLs every gateway process still running (a test's `finally`, so a failed test leaves none behind). */
export function killAllGateways(): void {
  for (const kill of running) kill();
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcess {
  url: string;
  pid: number;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** The JSON log lines printed so far (pino: `level` 50 error, 40 warn). */
  logs(): { level: number; msg: string; [field: string]: unknown }[];
  /** Sends a signal (if still running); resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  exited: Promise<Exit>;
}

/** What `writeServeConfig` puts in a gateway child's config. */
export interface ServeConfig {
  /** The simulator's base URL: it serves the `openai` provider. */
  simUrl: string;
  /** The ledger spool's directory, and its timings when the test needs them short. */
  spool: { dir: string; retryMs?: number; writeTimeoutMs?: number };
  /** More top-level YAML lines (e.g. `alerts:`, `controls:`, `gateway:` sections). */
  more?: readonly string[];
}

/**
 * Writes `dir/tollgate.yaml` for a gateway child and returns its path: OpenAI served by the
 * simulator, anomaly detection off (none of these tests is about it), the ledger spooled to a
 * directory the test can read.
 */
export function writeServeConfig(dir: string, config: ServeConfig): string {
  const { spool } = config;
  const spoolFields = [`dir: "${spool.dir}"`, ...(spool.retryMs === undefined ? [] : [`retry_ms: ${spool.retryMs}`]), ...(spool.writeTimeoutMs === undefined ? [] : [`write_timeout_ms: ${spool.writeTimeoutMs}`])];
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      `  openai: { base_url: "${config.simUrl}/v1", api_key: sk-sim }`,
      'anomalies:',
      '  enabled: false',
      ...(config.more ?? []),
      'ledger:',
      `  spool: { ${spoolFields.join(', ')} }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Starts `tollgate serve --port 0` with `env` added to this process's environment; resolves once it listens. */
export async function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: { ...process.env, TOLLGATE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  running.add(killNow);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(killNow);
      resolve({ code, signal });
    }),
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`printed no URL within ${STARTUP_MS} ms`), STARTUP_MS);
    const onData = () => {
      const m = /Tollgate gateway on (http:\/\/\S+)/.exec(out);
      if (m) done(() => resolve(m[1]!));
    };
    const onExit = (code: number | null) => fail(`exited with ${code} before listening`);
    const done = (then: () => void) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      then();
    };
    function fail(why: string) {
      done(() => {
        killNow();
        reject(new Error(`tollgate serve ${why}:\n${out}`));
      });
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
  return {
    url,
    pid: child.pid!,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as { level: number; msg: string }];
          } catch {
            return [];
          }
        }),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}
