/**
 * Secrets in the config file encrypted at rest: `enc:v1:<key id>:<base64url of iv | ciphertext | tag>`,
 * AES-256-GCM under a master key that only the environment holds (TOLLGATE_MASTER_KEY, 32 bytes as
 * base64 or hex). A config file with provider credentials in it can then sit in a repository or a
 * config map without exposing them. `TOLLGATE_MASTER_KEY_PREVIOUS` still decrypts during a rotation.
 * The key id (first 4 bytes of the key's SHA-256) lets an error name which key a value needs.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { TollgateError } from '../domain/errors.ts';

export const ENCRYPTED_PREFIX = 'enc:v1:';
const AAD = Buffer.from('tollgate-config-secret-v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface MasterKey {
  id: string;
  key: Buffer;
}

/** Reads a master key written as 64 hex digits or 32 bytes of base64/base64url. */
export function parseMasterKey(text: string, name = 'TOLLGATE_MASTER_KEY'): MasterKey {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new TollgateError('invalid_request', `${name} must be 32 random bytes as 64 hex digits or base64 (make one with: tollgate secrets master-key)`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

/** A new random master key, base64url. */
export function newMasterKey(): string {
  return randomBytes(32).toString('base64url');
}

export function encryptSecret(plain: string, master: MasterKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master.key, iv);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${ENCRYPTED_PREFIX}${master.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

export function isEncrypted(value: string): boolean {
  return value.startsWith(ENCRYPTED_PREFIX);
}

/** Decrypts with whichever of the given keys the value names; errors say which key is needed. */
export function decryptSecret(value: string, keys: readonly MasterKey[], where: string): string {
  const rest = value.slice(ENCRYPTED_PREFIX.length);
  const colon = rest.indexOf(':');
  const id = rest.slice(0, colon);
  const blob = Buffer.from(rest.slice(colon + 1), 'base64url');
  if (colon <= 0 || blob.length < IV_BYTES + TAG_BYTES) throw new TollgateError('invalid_request', `${where}: malformed encrypted value (expected enc:v1:<key id>:<data> from tollgate secrets encrypt)`);
  const master = keys.find((k) => k.id === id);
  if (!master) {
    const have = keys.length === 0 ? 'TOLLGATE_MASTER_KEY is not set' : `the master keys set have id ${keys.map((k) => k.id).join(', ')}`;
    throw new TollgateError('invalid_request', `${where} is encrypted with master key ${id}, but ${have}; set TOLLGATE_MASTER_KEY (or TOLLGATE_MASTER_KEY_PREVIOUS during a rotation)`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', master.key, blob.subarray(0, IV_BYTES));
    decipher.setAAD(AAD);
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new TollgateError('invalid_request', `${where}: the encrypted value does not decrypt with master key ${id} (altered or truncated?)`, { cause: err });
  }
}

/** The master keys the environment holds: current first, then the previous one during a rotation. */
export function masterKeysFrom(env: NodeJS.ProcessEnv): MasterKey[] {
  const keys: MasterKey[] = [];
  for (const name of ['TOLLGATE_MASTER_KEY', 'TOLLGATE_MASTER_KEY_PREVIOUS']) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') keys.push(parseMasterKey(v, name));
  }
  return keys;
}
