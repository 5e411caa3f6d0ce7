import type { Usage } from '../domain/usage.ts';
import { validateUsage } from '../domain/usage.ts';
import type { UsageCapture } from './contract.ts';

/** Turns counts read from a provider into a capture: trusted only when nothing was wrong with them. */
export function captureUsage(usage: Usage, servedModel: string | null, problems: readonly string[]): UsageCapture {
  // The domain check also catches cross-field absurdities such as reasoning > output.
  const all = problems.length > 0 ? problems : validateUsage(usage);
  if (all.length > 0) return { usage: null, servedModel, suspicious: all.join('; ') };
  return { usage, servedModel };
}

/** A capture refused outright (e.g. the usage field is not an object). */
export function suspiciousCapture(servedModel: string | null, problems: readonly string[]): UsageCapture {
  return { usage: null, servedModel, suspicious: problems.join('; ') };
}
