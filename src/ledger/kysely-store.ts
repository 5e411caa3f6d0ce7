/**
 * A Store assembled from a Kysely instance: what each backend folder hands over after opening its
 * driver. Migrations run here, at start, under Kysely's migration lock (safe with many replicas).
 */
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely';
import { TollgateError } from '../domain/errors.ts';
import type { Store, StoreCapabilities } from './contract.ts';
import { KyselyAnomalies } from './kysely-anomalies.ts';
import { KyselyChargeback } from './kysely-chargeback.ts';
import { KyselyControls } from './kysely-controls.ts';
import { KyselyOutcomes } from './kysely-outcomes.ts';
import { KyselyProviderUsage } from './kysely-provider-usage.ts';
import { KyselyDirectory } from './kysely-directory.ts';
import { KyselyForecastReads } from './kysely-forecast.ts';
import { KyselyLedger } from './kysely-ledger.ts';
import type { ReadArrays } from './kysely-ledger.ts';
import type { MigrationDialect } from './migrations.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';

export async function migrate(db: Kysely<Database>, dialect: MigrationDialect, schema?: string): Promise<void> {
  // With a schema of its own, the migrator must look for its tables there only: otherwise it finds
  // another schema's kysely_migration tables in the same database and fails.
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new TollgateError('unavailable', `database migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`, { cause: error });
  }
}

/** `readArrays`: the backend's fast path for the ledger's long scans, when it has one. */
export function assembleStore(db: Kysely<Database>, capabilities: StoreCapabilities, location: string, close: () => Promise<void>, readArrays?: ReadArrays): Store {
  return {
    directory: new KyselyDirectory(db),
    controls: new KyselyControls(db),
    outcomes: new KyselyOutcomes(db),
    chargeback: new KyselyChargeback(db),
    forecast: new KyselyForecastReads(db),
    anomalies: new KyselyAnomalies(db),
    providerUsage: new KyselyProviderUsage(db),
    ledger: new KyselyLedger(db, capabilities, readArrays),
    capabilities,
    location,
    close,
  };
}
