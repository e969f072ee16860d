import { links } from '../../dagPageSupport.ts';
import type { UiPages } from '../../router.ts';
import { codeTab } from './code.ts';
import { detailsTab } from './details.ts';
import { durationsTab } from './durations.ts';
import { graphTab } from './graph.ts';
import { gridTab } from './grid.ts';
import { runsTab } from './runs.ts';

/**
 * The DAG page: tabs grid, graph, runs, code, details and durations at
 * /dags/{dag_id}/{tab} (readable by every role), one module per tab with the
 * JSON it polls and the actions it offers (User or higher; each asks for
 * confirmation, and every rule is a services/ function).
 */
export const dagPages: UiPages = (router, ctx) => {
  router.get('/dags/:dagId', (req, res) => res.redirect(links.tab(req.params.dagId, 'grid')));
  for (const tab of [gridTab, graphTab, runsTab, codeTab, detailsTab, durationsTab]) tab(router, ctx);
};
