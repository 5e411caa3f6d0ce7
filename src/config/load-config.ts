/**
 * Finds, reads, expands and validates the config file. `${VAR}` and `${VAR:-default}` in string
 * values are replaced from the environment; unset variables are reported, not guessed. Values
 * written `enc:v1:…` (see secret-box.ts) are decrypted with the master key from the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TollgateError } from '../domain/errors.ts';
import type { TollgateConfig } from './config-schema.ts';
import { configSchema } from './config-schema.ts';
import type { MasterKey } from './secret-box.ts';
import { decryptSecret, isEncrypted, masterKeysFrom } from './secret-box.ts';

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
  const expanded = decryptAll(expand(raw, env, unset), masterKeysFrom(env), source, []);
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

/** Replaces every `enc:v1:` string with its plain text; errors name the setting (never its value). */
function decryptAll(value: unknown, keys: readonly MasterKey[], source: string, path: string[]): unknown {
  if (typeof value === 'string') return isEncrypted(value) ? decryptSecret(value, keys, `${source}: ${path.join('.')}`) : value;
  if (Array.isArray(value)) return value.map((v, i) => decryptAll(v, keys, source, [...path, String(i)]));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decryptAll(v, keys, source, [...path, k])]));
  }
  return value;
}
