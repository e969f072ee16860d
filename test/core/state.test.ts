import { describe, expect, it } from 'vitest';
import { IllegalStateTransitionError } from '../../core/errors.ts';
import {
  DAG_RUN_STATES,
  DAG_RUN_TRANSITIONS,
  FINISHED_TI_STATES,
  isFinished,
  STATE_COLORS,
  TASK_INSTANCE_STATES,
  TI_TRANSITIONS,
  UNFINISHED_TI_STATES,
  type DagRunState,
  type TiState,
} from '../../core/state.ts';
import { dagRunStatesLeadingTo, tiStatesLeadingTo } from '../../db/transitions.ts';

const ALL_TI_STATES: TiState[] = [null, ...TASK_INSTANCE_STATES];

/* Whether db/transitions.ts's UPDATE lets a row in `from` move to `to`: its WHERE clause names these states. */
const tiMoves = (from: TiState, to: TiState) => tiStatesLeadingTo(to).includes(from);
const dagRunMoves = (from: DagRunState, to: DagRunState) => dagRunStatesLeadingTo(to).includes(from);

describe('task-instance state sets', () => {
  it('finished and unfinished split every state, none included, exactly once', () => {
    for (const state of ALL_TI_STATES) {
      const finished = state !== null && FINISHED_TI_STATES.has(state);
      expect(finished, String(state)).not.toBe(UNFINISHED_TI_STATES.has(state));
    }
    expect([...FINISHED_TI_STATES].sort()).toEqual(['failed', 'removed', 'skipped', 'success', 'upstream_failed']);
  });

  it.each<[TiState | DagRunState, boolean]>([
    [null, false],
    ['scheduled', false],
    ['queued', false],
    ['running', false],
    ['up_for_retry', false],
    ['up_for_reschedule', false],
    ['deferred', false],
    ['restarting', false],
    ['success', true],
    ['failed', true],
    ['skipped', true],
    ['upstream_failed', true],
    ['removed', true],
  ])('isFinished(%s) is %s', (state, finished) => {
    expect(isFinished(state)).toBe(finished);
  });
});

