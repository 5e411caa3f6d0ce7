import type { StreamTracker, UpstreamStreamError, UsageCapture } from './contract.ts';

/** The tracker of an API that does not stream: forwards everything and learns nothing. */
export class SilentStreamTracker implements StreamTracker {
  onEvent(): 'forward' {
    return 'forward';
  }

  reported(): UsageCapture | null {
    return null;
  }

  textSeen(): string {
    return '';
  }

  partial(): UsageCapture | null {
    return null;
  }

  finished(): boolean {
    return false;
  }

  upstreamError(): UpstreamStreamError | null {
    return null;
  }
}
