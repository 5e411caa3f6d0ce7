import type { Kysely } from 'kysely';
import type { Chargeback } from './chargeback-contract.ts';
import type { Database } from './schema.ts';

export class KyselyChargeback implements Chargeback {
  readonly kind = 'chargeback';
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }
}
