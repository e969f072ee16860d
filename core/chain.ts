/**
 * Airflow's chain() and cross_downstream(): linking many tasks in one call.
 */
import { isOperator, type BaseOperator } from './baseOperator.ts';
import { DagDefinitionError } from './errors.ts';

type Item = BaseOperator | readonly BaseOperator[];

/**
 * Links each item to the next: task -> task, task -> list (fan out),
 * list -> task (fan in), and list -> list pairwise, which needs equal lengths.
 */
export function chain(...items: Item[]): void {
  items.forEach((item, i) => {
    if (!(isList(item) ? item : [item]).every(isOperator)) {
      throw new DagDefinitionError(`chain(): argument ${i + 1} is not a task or an array of tasks`);
    }
  });
  for (let i = 0; i + 1 < items.length; i++) {
    const up = items[i] as Item;
    const down = items[i + 1] as Item;
    if (isList(up) && isList(down)) {
      if (up.length !== down.length) {
        throw new DagDefinitionError(
          `chain(): argument ${i + 1} has ${up.length} tasks but argument ${i + 2} has ${down.length}; ` +
            'consecutive lists are linked pairwise and must have the same length (use crossDownstream() to link every task to every task)',
        );
      }
      up.forEach((task, j) => task.setDownstream(down[j] as BaseOperator));
    } else if (isList(up)) {
      for (const task of up) task.setDownstream(down);
    } else {
      up.setDownstream(down);
    }
  }
}

/** Makes every task in `from` an upstream of every task in `to`. */
export function crossDownstream(from: readonly BaseOperator[], to: Item): void {
  for (const task of from) task.setDownstream(to);
}

function isList(item: Item): item is readonly BaseOperator[] {
  return Array.isArray(item);
}
