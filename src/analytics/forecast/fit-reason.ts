/** Why the forecast chose its per-unit distribution, in one sentence people read. */
import { formatUsd } from '../../domain/money.ts';
import type { SpendFit } from './distribution-fit.ts';
import { toNano } from './forecast-json.ts';

const usd = (x: number) => formatUsd(toNano(x));
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function fitReason(f: SpendFit): string {
  const t = f.pareto;
  if (f.model === 'lognormal+pareto' && t) {
    return `log-normal body with a Pareto tail (α ${t.alpha.toFixed(2)} above ${usd(t.threshold)}, the top ${pct(t.tailShare)}), chosen: log-likelihood ${(f.aicGain! + 2).toFixed(1)} above a plain log-normal (AIC gain ${f.aicGain!.toFixed(1)})`;
  }
  if (f.aicGain === null) return `log-normal (μ ${f.lognormal.mu.toFixed(2)}, σ ${f.lognormal.sigma.toFixed(2)}); too few values (${f.n}) to fit a tail`;
  return `log-normal (σ ${f.lognormal.sigma.toFixed(2)}), chosen: a Pareto tail does not improve the fit enough (AIC gain ${f.aicGain.toFixed(1)} ≤ 0)`;
}
