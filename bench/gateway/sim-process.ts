// Child process: the simulated OpenAI/Anthropic upstream, with no latency and no call recording.
import { startSimulator } from '../../src/providers/simulator/index.ts';
import { serve } from './child-io.ts';

const sim = await startSimulator({ latencyMs: 0, chunkDelayMs: 0, recordCalls: false });
serve({ url: sim.url }, () => sim.close());
