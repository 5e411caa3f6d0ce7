/** Chargeback adjustments and team flags. */
export interface Chargeback {
  /** Placeholder until the chargeback store lands. */
  readonly kind: 'chargeback';
}
