import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { YAMLParseError } from 'yaml';
import { TollgateError } from '../domain/errors.ts';
import { loadConfig, parseConfig } from './load-config.ts';

function configError(fn: () => unknown): TollgateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).code).toBe('invalid_request');
    return err as TollgateError;
  }
  throw new Error('expected a TollgateError, nothing was thrown');
}

const yaml = (...lines: string[]) => lines.join('\n') + '\n';

describe('parseConfig: environment expansion', () => {
  it('replaces ${VAR} from the environment given', () => {
    const { config, unsetEnv } = parseConfig(yaml('database: ${DB}'), 'tollgate.yaml', { DB: '/var/lib/tollgate.db' });
    expect(config.database).toBe('/var/lib/tollgate.db');
    expect(unsetEnv).toEqual([]);
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty', () => {
    expect(parseConfig(yaml('database: ${DB:-tollgate.db}'), 'f', {}).config.database).toBe('tollgate.db');
    expect(parseConfig(yaml('database: ${DB:-tollgate.db}'), 'f', { DB: '' }).config.database).toBe('tollgate.db');
    expect(parseConfig(yaml('database: ${DB:-tollgate.db}'), 'f', { DB: 'other.db' }).config.database).toBe('other.db');
  });

  it('accepts an empty default without reporting the variable', () => {
    const { config, unsetEnv } = parseConfig(yaml('redis: "${REDIS:-}"'), 'f', {});
    expect(config.redis).toBe('');
    expect(unsetEnv).toEqual([]);
  });

  it('reports unset variables once each and expands them to ""', () => {
    const { config, unsetEnv } = parseConfig(
      yaml('database: "postgres://${PGUSER}:${PGPASS}@${PGHOST:-localhost}/tg"', 'redis: "redis://${PGUSER}@cache"'),
      'f',
      { PGPASS: 's3cret' },
    );
    expect(config.database).toBe('postgres://:s3cret@localhost/tg');
    expect(config.redis).toBe('redis://@cache');
    expect(unsetEnv).toEqual(['PGUSER']);
  });

  it('expands inside nested maps and lists', () => {
    const { config, unsetEnv } = parseConfig(
      yaml(
        'providers:',
        '  openai:',
        '    base_url: ${OPENAI_BASE:-https://api.openai.com/v1}',
        '    api_key: ${OPENAI_API_KEY}',
        '  anthropic:',
        '    base_url: https://api.anthropic.com',
        '    api_key: ${ANTHROPIC_API_KEY}',
        'pricing:',
        '  custom_models:',
        '    - provider: local',
        '      model: ${LOCAL_MODEL}',
        '      prices: { input_mtok: 0.5, output_mtok: 1 }',
      ),
      'f',
      { OPENAI_API_KEY: 'sk-test', LOCAL_MODEL: 'llama-3-8b' },
    );
    expect(config.providers?.['openai']).toEqual({ base_url: 'https://api.openai.com/v1', api_key: 'sk-test' });
    expect(config.providers?.['anthropic']?.api_key).toBe('');
    expect(config.pricing?.custom_models[0]?.model).toBe('llama-3-8b');
    expect(unsetEnv).toEqual(['ANTHROPIC_API_KEY']);
  });

  it('leaves text that is not a ${NAME} reference alone', () => {
    const { config, unsetEnv } = parseConfig(yaml('database: "$DB ${1BAD} ${} $${X:-y}"'), 'f', {});
    expect(config.database).toBe('$DB ${1BAD} ${} $y');
    expect(unsetEnv).toEqual([]);
  });

  it('does not read process.env when an environment is passed', () => {
    process.env['TOLLGATE_TEST_ONLY_VAR'] = 'from-process';
    try {
      const { config, unsetEnv } = parseConfig(yaml('database: ${TOLLGATE_TEST_ONLY_VAR}'), 'f', {});
      expect(config.database).toBe('');
      expect(unsetEnv).toEqual(['TOLLGATE_TEST_ONLY_VAR']);
    } finally {
      delete process.env['TOLLGATE_TEST_ONLY_VAR'];
    }
  });

  it('takes a port from the environment', () => {
    expect(parseConfig(yaml('server:', '  port: ${PORT}'), 'f', { PORT: '8080' }).config.server?.port).toBe(8080);
    expect(parseConfig(yaml('server:', '  port: ${PORT:-4000}'), 'f', {}).config.server?.port).toBe(4000);
    expect(parseConfig(yaml('server:', '  port: 0', '  host: 127.0.0.1'), 'f', {}).config.server).toEqual({ port: 0, host: '127.0.0.1' });
  });

  it.each([
    ['${PORT}', { PORT: 'http' }],
    ['${PORT}', {}],
    ['70000', {}],
    ['-1', {}],
    ['80.5', {}],
    ['"8080 x"', {}],
  ])('refuses the port %s', (value, env) => {
    const e = configError(() => parseConfig(yaml('server:', `  port: ${value}`), 'f', env));
    expect(e.message).toContain('port must be a whole number from 0 to 65535');
    expect(e.message).toContain('server.port');
  });
});

