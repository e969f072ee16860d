/**
 * Resolves on the first SIGINT or SIGTERM so a daemon can drain. A second
 * signal, or a drain longer than `forceAfterMs`, exits at once and says so.
 */
export function untilStopSignal(forceAfterMs = 30_000): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      const force = () => {
        console.error(`Still stopping after ${signal}; forcing exit.`);
        process.exit(130);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      setTimeout(() => {
        console.error(`Did not stop within ${forceAfterMs / 1000} s of ${signal}; forcing exit.`);
        process.exit(1);
      }, forceAfterMs).unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
