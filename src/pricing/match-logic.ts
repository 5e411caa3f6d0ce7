/** genai-prices' model and provider match clauses, evaluated the way the library does. */
import type { MatchLogic } from '@pydantic/genai-prices';

const regexes = new Map<string, RegExp>();

/**
 * True when `name` satisfies `logic`. String clauses compare case-insensitively; `name` is expected
 * lower-cased already (as the library does before matching), and regex clauses run as written.
 */
export function matchesLogic(logic: MatchLogic, name: string): boolean {
  if ('or' in logic) return logic.or.some((l) => matchesLogic(l, name));
  if ('and' in logic) return logic.and.every((l) => matchesLogic(l, name));
  if ('equals' in logic) return name === logic.equals.toLowerCase();
  if ('starts_with' in logic) return name.startsWith(logic.starts_with.toLowerCase());
  if ('ends_with' in logic) return name.endsWith(logic.ends_with.toLowerCase());
  if ('contains' in logic) return name.includes(logic.contains.toLowerCase());
  if ('regex' in logic) return regex(logic.regex).test(name);
  return false;
}

function regex(source: string): RegExp {
  let re = regexes.get(source);
  if (!re) {
    re = new RegExp(source);
    regexes.set(source, re);
  }
  return re;
}

const COMPACT_DATE = /-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

/**
 * `claude-x-20250929` → `claude-x-2025-09-29`: the catalog sometimes lists only one spelling of a
 * dated snapshot, so the library retries with this form. Impossible dates are left alone.
 */
export function dashDateSuffix(name: string): string {
  return name.replace(COMPACT_DATE, (whole: string, y: string, m: string, d: string) => {
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d) ? `-${y}-${m}-${d}` : whole;
  });
}
