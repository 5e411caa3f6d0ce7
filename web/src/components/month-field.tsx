import { TextField } from './field.tsx';

/** A calendar month (UTC), "YYYY-MM". */
export function MonthField({ value, onChange, label = 'Month', testId }: { value: string; onChange: (m: string) => void; label?: string; testId?: string }) {
  return <TextField label={label} type="month" value={value} onChange={(e) => e.target.value !== '' && onChange(e.target.value)} testId={testId} />;
}
