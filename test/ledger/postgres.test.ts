import { describe, it } from 'vitest';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';
import { runControlsContract } from './controls-contract.ts';
import { runStoreContract } from './ledger-contract.ts';

const schema = testSchemaName();
const controlsSchema = testSchemaName();

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
} else {
  describe.skip('store contract: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}
