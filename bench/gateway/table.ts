// Plain-text table: the first two columns left-aligned (names), the rest right-aligned (figures).
export function formatTable(head: string[], rows: (string[] | 'rule')[]): string {
  const body = rows.filter((r): r is string[] => r !== 'rule');
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.map((r) => (r === 'rule' ? rule : line(r)))].join('\n');
}
