import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { SerializedDag } from '../../../../core/serialize.ts';
import { canEdit, links, loadDag, notFoundPage, outcomeMessage, type DagRowFull } from '../../dagPageSupport.ts';
import { parseNumRuns } from '../../gridModel.ts';

export interface LoadedDag {
  row: DagRowFull;
  dag: SerializedDag;
  /** The locals every tab's header needs. */
  locals: Record<string, unknown>;
}

/** Loads the DAG or answers 404; the locals every tab's header needs. */
export async function dagOr404(knex: Knex, req: Request, res: Response, tab: string): Promise<LoadedDag | null> {
  const dagId = String(req.params.dagId);
  const found = await loadDag(knex, dagId);
  if (!found) {
    notFoundPage(res, `DAG '${dagId}' not found (not parsed yet, or deleted).`);
    return null;
  }
  const numRuns = parseNumRuns(req.query.num_runs);
  const runId = typeof req.query.run_id === 'string' && req.query.run_id ? req.query.run_id : null;
  return {
    ...found,
    locals: {
      title: `${dagId} · ${tab}`,
      styles: ['/static/dag.css'],
      scripts: ['/static/dag.js'],
      dagRow: found.row,
      dag: found.dag,
      dagId,
      tab,
      links,
      numRuns,
      numRunsGiven: typeof req.query.num_runs === 'string',
      selectedRunId: runId,
      canEdit: canEdit(req),
      message: outcomeMessage(req.query),
      currentUrl: req.originalUrl,
    },
  };
}
