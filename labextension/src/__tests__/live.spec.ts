import { Event } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import {
  CHANGED_SCHEMA,
  IChange,
  IFollowedDeployment,
  LiveUpdates,
  asChange,
  newFollows,
  newRequests
} from '../live';

function emission(data: Record<string, string>, schema = CHANGED_SCHEMA): Event.Emission {
  return { schema_id: schema, ...data };
}

describe('asChange', () => {
  it('reads our events and ignores every other kind', () => {
    expect(asChange(emission({ group: 'team', topic: 'aliases', origin: 'webhook' }))).toEqual({
      group: 'team',
      topic: 'aliases',
      origin: 'webhook'
    });
    expect(
      asChange(emission({ group: 'team', topic: 'aliases' }, 'https://events.jupyter.org/x'))
    ).toBeNull();
    expect(asChange(emission({ group: 'team', topic: 'secrets', origin: 'jupyter' }))).toBeNull();
    expect(asChange(emission({ topic: 'models', origin: 'jupyter' }))).toBeNull();
  });
});

describe('newFollows', () => {
  const since = '2026-12-03T10:00:00+00:00';

  it('tells each follow once, only those after the page opened', () => {
    const told = new Set<string>();
    const deployments: IFollowedDeployment[] = [
      {
        name: 'champ',
        history: [{ at: '2026-12-03T10:05:00+00:00', note: 'followed @champion from v3 to v4' }]
      },
      {
        name: 'old',
        history: [{ at: '2026-12-03T09:00:00+00:00', note: 'followed @champion from v1 to v2' }]
      },
      { name: 'manual', history: [{ at: '2026-12-03T10:06:00+00:00', note: null }] },
      { name: 'new' }
    ];
    expect(newFollows(deployments, since, told)).toEqual([
      ['champ', 'followed @champion from v3 to v4']
    ]);
    expect(newFollows(deployments, since, told)).toEqual([]);
    deployments[0].history!.unshift({
      at: '2026-12-03T10:09:00+00:00',
      note: 'followed @champion from v4 to v5'
    });
    expect(newFollows(deployments, since, told)).toEqual([
      ['champ', 'followed @champion from v4 to v5']
    ]);
  });
});

describe('newRequests', () => {
  it('gives the ids not told yet', () => {
    const told = new Set<string>(['a']);
    expect(newRequests(['a', 'b', 'c'], told)).toEqual(['b', 'c']);
    expect(newRequests(['a', 'b', 'c'], told)).toEqual([]);
  });
});

describe('LiveUpdates', () => {
  const settle = () => new Promise(resolve => setTimeout(resolve, 600));

  it("reads the active group's views again once for a burst, and hands every change on", async () => {
    const stream = new Stream<unknown, Event.Emission>({});
    const refresh = jest.fn();
    const changes: IChange[] = [];
    const live = new LiveUpdates({
      stream: stream as unknown as Event.Stream,
      activeGroup: () => 'team',
      refresh,
      onChange: async change => {
        changes.push(change);
      }
    });
    stream.emit(emission({ group: 'team', topic: 'deployments', origin: 'jupyter' }));
    stream.emit(emission({ group: 'team', topic: 'deployments', origin: 'jupyter' }));
    stream.emit(emission({ group: 'other', topic: 'requests', origin: 'jupyter' }));
    stream.emit(emission({ group: 'team', topic: 'x', origin: 'jupyter' }));
    await settle();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(changes.map(change => `${change.group}:${change.topic}`)).toEqual([
      'team:deployments',
      'team:deployments',
      'other:requests'
    ]);

    live.dispose();
    stream.emit(emission({ group: 'team', topic: 'models', origin: 'webhook' }));
    await settle();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(changes).toHaveLength(3);
  });
});
