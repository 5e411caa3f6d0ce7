/**
 * Reads token counts out of an untrusted usage object. Instead of throwing, every bad value is noted as
 * a problem (and read as 0), so an absurd report becomes a suspicious ledger row rather than a crash
 * or a silently wrong bill.
 */
import { asObject, describeValue } from './json-object.ts';

/** No single call reports a billion tokens: anything above is treated as corrupt. */
export const MAX_TOKEN_COUNT = 1_000_000_000;

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

  /** The count under `key`, or null when absent or null. A present but invalid value is noted and read as 0. */
  maybe(key: string): number | null {
    const v = this.#obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TOKEN_COUNT) {
      this.#problems.push(`${this.#path}.${key} is not a token count: ${describeValue(v)}`);
      return 0;
    }
    return v;
  }

  /** The count under `key`, 0 when absent. */
  optional(key: string): number {
    return this.maybe(key) ?? 0;
  }

  /** The count under `key`; its absence is noted as a problem. */
  required(key: string): number {
    const v = this.maybe(key);
    if (v === null) this.#problems.push(`${this.#path}.${key} is missing`);
    return v ?? 0;
  }

  /** A reader over the nested object under `key` (e.g. `prompt_tokens_details`). */
  child(key: string): CountReader | null {
    return CountReader.of(this.#obj[key], `${this.#path}.${key}`, this.#problems);
  }
}
