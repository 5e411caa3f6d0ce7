/**
 * Safe access to untrusted JSON: upstream bodies and stream events are read without casts and
 * without throwing, whatever shape they arrive in.
 */

/** A plain JSON object, or null for anything else (arrays included). */
export function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** A string value, or null. */
export function stringOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Parses an SSE `data:` payload as a JSON object; null when it is not one. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  // Cheap pre-check: most non-JSON payloads ([DONE], keep-alives) are rejected without a throw.
  if (text.length === 0 || text.charCodeAt(0) !== 123 /* { */) return null;
  try {
    const value: unknown = JSON.parse(text);
    return asObject(value);
  } catch {
    return null; // a malformed event is not ours to fail on: the client sees it as the provider sent it
  }
}

/** Longest string quoted in a suspicious-usage reason: enough for "1200" or "twelve", too short to carry a credential. */
const QUOTED_CHARS = 16;

/**
 * A short printable form of an unexpected value, for suspicious-usage reasons (logged and stored in
 * the row's tags). A longer string is only measured: an upstream that echoes what it was sent must
 * not get a credential into the logs.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length > QUOTED_CHARS ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
