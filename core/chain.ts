/**
 * Airflow's chain() and cross_downstream(): linking many tasks in one call.
 * A TaskGroup stands for its roots where it is linked downstream and for its
 * leaves where it is linked upstream, as with then().
 */
import { isOperator, type BaseOperator } from './baseOperator.ts';
import { DagDefinitionError } from './errors.ts';
import { isTaskGroup, type TaskGroup } from './taskGroup.ts';

type Node = BaseOperator | TaskGroup;
type Item = Node | readonly Node[];

/**
 * Links each item to the next: task -> task, task -> list (fan out),
 * list -> task (fan in), and list -> list pairwise, which needs equal lengths.
 */
export function chain(...items: Item[]): void {
  items.forEach((item, i) => {
    if (!(isList(item) ? item : [item]).every((x) => isOperator(x) || isTaskGroup(x))) {
      throw new DagDefinitionError(`chain(): argument ${i + 1} is not a task or an array of tasks or TaskGroups`);
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
      up.forEach((task, j) => task.setDownstream(down[j] as Node));
    } else if (isList(up)) {
      for (const task of up) task.setDownstream(down);
    } else {
      up.setDownstream(down);
    }
  }
}

/** Makes every task (or group's leaves) in `from` an upstream of every task (or group's roots) in `to`. */
export function crossDownstream(from: readonly Node[], to: Item): void {
  for (const task of from) task.setDownstream(to);
}

function isList(item: Item): item is readonly Node[] {
  return Array.isArray(item);
}
