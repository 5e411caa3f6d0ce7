/**
 * Finds, reads, expands and validates the config file. `${VAR}` and `${VAR:-default}` in string
 * values are replaced from the environment; unset variables are reported, not guessed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TollgateError } from '../domain/errors.ts';
import type { TollgateConfig } from './config-schema.ts';
import { configSchema } from './config-schema.ts';

export interface LoadedConfig {
  config: TollgateConfig;
  /** The file read, or null when running on defaults. */
  file: string | null;
  /** Environment variables the file names that are not set (their values expand to ""). */
  unsetEnv: string[];
}

export function loadConfig(explicit?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  // An empty value (TOLLGATE_CONFIG= in a compose file) means "not set", not "read the current directory".
  const candidate = nonEmpty(explicit) ?? nonEmpty(env['TOLLGATE_CONFIG']) ?? (existsSync('tollgate.yaml') ? 'tollgate.yaml' : undefined);
  if (candidate === undefined) return { config: {}, file: null, unsetEnv: [] };
  const file = resolve(candidate);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TollgateError('invalid_request', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { ...parseConfig(text, file, env), file };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Omit<LoadedConfig, 'file'> {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new TollgateError('invalid_request', `${source}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const unset = new Set<string>();
  const expanded = expand(raw, env, unset);
  const parsed = configSchema.safeParse(expanded);
  if (!parsed.success) {
    throw new TollgateError('invalid_request', `${source}: invalid config:\n${z.prettifyError(parsed.error)}`);
  }
  return { config: parsed.data, unsetEnv: [...unset] };
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function expand(value: unknown, env: NodeJS.ProcessEnv, unset: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      unset.add(name);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => expand(v, env, unset));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, env, unset)]));
  }
  return value;
}
