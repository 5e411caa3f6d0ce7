/**
 * Reads token counts out of an untrusted usage object. Instead of throwing, every bad value is noted as
 * a problem and salvaged as the nearest count that can be billed (see `salvageCount`), so an absurd
 * report becomes a suspicious ledger row rather than a crash or a silently wrong bill.
 */
import { asObject, describeValue } from './json-object.ts';

/** No single call reports a billion tokens: anything above is treated as corrupt. */
export const MAX_TOKEN_COUNT = 1_000_000_000;

/**
 * What a count that cannot be read at all (a word, a boolean, an object, missing) is salvaged as: the
 * most any call may report. The gateway clamps every salvaged count to the request's own bound, so an
 * unreadable count is billed as the most that request could have used, never more.
 */
export const UNKNOWN_COUNT = MAX_TOKEN_COUNT;

/**
 * The billable count nearest to a bad value: a negative one is 0, a fraction is rounded up (the
 * provider never bills part of a token), anything past `MAX_TOKEN_COUNT` (Infinity included) is
 * `MAX_TOKEN_COUNT`, a numeric string is read as its number, anything else is `UNKNOWN_COUNT`.
 */
export function salvageCount(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isNaN(n)) return UNKNOWN_COUNT;
  if (n <= 0) return 0;
  return n >= MAX_TOKEN_COUNT ? MAX_TOKEN_COUNT : Math.ceil(n);
}

export class CountReader {
  readonly #obj: Record<string, unknown>;
  readonly #path: string;
  readonly #problems: string[];

  private constructor(obj: Record<string, unknown>, path: string, problems: string[]) {
    this.#obj = obj;
    this.#path = path;
    this.#problems = problems;
  }

  /** A reader over `value`; null when it is absent (undefined/null), or when it is not an object (noted). */
  static of(value: unknown, path: string, problems: string[]): CountReader | null {
    if (value === undefined || value === null) return null;
    const obj = asObject(value);
    if (obj === null) {
      problems.push(`${path} is not an object: ${describeValue(value)}`);
      return null;
    }
    return new CountReader(obj, path, problems);
  }

  /** The count under `key`, or null when absent or null. A present but invalid value is noted and salvaged. */
  maybe(key: string): number | null {
    const v = this.#obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TOKEN_COUNT) {
      this.#problems.push(`${this.#path}.${key} is not a token count: ${describeValue(v)}`);
      return salvageCount(v);
    }
    return v;
  }

  /** The count under `key`, 0 when absent. */
  optional(key: string): number {
    return this.maybe(key) ?? 0;
  }

  /** The count under `key`; its absence is noted as a problem and salvaged as `UNKNOWN_COUNT`. */
  required(key: string): number {
    const v = this.maybe(key);
    if (v === null) this.#problems.push(`${this.#path}.${key} is missing`);
    return v ?? UNKNOWN_COUNT;
  }

  /** A reader over the nested object under `key` (e.g. `prompt_tokens_details`). */
  child(key: string): CountReader | null {
    return CountReader.of(this.#obj[key], `${this.#path}.${key}`, this.#problems);
  }
}
