import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { runAnomaliesContract } from './anomalies-contract.ts';
import { runControlsContract } from './controls-contract.ts';
import { runStoreContract } from './ledger-contract.ts';
import { runProviderUsageContract } from './provider-usage-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-'));

runStoreContract({
  name: 'sqlite',
  open: () => openSqliteStore(join(dir, 'ledger.db')),
  dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
});

const controlsDir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-controls-'));

runControlsContract({
  name: 'sqlite',
  open: () => openSqliteStore(join(controlsDir, 'controls.db')),
  dispose: () => Promise.resolve(rmSync(controlsDir, { recursive: true, force: true })),
});

const anomaliesDir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-anomalies-'));

runAnomaliesContract({
  name: 'sqlite',
  open: () => openSqliteStore(join(anomaliesDir, 'anomalies.db')),
  dispose: () => Promise.resolve(rmSync(anomaliesDir, { recursive: true, force: true })),
});

const providerUsageDir = mkdtempSync(join(tmpdir(), 'tollgate-sqlite-provider-usage-'));

runProviderUsageContract({
  name: 'sqlite',
  open: () => openSqliteStore(join(providerUsageDir, 'provider-usage.db')),
  dispose: () => Promise.resolve(rmSync(providerUsageDir, { recursive: true, force: true })),
});
