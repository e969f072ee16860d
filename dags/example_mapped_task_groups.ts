/**
 * Task groups written as functions (taskGroup(), Airflow's @task_group), one
 * inside another, and a mapped task group (Airflow 2.5+): the group runs once
 * per region, and the regions are known only when the run starts.
 *
 *   regions -> per_region[ fetch -> validate[ check_rows -> dedupe ] -> summarize ] × each region -> report
 *
 * Every task of per_region is mapped: instance i of each is the group's run for
 * region i. Inside the group a task takes instance i's output of the task
 * before it and waits only for that one, so one region's chain never waits for
 * (or fails with) another's. report, outside, gets the summaries in region order.
 */
import { DAG, getCurrentContext, task, taskGroup, type XComArg } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_mapped_task_groups',
  description: 'One fetch → validate → summarize chain per region, the regions found at run time',
  schedule: null, // manual runs only
  tags: ['example'],
  defaultArgs: { owner: 'data-eng', retries: 0 },
});

interface Sale {
  id: string;
  region: string;
  amount: number;
}

interface Summary {
  region: string;
  total: number;
  currency: string;
}

const regions = task({ dag }, function regions(): string[] {
  return ['eu', 'us', 'apac'];
});

const fetch = task({ dag }, function fetch(region: string): Sale[] {
  // A stand-in for a per-region source; 'us' delivers sale us-1 twice.
  const sales: Record<string, [string, number][]> = {
    eu: [
      ['eu-0', 12],
      ['eu-1', 30],
    ],
    us: [
      ['us-0', 50],
      ['us-1', 5],
      ['us-1', 5],
    ],
    apac: [['apac-0', 7]],
  };
  return (sales[region] ?? []).map(([id, amount]) => ({ id, region, amount }));
});

const checkRows = task({ dag }, function check_rows(rows: Sale[]): Sale[] {
  const bad = rows.filter((r) => !(r.amount > 0));
  if (bad.length > 0) throw new Error(`sales without a positive amount: ${bad.length}`);
  return rows;
});

const dedupe = task({ dag }, function dedupe(rows: Sale[]): Sale[] {
  return rows.filter((row, i) => rows.findIndex((r) => r.id === row.id) === i);
});

const summarize = task({ dag }, function summarize(rows: Sale[], currency: string, region: string): Summary {
  return { region, total: rows.reduce((sum, r) => sum + r.amount, 0), currency };
});

// A plain group written as a function; called inside per_region, its ids are 'per_region.validate.check_rows', ...
const validate = taskGroup({ dag, tooltip: 'Check the rows, then drop duplicates' }, function validate(rows: XComArg<Sale[]>) {
  return dedupe(checkRows(rows));
});

// The mapped group: `region` stands for each region at run time; `currency` is bound by partial().
const perRegion = taskGroup({ dag, tooltip: 'Fetch, validate and sum one region' }, function per_region(currency: string, region: XComArg<string>) {
  return summarize(validate(fetch(region)), currency, region);
});

task({ dag }, function report(summaries: Summary[]): string {
  const line = summaries.map((s) => `${s.region} ${s.total} ${s.currency}`).join(', ');
  getCurrentContext().log.info(`Totals per region: ${line}`);
  return line;
})(perRegion.partial('EUR').expand(regions()));

export default dag;
