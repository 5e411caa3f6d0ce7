import { describe, expect, it } from 'vitest';
import { parseConfig } from './load-config.ts';
import { decryptSecret, encryptSecret, newMasterKey, parseMasterKey } from './secret-box.ts';

describe('secrets encrypted at rest in the config', () => {
  const master = newMasterKey();
  const key = parseMasterKey(master);

  it('round-trips, with a fresh IV each time, and never holds the plain text', () => {
    const a = encryptSecret('sk-live-provider-secret', key);
    const b = encryptSecret('sk-live-provider-secret', key);
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(a.startsWith(`enc:v1:${key.id}:`)).toBe(true);
    expect(decryptSecret(a, [key], 'x')).toBe('sk-live-provider-secret');
  });

  it('accepts hex and base64 master keys, refuses anything else', () => {
    expect(parseMasterKey('ab'.repeat(32)).key.length).toBe(32);
    expect(() => parseMasterKey('too-short')).toThrow(/32 random bytes/);
  });

  it('decrypts provider keys in tollgate.yaml with the master key from the environment', () => {
    const enc = encryptSecret('sk-upstream-123', key);
    const yaml = `providers:\n  openai:\n    base_url: https://api.openai.com/v1\n    api_key: ${enc}\n`;
    const { config } = parseConfig(yaml, 'tollgate.yaml', { TOLLGATE_MASTER_KEY: master });
    expect(config.providers?.['openai']?.api_key).toBe('sk-upstream-123');
  });

  it('says which key is missing, and names the setting, never the value', () => {
    const enc = encryptSecret('sk-upstream-123', key);
    const yaml = `providers:\n  openai:\n    base_url: https://api.openai.com/v1\n    api_key: ${enc}\n`;
    expect(() => parseConfig(yaml, 'tollgate.yaml', {})).toThrow(`tollgate.yaml: providers.openai.api_key is encrypted with master key ${key.id}, but TOLLGATE_MASTER_KEY is not set`);
    const other = newMasterKey();
    expect(() => parseConfig(yaml, 'tollgate.yaml', { TOLLGATE_MASTER_KEY: other })).toThrow(/master keys set have id/);
    // During a rotation the previous key still decrypts.
    expect(parseConfig(yaml, 'tollgate.yaml', { TOLLGATE_MASTER_KEY: other, TOLLGATE_MASTER_KEY_PREVIOUS: master }).config.providers?.['openai']?.api_key).toBe('sk-upstream-123');
  });

  it('refuses a tampered value', () => {
    const enc = encryptSecret('sk-upstream-123', key);
    const last = enc.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${enc.slice(0, -2)}${last}${enc.at(-1)}`;
    expect(() => decryptSecret(tampered, [key], 'providers.openai.api_key')).toThrow(/does not decrypt/);
  });
});
