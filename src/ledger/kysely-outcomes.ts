import type { Kysely } from 'kysely';
import type { Outcomes } from './outcomes-contract.ts';
import type { Database } from './schema.ts';

export class KyselyOutcomes implements Outcomes {
  readonly kind = 'outcomes';
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }
}