describe('parseConfig: validation', () => {
  it('treats an empty or comment-only file as all defaults', () => {
    expect(parseConfig('', 'f', {})).toEqual({ config: {}, unsetEnv: [] });
    expect(parseConfig('# nothing yet\n', 'f', {})).toEqual({ config: {}, unsetEnv: [] });
  });

  it('names the file and line of a YAML syntax error', () => {
    const text = yaml('server:', '  port: 8080', 'providers:', '  openai: [unclosed', 'database: x.db');
    const e = configError(() => parseConfig(text, '/etc/tollgate/tollgate.yaml', {}));
    expect(e.message).toMatch(/^\/etc\/tollgate\/tollgate\.yaml at line \d+: not valid YAML: /);
    const line = Number(/at line (\d+)/.exec(e.message)?.[1]);
    expect(line).toBeGreaterThanOrEqual(4);
    expect(line).toBeLessThanOrEqual(5);
    expect(e.message).not.toContain('\n');
    expect(e.cause).toBeInstanceOf(YAMLParseError);
  });

  it('names the line of a tab-indented mapping', () => {
    const e = configError(() => parseConfig('server:\n\tport: 1\n', 'tollgate.yaml', {}));
    expect(e.message).toMatch(/^tollgate\.yaml at line 2: not valid YAML/);
  });

  it('refuses unknown top-level keys, naming them', () => {
    const e = configError(() => parseConfig(yaml('database: x.db', 'databse: y.db'), 'tollgate.yaml', {}));
    expect(e.message).toContain('tollgate.yaml: invalid config');
    expect(e.message).toContain('Unrecognized key: "databse"');
  });

  it('refuses unknown keys in a section, naming the section', () => {
    const e = configError(() => parseConfig(yaml('server:', '  prot: 80'), 'f', {}));
    expect(e.message).toContain('"prot"');
    expect(e.message).toContain('server');
  });

  it('refuses a document that is not a map', () => {
    configError(() => parseConfig(yaml('- database: x'), 'f', {}));
    configError(() => parseConfig('just words\n', 'f', {}));
  });

  it.each(['ftp://files.example.com', 'not a url', 'api.openai.com/v1', ''])('refuses the provider base_url %j', (url) => {
    const e = configError(() => parseConfig(yaml('providers:', '  openai:', `    base_url: "${url}"`), 'f', {}));
    expect(e.message).toContain('base_url must be an http(s) URL');
    expect(e.message).toContain('providers.openai.base_url');
  });

  it('accepts http and https base URLs and the two wire formats', () => {
    const { config } = parseConfig(
      yaml('providers:', '  local:', '    base_url: http://127.0.0.1:8000/v1', '    api: openai', '  claude:', '    base_url: https://api.anthropic.com', '    api: anthropic'),
      'f',
      {},
    );
    expect(config.providers).toEqual({
      local: { base_url: 'http://127.0.0.1:8000/v1', api: 'openai' },
      claude: { base_url: 'https://api.anthropic.com', api: 'anthropic' },
    });
  });

  it('refuses a provider without base_url, an unknown wire format and a non-slug provider id', () => {
    expect(configError(() => parseConfig(yaml('providers:', '  openai:', '    api_key: k'), 'f', {})).message).toContain('base_url');
    expect(configError(() => parseConfig(yaml('providers:', '  g:', '    base_url: https://x.test', '    api: gemini'), 'f', {})).message).toContain('providers.g.api');
    const slug = configError(() => parseConfig(yaml('providers:', '  OpenAI:', '    base_url: https://x.test'), 'f', {}));
    expect(slug.message).toContain('provider ids are lower-case slugs');
    expect(slug.message).toContain('"OpenAI"');
  });

  it('passes a valid pricing section through its own schema', () => {
    const { config } = parseConfig(
      yaml(
        'pricing:',
        '  fallback: { input_mtok: 1, output_mtok: "2.5" }',
        '  discounts:',
        '    - provider: openai',
        '      model: "gpt-4o*"',
        '      percent: 15',
        '      from: 2026-01-01',
        '      until: 2026-07-01T00:00:00Z',
        '  custom_models:',
        '    - provider: local',
        '      model: llama-3-70b',
        '      from: 2026-02-01',
        '      prices: { input_mtok: 0.2, output_mtok: 0.6, requests_kcount: "0.01" }',
      ),
      'f',
      {},
    );
    const pricing = config.pricing;
    expect(pricing?.fallback).toEqual({ input_mtok: 1, output_mtok: '2.5' });
    expect(pricing?.discounts).toHaveLength(1);
    expect(pricing?.discounts[0]?.provider).toBe('openai');
    expect(pricing?.discounts[0]?.percent).toBe(15);
    expect(pricing?.discounts[0]?.from.getTime()).toBe(Date.UTC(2026, 0, 1));
    expect(pricing?.discounts[0]?.until?.getTime()).toBe(Date.UTC(2026, 6, 1));
    expect(pricing?.custom_models[0]?.from?.getTime()).toBe(Date.UTC(2026, 1, 1));
    expect(pricing?.custom_models[0]?.prices).toEqual({ input_mtok: 0.2, output_mtok: 0.6, requests_kcount: '0.01' });
  });

  it('fills pricing defaults', () => {
    expect(parseConfig(yaml('pricing: {}'), 'f', {}).config.pricing).toEqual({ discounts: [], custom_models: [] });
  });

  it('reports pricing mistakes with their path', () => {
    const e = configError(() => parseConfig(yaml('pricing:', '  fallback: { input: 1, output_mtok: 2 }'), 'f', {}));
    expect(e.message).toContain('unknown price key "input"');
    expect(e.message).toContain('pricing.fallback');
    const tooPrecise = configError(() => parseConfig(yaml('pricing:', '  fallback: { input_mtok: 0.0000000001, output_mtok: 2 }'), 'f', {}));
    expect(tooPrecise.message).toContain('at most 9 decimal places');
  });
});

