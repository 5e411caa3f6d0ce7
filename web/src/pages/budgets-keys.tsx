/** Budgets & keys: budget use per policy, the kill switch per scope, virtual keys and the audit log. */
import { useState } from 'react';
import { Page } from '../components/page.tsx';
import { useSession } from '../session.tsx';
import { AuditLog } from './audit-log.tsx';
import { BudgetTable } from './budget-table.tsx';
import { KeysPanel } from './keys-panel.tsx';
import { KillSwitches } from './kill-switches.tsx';

export function BudgetsKeysPage() {
  const { isAdmin } = useSession();
  // Every change here is audited: the log below reloads after each one.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((n) => n + 1);
  return (
    <Page title="Budgets & keys" intro={isAdmin ? 'Budget use per policy, kill switches, virtual keys and who changed what.' : 'Budget use per policy, kill switches and keys of your scope (read only).'}>
      <BudgetTable />
      <KillSwitches onChange={changed} />
      <KeysPanel onChange={changed} />
      {isAdmin && <AuditLog changes={changes} />}
    </Page>
  );
}
