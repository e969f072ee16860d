import { chainScenario } from './chain.ts';

/** The hand-off benchmark: 40 short tasks, so the time is almost all scheduling. */
export const chain40 = chainScenario({ name: 'chain40', tasks: 40, fiboN: 10, targets: { hopMedianMs: 5, spanMs: 250 } });
