import { describe, expect, it } from 'vitest';
import type { IncidentChange } from '../../shared/incident.ts';
import { incidentFixture } from '../../shared/store/fixtures.ts';
import { ChangeHub, type StreamSocket } from './hub.ts';

class FakeSocket implements StreamSocket {
  sent: any[] = [];
  bufferedAmount = 0;
  closed: { code?: number; reason?: string } | null = null;
  send(data: Buffer, options: { binary: false }) {
    expect(options.binary).toBe(false);
    this.sent.push(JSON.parse(data.toString()));
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
  }
  types() {
    return this.sent.map((m) => m.type);
  }
}

const change = (id: string, version: number, status: 'new' | 'acknowledged' | 'resolved' = 'new'): IncidentChange => ({
  type: version === 1 ? 'created' : 'updated',
  at: new Date().toISOString(),
  incident: incidentFixture({ id, version, status }),
});

describe('ChangeHub', () => {
  it('sends the open incidents on connect, then every change with a rising cursor', () => {
    const hub = new ChangeHub();
    hub.load([incidentFixture({ id: 'a', version: 1 }), incidentFixture({ id: 'closed', version: 1, status: 'resolved' })]);
    const s = new FakeSocket();
    hub.attach(s);
    expect(s.sent[0]).toMatchObject({ type: 'snapshot', reason: 'connect', cursor: `${hub.instance}.0` });
    expect(s.sent[0].incidents.map((i: { id: string }) => i.id)).toEqual(['a']);
    hub.apply(change('b', 1));
    hub.apply(change('a', 2, 'resolved'));
    expect(s.sent.slice(1).map((m) => [m.cursor, m.change.incident.id])).toEqual([
      [`${hub.instance}.1`, 'b'],
      [`${hub.instance}.2`, 'a'],
    ]);
    expect(hub.openIncidents().map((i) => i.id)).toEqual(['b']);
  });

  it('drops stale and duplicate changes by version, also against the startup snapshot', () => {
    const hub = new ChangeHub();
    expect(hub.apply(change('a', 3))).toBe(true);
    hub.load([incidentFixture({ id: 'a', version: 2, status: 'acknowledged' })]);
    expect(hub.openIncidents()[0]!.version).toBe(3);
    expect(hub.apply(change('a', 3))).toBe(false);
    expect(hub.apply(change('a', 1))).toBe(false);
    expect(hub.cursor).toBe(`${hub.instance}.1`);
  });

  it('a reconnecting client gets exactly the changes after its cursor', () => {
    const hub = new ChangeHub();
    const first = new FakeSocket();
    const detach = hub.attach(first);
    hub.apply(change('a', 1));
    const seen = first.sent.at(-1).cursor;
    detach();
    hub.apply(change('b', 1));
    hub.apply(change('a', 2, 'acknowledged'));
    const again = new FakeSocket();
    hub.attach(again, seen);
    expect(again.types()).toEqual(['change', 'change', 'replayed']);
    expect(again.sent.slice(0, 2).map((m) => `${m.change.incident.id}@${m.change.incident.version}`)).toEqual(['b@1', 'a@2']);
    expect(again.sent[2]).toMatchObject({ count: 2, cursor: hub.cursor });
  });

  it('a cursor of another instance or one older than the replay buffer gets a full snapshot', () => {
    const hub = new ChangeHub({ replayLimit: 3 });
    for (let i = 1; i <= 10; i++) hub.apply(change(`i${i}`, 1));
    const other = new FakeSocket();
    hub.attach(other, `000000000000.5`);
    expect(other.sent[0]).toMatchObject({ type: 'snapshot', reason: 'unknown_cursor' });
    expect(other.sent[0].incidents).toHaveLength(10);
    const old = new FakeSocket();
    hub.attach(old, `${hub.instance}.2`);
    expect(old.sent[0]).toMatchObject({ type: 'snapshot', reason: 'unknown_cursor' });
    const edge = new FakeSocket();
    hub.attach(edge, `${hub.instance}.7`);
    expect(edge.types()).toEqual(['change', 'change', 'change', 'replayed']);
    const future = new FakeSocket();
    hub.attach(future, `${hub.instance}.99`);
    expect(future.sent[0]).toMatchObject({ type: 'snapshot' });
  });

  it('keeps at most replayBytes of changes for replay: an older cursor gets a snapshot', () => {
    const hub = new ChangeHub({ replayBytes: 2000 });
    const start = hub.cursor;
    for (let i = 1; i <= 50; i++) hub.apply(change(`i${i}`, 1));
    const old = new FakeSocket();
    hub.attach(old, start);
    expect(old.sent[0]).toMatchObject({ type: 'snapshot', reason: 'unknown_cursor' });
    const recent = new FakeSocket();
    hub.attach(recent, `${hub.instance}.48`);
    expect(recent.types()).toEqual(['change', 'change', 'replayed']);
    expect(recent.sent.slice(0, 2).map((m) => m.change.incident.id)).toEqual(['i49', 'i50']);
  });

  it('a slow client is told, gets nothing more while its buffer is full, then a snapshot once it drained', () => {
    const now = 0;
    const hub = new ChangeHub({ maxBufferedBytes: 1000, lagTimeoutMs: 5000, now: () => now });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    hub.attach(slow);
    hub.attach(fast);
    slow.bufferedAmount = 5000;
    for (let i = 1; i <= 50; i++) hub.apply(change(`s${i}`, 1));
    expect(slow.types()).toEqual(['snapshot', 'lagging']);
    expect(fast.sent).toHaveLength(51);
    hub.sweep();
    expect(slow.types()).toEqual(['snapshot', 'lagging']);
    slow.bufferedAmount = 100;
    hub.sweep();
    expect(slow.sent.at(-1)).toMatchObject({ type: 'snapshot', reason: 'slow', cursor: hub.cursor });
    expect(slow.sent.at(-1).incidents).toHaveLength(50);
    hub.apply(change('after', 1));
    expect(slow.sent.at(-1)).toMatchObject({ type: 'change' });
  });

  it('a client stuck longer than the lag timeout is closed, never buffered without limit', () => {
    let now = 0;
    const hub = new ChangeHub({ maxBufferedBytes: 1000, lagTimeoutMs: 5000, now: () => now });
    const stuck = new FakeSocket();
    hub.attach(stuck);
    stuck.bufferedAmount = 10_000;
    hub.apply(change('x', 1));
    now = 6000;
    hub.sweep();
    expect(stuck.closed).toEqual({ code: 1013, reason: 'too slow; reconnect' });
    expect(hub.clientCount).toBe(0);
  });

  it('resyncs go through the back-pressure: however many are asked for, one snapshot waits for the drain', () => {
    const hub = new ChangeHub({ maxBufferedBytes: 4000 });
    for (let i = 1; i <= 20; i++) hub.apply(change(`r${i}`, 1));
    const greedy = new FakeSocket();
    hub.attach(greedy);
    greedy.bufferedAmount = 1500;
    for (let i = 0; i < 1000; i++) hub.resync(greedy, 'requested');
    expect(greedy.types()).toEqual(['snapshot']);
    hub.apply(change('r21', 1));
    expect(greedy.types()).toEqual(['snapshot']);
    greedy.bufferedAmount = 0;
    hub.sweep();
    expect(greedy.types()).toEqual(['snapshot', 'snapshot']);
    expect(greedy.sent[1]).toMatchObject({ reason: 'requested', cursor: hub.cursor });
    expect(greedy.sent[1].incidents).toHaveLength(21);
  });

  it('a snapshot holds at most snapshotLimit incidents, the most recent, and counts the others', () => {
    const hub = new ChangeHub({ snapshotLimit: 3 });
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    hub.load(Array.from({ length: 10 }, (_, i) => incidentFixture({ id: `l${i}`, version: 1, last_seen: new Date(t0 + i * 60_000).toISOString() })));
    const s = new FakeSocket();
    hub.attach(s);
    expect(s.sent[0].incidents.map((i: { id: string }) => i.id)).toEqual(['l9', 'l8', 'l7']);
    expect(s.sent[0].omitted).toBe(7);
    hub.apply(change('l3', 2, 'resolved'));
    hub.resync(s, 'requested');
    expect(s.sent.at(-1)).toMatchObject({ type: 'snapshot', omitted: 6 });
  });

  it('a client dropped for being slow is counted', () => {
    let now = 0;
    const drops: string[] = [];
    const hub = new ChangeHub({ maxBufferedBytes: 1000, lagTimeoutMs: 5000, now: () => now, onDrop: (r) => drops.push(r) });
    const stuck = new FakeSocket();
    hub.attach(stuck);
    stuck.bufferedAmount = 10_000;
    hub.resync(stuck, 'requested');
    now = 6000;
    hub.sweep();
    expect(drops).toEqual(['slow']);
    expect(stuck.closed?.code).toBe(1013);
  });
});
