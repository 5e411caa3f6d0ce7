/** Public surface of pricing: the pricer, its config schema, and the catalog contract. */
export { createPricer } from './pricer.ts';
export type { Pricer, PricerOptions, PriceQuote, PriceSource } from './pricer.ts';
export type { ModelLimits } from './model-limits.ts';
export { pricingConfigSchema, CUSTOM_PRICE_KEYS } from './config.ts';
export { parseUtcInstant } from './utc-instant.ts';
export type { PricingConfig, PricingConfigInput } from './config.ts';
export { bundledCatalog, isCatalogProvider } from './catalog.ts';
export type { Catalog, CatalogModel } from './catalog.ts';
