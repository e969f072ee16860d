/**
 * A loop's sleep that something else in the process can cut short: the scheduler's and the triggerer's
 * loops sleep between passes, and a notification (LISTEN), an executor event or a stop wakes them at once.
 */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  /** Whether a sleep is under way (a wake() now ends it). */
  get asleep(): boolean {
    return this.wakeUp !== null;
  }

  /** Resolves after `ms`, or as soon as wake() is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  /** Ends the sleep under way, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
