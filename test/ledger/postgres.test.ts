import { describe, it } from 'vitest';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';
import { runAnomaliesContract } from './anomalies-contract.ts';
import { runControlsContract } from './controls-contract.ts';
import { runStoreContract } from './ledger-contract.ts';
import { runProviderUsageContract } from './provider-usage-contract.ts';

const schema = testSchemaName();
const controlsSchema = testSchemaName();
const anomaliesSchema = testSchemaName();
const providerUsageSchema = testSchemaName();

if (await postgresAvailable()) {
  runStoreContract({
    name: 'postgres',
    open: () => openPostgresStore(PG_URL, { schema }),
    dispose: () => dropSchema(schema),
  });
  runControlsContract({
    name: 'postgres',
    open: () => openPostgresStore(PG_URL, { schema: controlsSchema }),
    dispose: () => dropSchema(controlsSchema),
  });
  runAnomaliesContract({
    name: 'postgres',
    open: () => openPostgresStore(PG_URL, { schema: anomaliesSchema }),
    dispose: () => dropSchema(anomaliesSchema),
  });
  runProviderUsageContract({
    name: 'postgres',
    open: () => openPostgresStore(PG_URL, { schema: providerUsageSchema }),
    dispose: () => dropSchema(providerUsageSchema),
  });
} else {
  describe.skip('store contract: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}
