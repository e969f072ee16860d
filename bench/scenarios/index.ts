import type { Scenario } from '../scenario.ts';
import { chain10Long } from './chain10Long.ts';
import { chain40 } from './chain40.ts';
import { deferred1000, deferred10000 } from './deferred.ts';
import { fanout400 } from './fanout400.ts';
import { map100, map1000, map1000reduce, map10000 } from './mapped.ts';
import { parse1000 } from './parse1000.ts';
import { sensors1000 } from './rescheduleSensors.ts';
import { uiPages } from './uiPages.ts';

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  chain40,
  chain10Long,
  fanout400,
  map100,
  map1000,
  map10000,
  map1000reduce,
  sensors1000,
  parse1000,
  uiPages,
  deferred1000,
  deferred10000,
];
