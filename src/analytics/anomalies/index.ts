/** The anomaly detector's public surface: the detector, its options, and the shared shapes. */
export { Detector } from './detector.ts';
export { DEFAULT_DETECTOR_OPTIONS, resolveDetectorOptions } from './options.ts';
export type { DetectorOptions, DetectorOptionsInput, TierBands } from './options.ts';
export * from './contract.ts';
