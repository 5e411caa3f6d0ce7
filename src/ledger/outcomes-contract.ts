/** Outcomes and their types: what agents produce, and the human baseline it is compared with. */
export interface Outcomes {
  /** Placeholder until the outcomes store lands. */
  readonly kind: 'outcomes';
}
