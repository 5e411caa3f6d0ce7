/**
 * A benchmark stops by itself: past its deadline (or on Ctrl-C) it cleans up what it started and
 * exits non-zero. Returns the function that disarms it once the run has finished.
 */
export function stopAfter(deadlineMs: number, cleanup: () => Promise<void>, log: (line: string) => void): () => void {
  const timer = setTimeout(() => {
    log(`stopping: the run took longer than ${deadlineMs / 60_000} minutes`);
    void cleanup().finally(() => process.exit(1));
  }, deadlineMs);
  timer.unref();
  const interrupted = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  return () => {
    clearTimeout(timer);
    process.off('SIGINT', interrupted);
  };
}
