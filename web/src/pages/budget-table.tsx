import { apiPath } from '../api/client.ts';
import type { BudgetState, DataList } from '../api/types.ts';
import { useApi } from '../api/use-api.ts';
import { Section } from '../components/page.tsx';
import { Async, Empty } from '../components/status.tsx';
import { UsageMeter } from '../components/usage-meter.tsx';
import { compareUsd, formatUsd, usdToNano } from '../format/money.ts';
import { formatDay } from '../format/time.ts';
import { href } from '../router.ts';

/** Each budget policy: spent, reserved by calls in flight, remaining, and the forecast at period end. */
export function BudgetTable() {
  const state = useApi<DataList<BudgetState>>(apiPath('/api/budgets'));
  return (
    <Section title="Budgets">
      <Async state={state} what="Loading budgets">
        {(r) =>
          r.data.length === 0 ? (
            <Empty>
              No budgets yet: <code>tollgate budgets set --scope acme/support --amount 500 --period month --action showback</code>
            </Empty>
          ) : (
            <div className="table-wrap">
              <table data-testid="budgets-table">
                <thead>
                  <tr>
                    <th scope="col">Scope</th>
                    <th scope="col">Period</th>
                    <th scope="col">Action</th>
                    <th scope="col" className="num">Limit</th>
                    <th scope="col" className="num">Spent</th>
                    <th scope="col" className="num">Reserved</th>
                    <th scope="col" className="num">Remaining</th>
                    <th scope="col" className="num">Forecast at end</th>
                    <th scope="col">Used</th>
                  </tr>
                </thead>
                <tbody>
                  {r.data.map((b) => {
                    const limit = usdToNano(b.amount_usd);
                    // Basis points in integers; only the final figure becomes a float.
                    const used = limit > 0n ? Number((usdToNano(b.spent_usd) * 10_000n) / limit) / 100 : null;
                    const over = compareUsd(b.forecast_usd, b.amount_usd) > 0;
                    return (
                      <tr key={b.id} data-testid={`budget-row-${b.scope}-${b.period}`}>
                        <th scope="row">
                          <a href={href('explore', { scope: b.scope })}>{b.scope}</a>
                        </th>
                        <td>
                          {b.period} <span className="muted">(resets {formatDay(b.resets_at)})</span>
                        </td>
                        <td>{b.action}</td>
                        <td className="num">{formatUsd(b.amount_usd)}</td>
                        <td className="num">{formatUsd(b.spent_usd)}</td>
                        <td className="num">{b.reserved_usd === null ? <span title="counters unreachable">—</span> : formatUsd(b.reserved_usd)}</td>
                        <td className="num">{formatUsd(b.remaining_usd)}</td>
                        <td className={`num ${over ? 'bad' : ''}`}>{formatUsd(b.forecast_usd)}</td>
                        <td>
                          <UsageMeter pct={used} label={`${b.scope} ${b.period} budget used`} /> <span className={`badge ${b.status}`}>{b.status}</span>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </Section>
  );
}
