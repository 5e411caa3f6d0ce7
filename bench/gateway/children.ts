/**
 * The parent side of the process protocol: start a benchmark child (`node --import tsx <script>`),
 * wait for its JSON announcement, send it one-line commands, and stop every child, always.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Child {
  info: Record<string, unknown>;
  url: string;
  /** Sends one command line; resolves with the child's one-line JSON answer. */
  ask(command: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const TIMEOUT_MS = 30_000;

export async function startChild(script: string, args: string[] = [], nodeFlags: string[] = []): Promise<Child> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  // Only JSON lines are protocol; anything else a library prints is passed through for people.
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (line.startsWith('{')) waiting.shift()?.resolve(JSON.parse(line) as Record<string, unknown>);
    else console.error(`[${script}] ${line}`);
  });
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited (${code}) before answering`));
  });
  const next = (what: string) => withTimeout(new Promise<Record<string, unknown>>((resolve, reject) => waiting.push({ resolve, reject })), `${script}: ${what}`);
  const info = await next('announcing itself');
  return {
    info,
    url: String(info['url']),
    ask(command) {
      const answer = next(`answering "${command}"`);
      proc.stdin.write(`${command}\n`);
      return answer;
    },
    stop: () => stopProcess(proc),
  };
}

/** Stops every child still running (on success, error and SIGINT alike). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopProcess));
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  // A child that will not clean up in 5 s is killed outright.
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
