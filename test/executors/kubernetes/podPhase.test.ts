import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podOutcome } from '../../../executors/kubernetes/podPhase.ts';

const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'p' }, status });

describe('pod phases as task outcomes', () => {
  it.each<[string, V1Pod['status'], ReturnType<typeof podOutcome>['kind'], RegExp | null]>([
    ['just created', { phase: 'Pending' }, 'pending', null],
    [
      'creating its container',
      {
        phase: 'Pending',
        containerStatuses: [{ name: 'base', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
      },
      'pending',
      null,
    ],
    ['running', { phase: 'Running' }, 'running', null],
    [
      'succeeded',
      {
        phase: 'Succeeded',
        containerStatuses: [
          { name: 'base', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        ],
      },
      'succeeded',
      /exited with code 0 \(Completed\)/,
    ],
    [
      'OOM-killed',
      {
        phase: 'Failed',
        containerStatuses: [
          { name: 'base', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
        ],
      },
      'failed',
      /exited with code 137 \(OOMKilled\)/,
    ],
    ['evicted', { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }, 'failed', /Evicted The node was low/],
    [
      'unable to pull its image',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'base',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' } },
          },
        ],
      },
      'failed',
      /cannot start: ImagePullBackOff: Back-off pulling image "nope"/,
    ],
    [
      'missing a secret',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'base',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } },
          },
        ],
      },
      'failed',
      /secret "db" not found/,
    ],
  ])('%s', (_name, status, kind, info) => {
    const outcome = podOutcome(pod(status));
    expect(outcome.kind).toBe(kind);
    if (info) expect('info' in outcome ? outcome.info : '').toMatch(info);
  });

  it("reports an unschedulable pod as pending with the scheduler's reason (the timeout decides)", () => {
    const outcome = podOutcome(
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }],
      }),
    );
    expect(outcome).toEqual({ kind: 'pending', unschedulable: 'pod p is unschedulable: 0/3 nodes are available: 3 Insufficient cpu.' });
  });
});