describe('loadConfig', () => {
  let dir: string;
  let cwd: string;

  beforeEach(() => {
    cwd = process.cwd();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'tollgate-config-')));
  });

  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an explicit file, reporting its absolute path', () => {
    const file = join(dir, 'custom.yaml');
    writeFileSync(file, yaml('database: ${DB:-x.db}', 'redis: ${REDIS_URL}'));
    expect(loadConfig(file, {})).toEqual({ config: { database: 'x.db', redis: '' }, file, unsetEnv: ['REDIS_URL'] });
  });

  it('resolves a relative explicit path against the working directory', () => {
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'tg.yaml'), yaml('database: rel.db'));
    process.chdir(dir);
    const loaded = loadConfig('conf/tg.yaml', {});
    expect(loaded.file).toBe(join(dir, 'conf', 'tg.yaml'));
    expect(loaded.config.database).toBe('rel.db');
  });

  it('gives a clear error for an explicit file that does not exist', () => {
    const file = join(dir, 'missing.yaml');
    const e = configError(() => loadConfig(file, {}));
    expect(e.message).toContain(`cannot read config file ${file}`);
    expect(e.message).toContain('ENOENT');
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('names the file in a validation error', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, yaml('nonsense: true'));
    expect(configError(() => loadConfig(file, {})).message).toContain(`${file}: invalid config`);
  });

  it('uses TOLLGATE_CONFIG, and an explicit path over it', () => {
    const fromEnv = join(dir, 'env.yaml');
    const explicit = join(dir, 'explicit.yaml');
    writeFileSync(fromEnv, yaml('database: env.db'));
    writeFileSync(explicit, yaml('database: explicit.db'));
    expect(loadConfig(undefined, { TOLLGATE_CONFIG: fromEnv }).config.database).toBe('env.db');
    expect(loadConfig(explicit, { TOLLGATE_CONFIG: fromEnv }).config.database).toBe('explicit.db');
  });

  it('runs on defaults when there is no file at all', () => {
    process.chdir(dir);
    expect(loadConfig(undefined, {})).toEqual({ config: {}, file: null, unsetEnv: [] });
  });

  it('treats an empty TOLLGATE_CONFIG as unset rather than reading the directory', () => {
    process.chdir(dir);
    expect(loadConfig(undefined, { TOLLGATE_CONFIG: '' })).toEqual({ config: {}, file: null, unsetEnv: [] });
  });

  it('finds ./tollgate.yaml in the working directory', () => {
    writeFileSync(join(dir, 'tollgate.yaml'), yaml('database: local.db'));
    process.chdir(dir);
    expect(loadConfig(undefined, {})).toEqual({ config: { database: 'local.db' }, file: join(dir, 'tollgate.yaml'), unsetEnv: [] });
  });
});

describe('parseConfig: controls', () => {
  it('accepts a time zone, a lease and a Redis key prefix', () => {
    const { config } = parseConfig('controls:\n  time_zone: Europe/Paris\n  lease_ms: 30000\n  redis_prefix: tollgate-eu\n', 'f', {});
    expect(config.controls).toEqual({ time_zone: 'Europe/Paris', lease_ms: 30000, redis_prefix: 'tollgate-eu' });
  });

  it('refuses a lease under half a second and a prefix that would break the key layout', () => {
    expect(() => parseConfig('controls:\n  lease_ms: 10\n', 'f', {})).toThrow(TollgateError);
    expect(() => parseConfig('controls:\n  redis_prefix: "a}b"\n', 'f', {})).toThrow(/redis_prefix/);
  });
});
