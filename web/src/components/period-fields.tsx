import { useId } from 'react';
import type { PeriodPreset } from '../format/time.ts';
import { isoDay, PERIOD_PRESETS, presetRange } from '../format/time.ts';

interface Props {
  from: string;
  to: string;
  /** Called with both ends; empty strings mean the API's default (this month so far). */
  onChange: (range: { from: string; to: string }) => void;
}

/** Period: a preset, or two dates (UTC days; the end is not included). */
export function PeriodFields({ from: fromParam, to: toParam, onChange }: Props) {
  const id = useId();
  // A link from a figure carries its exact window in epoch ms; the date fields show its days.
  const day = (v: string) => (/^\d+$/.test(v) ? isoDay(Number(v)) : v);
  const from = day(fromParam);
  const to = day(toParam);
  const exact = /^\d+$/.test(fromParam) || /^\d+$/.test(toParam);
  const preset = exact ? 'custom' : from === '' && to === '' ? 'this-month' : (PERIOD_PRESETS.find((p) => {
    const r = presetRange(p.id);
    return r.from === from && r.to === to;
  })?.id ?? 'custom');
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-preset`}>Period</label>
        <select
          id={`${id}-preset`}
          value={preset}
          data-testid="period-preset"
          onChange={(e) => {
            const v = e.target.value;
            if (v === 'custom') onChange(presetRange('30d'));
            else if (v === 'this-month') onChange({ from: '', to: '' });
            else onChange(presetRange(v as PeriodPreset));
          }}
        >
          {PERIOD_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Dates…</option>
        </select>
      </div>
      {preset === 'custom' && (
        <>
          <div className="field">
            <label htmlFor={`${id}-from`}>From (UTC)</label>
            <input id={`${id}-from`} type="date" value={from} max={to || undefined} onChange={(e) => onChange({ from: e.target.value, to })} data-testid="period-from" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To (UTC, not included)</label>
            <input id={`${id}-to`} type="date" value={to} min={from || undefined} onChange={(e) => onChange({ from, to: e.target.value })} data-testid="period-to" />
          </div>
        </>
      )}
    </>
  );
}
