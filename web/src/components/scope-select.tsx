import { useId } from 'react';
import { useScopes } from '../api/scopes.ts';
import type { Tier } from '../api/types.ts';
import { ErrorNotice } from './status.tsx';

interface Props {
  label: string;
  value: string;
  onChange: (path: string) => void;
  /** Tiers offered (default all). */
  tiers?: readonly Tier[];
  /** An extra first option with value "" (e.g. "All scopes"). */
  emptyLabel?: string;
  testId?: string;
}

/** A select of the scopes the principal may see, by path. */
export function ScopeSelect({ label, value, onChange, tiers, emptyLabel, testId }: Props) {
  const id = useId();
  const { scopes, error } = useScopes();
  const offered = (scopes ?? []).filter((s) => tiers === undefined || tiers.includes(s.tier));
  const known = offered.some((s) => s.path === value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
        {!known && value !== '' && <option value={value}>{value}</option>}
        {scopes === undefined && error === undefined && <option disabled>Loading scopes…</option>}
        {offered.map((s) => (
          <option key={s.id} value={s.path}>
            {s.path} ({s.tier})
          </option>
        ))}
      </select>
      <ErrorNotice error={error} />
    </div>
  );
}
