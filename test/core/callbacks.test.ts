import { describe, expect, it } from 'vitest';
import { DAG } from '../../core/dag.ts';
import { BaseNotifier } from '../../core/notifier.ts';
import { dagHash, serializeDag } from '../../core/serialize.ts';
import type { TaskContext } from '../../core/taskContext.ts';
import { EmptyOperator } from '../../operators/emptyOperator.ts';
import { ExternalTaskSensor } from '../../operators/sensors/externalTaskSensor.ts';
import { TriggerDagRunOperator } from '../../operators/triggerDagRunOperator.ts';
import { definitionError } from '../helpers/definitionError.ts';
import { contextFor, LOGICAL_DATE } from '../operators/fakeRunner.ts';

/** Records what it was rendered to. */
class Recorder extends BaseNotifier {
  static override readonly templateFields = ['message'];
  readonly sent: string[] = [];
  constructor(readonly message: string) {
    super();
  }
  notify(_context: TaskContext, rendered: Record<string, unknown>): void {
    this.sent.push(String(rendered.message));
  }
}

describe('callbacks, notifiers and the cross-DAG operators, as written in a DAG file', () => {
  it('a DAG or task callback must be a function, a notifier or a non-empty list of them', () => {
    definitionError(
      () => new DAG({ dagId: 'bad_cb', onFailureCallback: 'notify me' as never }),
      "DAG 'bad_cb'",
      'onFailureCallback must be a function, a notifier or a non-empty list of them, got string',
    );
    definitionError(() => new DAG({ dagId: 'bad_cb_list', onSuccessCallback: [] }), 'onSuccessCallback must be', 'got an empty list');
    const dag = new DAG({ dagId: 'bad_task_cb' });
    definitionError(
      () => new EmptyOperator({ dag, taskId: 't', onRetryCallback: [() => {}, 42 as never] }),
      "task 't'",
      'onRetryCallback must be',
      'got number',
    );
    definitionError(() => new EmptyOperator({ dag, taskId: 'e', email: 7 as never }), 'email must be an address');
  });

  it('a list runs every callback and notifier (templates rendered) and reports the errors together', async () => {
    const first = new Recorder('{{ ti.task_id }} on {{ ds }}');
    const second = new Recorder('second');
    const dag = new DAG({ dagId: 'cb_list' });
    new EmptyOperator({
      dag,
      taskId: 'work',
      onSuccessCallback: [
        first,
        () => {
          throw new Error('one');
        },
        second,
        () => {
          throw new Error('two');
        },
      ],
    });
    const callback = dag.getTask('work').onSuccessCallback!;
    await expect(Promise.resolve(callback(contextFor(dag.getTask('work')).context))).rejects.toThrow('2 callbacks failed: one; two');
    expect(first.sent).toEqual([`work on ${LOGICAL_DATE.toISOString().slice(0, 10)}`]);
    expect(second.sent).toEqual(['second']);
  });

  it('DAG-level callbacks are flagged in the serialized DAG only when set, so other DAGs hash as before', () => {
    const plain = new DAG({ dagId: 'no_callbacks' });
    new EmptyOperator({ dag: plain, taskId: 't' });
    const before = serializeDag(plain);
    expect(before).not.toHaveProperty('callbacks');
    const withOne = new DAG({ dagId: 'no_callbacks', onFailureCallback: new Recorder('x') });
    new EmptyOperator({ dag: withOne, taskId: 't' });
    expect(serializeDag(withOne).callbacks).toEqual({ onSuccess: false, onFailure: true });
    expect(dagHash(serializeDag(withOne))).not.toBe(dagHash(before));
  });

  it('TriggerDagRunOperator and ExternalTaskSensor check their options', () => {
    const dag = new DAG({ dagId: 'cross_dag_options' });
    definitionError(() => new TriggerDagRunOperator({ dag, taskId: 'a', triggerDagId: '' }), 'triggerDagId must be the id of the DAG to trigger');
    definitionError(
      () => new TriggerDagRunOperator({ dag, taskId: 'b', triggerDagId: 'x', allowedStates: ['done'] }),
      'allowedStates must be a list of dag run states',
    );
    definitionError(
      () => new TriggerDagRunOperator({ dag, taskId: 'c', triggerDagId: 'x', allowedStates: ['success', 'failed'] }),
      'failed cannot be both allowed and failed',
    );
    definitionError(
      () => new ExternalTaskSensor({ dag, taskId: 'd', externalDagId: 'x', externalTaskId: 'a', externalTaskGroupId: 'g' }),
      'give only one of externalTaskId, externalTaskIds and externalTaskGroupId',
    );
    definitionError(
      () => new ExternalTaskSensor({ dag, taskId: 'e', externalDagId: 'x', executionDelta: { hours: 1 }, executionDateFn: (d) => d }),
      'give executionDelta or executionDateFn, not both',
    );
    definitionError(
      () => new ExternalTaskSensor({ dag, taskId: 'f', externalDagId: 'x', failedStates: ['up_for_retry'] }),
      'failedStates must be a list of states from queued',
    );
    definitionError(
      () => new ExternalTaskSensor({ dag, taskId: 'g', externalDagId: 'x', externalTaskId: 'a', allowedStates: ['success'], failedStates: ['success'] }),
      'success twice',
    );
    expect(dag.tasks).toEqual([]); // a bad option leaves no half-made task behind
  });
});
