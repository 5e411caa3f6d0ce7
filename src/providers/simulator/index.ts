/** The simulated upstream: OpenAI and Anthropic APIs on a local port, for tests, benchmarks and demos. */
export { startSimulator } from './start-simulator.ts';
export type { Simulator, SimulatorOptions } from './start-simulator.ts';
export type { SimulatedCall } from './simulated-call.ts';
export type { SimRoute } from './sim-endpoint.ts';