describe('TI_TRANSITIONS', () => {
  it('has a row for every state and only known targets, no self-loops', () => {
    expect(new Set(TI_TRANSITIONS.keys())).toEqual(new Set(ALL_TI_STATES));
    for (const [from, targets] of TI_TRANSITIONS) {
      for (const to of targets) {
        expect(ALL_TI_STATES).toContain(to);
        expect(to).not.toBe(from);
      }
    }
  });

  it('lets every finished state be cleared back to none', () => {
    for (const state of FINISHED_TI_STATES) expect(tiMoves(state, null), String(state)).toBe(true);
  });

  it('lets a person mark any task success or failed, except a removed one', () => {
    for (const state of ALL_TI_STATES) {
      for (const to of ['success', 'failed'] as const) {
        if (state === to) continue;
        expect(tiMoves(state, to), `${state} -> ${to}`).toBe(state !== 'removed');
      }
    }
  });

  it.each<[string, TiState[]]>([
    ['happy path', [null, 'scheduled', 'queued', 'running', 'success']],
    ['retry: fails with retries left, waits, runs again', ['running', 'up_for_retry', 'scheduled', 'queued', 'running', 'failed']],
    ['reschedule sensor', ['running', 'up_for_reschedule', 'scheduled', 'queued', 'running', 'success']],
    ['deferrable operator: trigger fires, task resumes', ['running', 'deferred', 'scheduled', 'queued', 'running', 'success']],
    ['cleared while running: killed, then retried', ['running', 'restarting', 'up_for_retry', 'scheduled']],
    ['clear a finished task', ['success', null, 'scheduled']],
    ['mark failed as success, and back', ['failed', 'success', 'failed']],
    ['zombie (no heartbeat) with retries left', ['running', 'up_for_retry']],
    ['zombie without retries', ['running', 'failed']],
    ['executor reports a queued task failed', ['queued', 'failed']],
    ['executor reports a queued task failed, retries left', ['queued', 'up_for_retry']],
    ['stuck in queued: requeued', ['queued', 'scheduled']],
    ['orphaned on scheduler restart: reset', ['queued', null]],
    ['AirflowSkipException', ['running', 'skipped']],
    ['trigger rule settles a waiting task', [null, 'upstream_failed']],
    ['trigger rule settles a waiting task as skipped', [null, 'skipped']],
    ['trigger rule re-evaluates a task waiting to retry', ['up_for_retry', 'upstream_failed']],
    ['manual run bypasses the scheduler', [null, 'queued']],
    ['task vanished from the DAG, then came back', [null, 'removed', null]],
    ['dag run timed out: unfinished tasks skipped', ['deferred', 'skipped']],
  ])('allows %s', (_name, path) => {
    for (let i = 1; i < path.length; i++) {
      expect(tiMoves(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`).toBe(true);
    }
  });

  it.each<[TiState, TiState, string]>([
    [null, 'running', 'a task starts on a worker only after being queued'],
    ['scheduled', 'running', 'the executor queues before running'],
    ['success', 'running', 'finished tasks run again only after a clear'],
    ['success', 'scheduled', 'clear goes through none'],
    ['failed', 'up_for_retry', 'retry is decided when the try ends, not afterwards'],
    ['upstream_failed', 'scheduled', 'clear goes through none'],
    ['skipped', 'queued', 'clear goes through none'],
    ['removed', 'success', 'a removed task is not in the DAG to be marked'],
    ['removed', 'scheduled', 'it must come back (none) first'],
    ['queued', 'deferred', 'only a running task defers'],
    ['deferred', 'running', 'a fired trigger goes back through the scheduler'],
    ['up_for_retry', 'running', 'retries go through scheduled and queued'],
    ['running', 'removed', 'Airflow does not remove tasks of a running run'],
    ['running', 'queued', 'no way back to the queue while executing'],
    ['success', 'success', 'same state is not a transition'],
    [null, null, 'same state is not a transition'],
  ])('forbids %s -> %s (%s)', (from, to) => {
    expect(tiMoves(from, to)).toBe(false);
  });

  it('db/transitions.ts allows a move exactly where the table does', () => {
    for (const from of ALL_TI_STATES) {
      for (const to of ALL_TI_STATES) expect(tiMoves(from, to), `${from} -> ${to}`).toBe(TI_TRANSITIONS.get(from)!.has(to));
    }
  });

  it('the error names the entity and states', () => {
    const e = new IllegalStateTransitionError('task instance', 'skipped', 'deferred');
    expect([e.entity, e.from, e.to]).toEqual(['task instance', 'skipped', 'deferred']);
    expect(e.message).toBe('Illegal task instance state transition skipped -> deferred');
  });
});

describe('DAG_RUN_TRANSITIONS', () => {
  it('has a row for every dag-run state', () => {
    expect(new Set(DAG_RUN_TRANSITIONS.keys())).toEqual(new Set(DAG_RUN_STATES));
  });

  it.each<[DagRunState, DagRunState, boolean, string]>([
    ['queued', 'running', true, 'started when under max_active_runs'],
    ['queued', 'failed', true, 'marked failed before it started'],
    ['queued', 'success', true, 'marked success before it started'],
    ['running', 'success', true, 'all leaves done, none failed'],
    ['running', 'failed', true, 'a leaf failed, a deadlock, a timeout, or marked'],
    ['running', 'queued', true, 'a task was cleared: the run is re-queued'],
    ['success', 'queued', true, 'cleared'],
    ['failed', 'queued', true, 'cleared'],
    ['success', 'failed', true, 'marked'],
    ['failed', 'success', true, 'marked'],
    ['success', 'running', false, 'a cleared run goes through queued'],
    ['failed', 'running', false, 'a cleared run goes through queued'],
    ['running', 'running', false, 'same state is not a transition'],
    ['queued', 'queued', false, 'same state is not a transition'],
  ])('%s -> %s allowed: %s (%s)', (from, to, allowed) => {
    expect(dagRunMoves(from, to)).toBe(allowed);
  });

  it('db/transitions.ts allows a move exactly where the table does', () => {
    for (const from of DAG_RUN_STATES) {
      for (const to of DAG_RUN_STATES) expect(dagRunMoves(from, to), `${from} -> ${to}`).toBe(DAG_RUN_TRANSITIONS.get(from)!.has(to));
    }
  });

  it('isFinished works for dag-run states', () => {
    expect(DAG_RUN_STATES.filter(isFinished)).toEqual(['success', 'failed']);
  });
});

describe('STATE_COLORS', () => {
  it('has a colour for every state and for none', () => {
    for (const state of ALL_TI_STATES) expect(STATE_COLORS[state ?? 'none'], String(state)).toMatch(/^[a-z]+$/);
  });

  it.each([
    ['success', 'green'],
    ['failed', 'red'],
    ['running', 'lime'],
    ['queued', 'gray'],
    ['up_for_retry', 'gold'],
    ['upstream_failed', 'orange'],
    ['skipped', 'hotpink'],
    ['scheduled', 'tan'],
    ['removed', 'lightgrey'],
    ['up_for_reschedule', 'turquoise'],
    ['deferred', 'mediumpurple'],
    ['restarting', 'violet'],
    ['none', 'lightblue'],
  ] as const)('%s is %s (Airflow 2 UI)', (state, color) => {
    expect(STATE_COLORS[state]).toBe(color);
  });
});
