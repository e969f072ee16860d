import type { ExecutorEvent } from './base.ts';

/** The event side of an executor: events wait here until the scheduler drains them; listeners get a wake-up. */
export class EventQueue {
  private readonly events: ExecutorEvent[] = [];
  private readonly listeners: (() => void)[] = [];

  /** Records an event; `wake` tells the scheduler at once (false when nothing needs its attention). */
  push(event: ExecutorEvent, wake = true): void {
    this.events.push(event);
    if (wake) for (const listener of this.listeners) listener();
  }

  drain(): ExecutorEvent[] {
    return this.events.splice(0);
  }

  onEvent(listener: () => void): void {
    this.listeners.push(listener);
  }
}
