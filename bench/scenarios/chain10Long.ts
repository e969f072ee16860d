import { chainScenario } from './chain.ts';

/** Ten CPU-bound tasks (fibo(33), tens of ms each): scheduling overhead next to real work. */
export const chain10Long = chainScenario({ name: 'chain10_long', tasks: 10, fiboN: 33 });
