import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnvelope, type Envelope } from '../../shared/envelope.ts';
import { createLogger } from '../../shared/log.ts';
import { FileSourceSchema } from '../config.ts';
import { CollectorMetrics } from '../metrics.ts';
import type { OutRecord, RecordSink } from '../record.ts';
import { CheckpointStore } from './checkpoints.ts';
import { FileTailSource } from './file-tail.ts';

/** A sink that keeps what it gets; `autoAck` makes every record durable at once, as a fast Kafka would. */
class MemorySink implements RecordSink {
  records: OutRecord[] = [];
  open = true;
  autoAck = true;
  private listeners = new Set<() => void>();
  ready() {
    return this.open;
  }
  offer(records: OutRecord[]) {
    this.records.push(...records);
    if (this.autoAck) for (const r of records) r.done?.file.commit(r.done.end);
    return 0;
  }
  onReady(l: () => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  setOpen(open: boolean) {
    this.open = open;
    if (open) for (const l of this.listeners) l();
  }
  envelopes(): Envelope[] {
    return this.records.map((r) => {
      const p = parseEnvelope(r.value);
      if (!p.ok) throw new Error(p.reason);
      return p.envelope;
    });
  }
  lines(): string[] {
    return this.envelopes().map((e) => e.line);
  }
}

const dirs: string[] = [];
const sources: FileTailSource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { startAt?: 'end' | 'beginning'; lineLimit?: number; paths?: string[]; dir?: string; store?: CheckpointStore; sink?: MemorySink } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'canhgac-tail-'));
  if (!opts.dir) dirs.push(dir);
  const sink = opts.sink ?? new MemorySink();
  const checkpoints = opts.store ?? new CheckpointStore(join(dir, 'state', 'cp.json'));
  const config = FileSourceSchema.parse({
    type: 'file',
    name: 'app',
    paths: opts.paths ?? [join(dir, '*.log')],
    startAt: opts.startAt ?? 'beginning',
    format: 'test',
  });
  const source = new FileTailSource(config, {
    host: 'srv-1',
    unit: 'u1',
    lineLimit: opts.lineLimit ?? 1024,
    pollMs: 20,
    rotateWaitMs: 200,
    sink,
    checkpoints,
    metrics: new CollectorMetrics(),
    log: createLogger('test', {}, 'silent'),
  });
  sources.push(source);
  return { dir, sink, checkpoints, source };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileTailSource', () => {
  it('wraps complete lines in envelopes, waits for a partial line, drops CR, and ids lines by file and offset', async () => {
    const { dir, sink, source } = setup();
    const file = join(dir, 'a.log');
    writeFileSync(file, 'first\r\nsecond\nthi');
    source.start();
    await waitFor(() => sink.records.length === 2, 'two lines');
    await pause(100);
    expect(sink.lines()).toEqual(['first', 'second']);
    appendFileSync(file, 'rd\n\n');
    await waitFor(() => sink.records.length === 3, 'the completed line');
    const envs = sink.envelopes();
    expect(envs.map((e) => e.line)).toEqual(['first', 'second', 'third']);
    expect(envs[0]).toMatchObject({ kind: 'line', host: 'srv-1', unit: 'u1', source: file, format: 'test' });
    const ids = envs.map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.map((id) => Number(id.split(':').pop()))).toEqual([0, 7, 14]);
    expect(sink.records.every((r) => r.key === 'srv-1')).toBe(true);
  });

  it('cuts a line longer than the limit, flags it, and keeps only the limit in memory', async () => {
    const { dir, sink, source } = setup({ lineLimit: 300 });
    const file = join(dir, 'a.log');
    writeFileSync(file, `${'x'.repeat(1000)}`);
    source.start();
    await pause(100);
    appendFileSync(file, `${'y'.repeat(5000)}\nshort\n`);
    await waitFor(() => sink.records.length === 2, 'two lines');
    const envs = sink.envelopes();
    expect(envs[0]!.line).toBe('x'.repeat(300));
    expect(envs[0]!.truncated).toBe(true);
    expect(envs[1]).toMatchObject({ line: 'short' });
    expect(envs[1]!.truncated).toBeUndefined();
  });

  it('ships a line with invalid UTF-8 with U+FFFD in place of the bad bytes, flagged invalid_utf8', async () => {
    const { dir, sink, source } = setup({});
    const file = join(dir, 'a.log');
    writeFileSync(file, Buffer.concat([Buffer.from('/srv/h'), Buffer.from([0xf3]), Buffer.from('a.exe: Eicar FOUND\nclean\n')]));
    source.start();
    await waitFor(() => sink.records.length === 2, 'two lines');
    const envs = sink.envelopes();
    expect(envs.map((e) => [e.line, e.invalid_utf8])).toEqual([
      ['/srv/h\ufffda.exe: Eicar FOUND', true],
      ['clean', undefined],
    ]);
  });

  it('starts at the end of files present at start-up, and at the beginning of files created later', async () => {
    const { dir, sink, source } = setup({ startAt: 'end' });
    writeFileSync(join(dir, 'old.log'), 'before start\n');
    source.start();
    await pause(60);
    appendFileSync(join(dir, 'old.log'), 'after start\n');
    writeFileSync(join(dir, 'new.log'), 'new file line\n');
    await waitFor(() => sink.records.length === 2, 'two lines');
    expect(sink.lines().sort()).toEqual(['after start', 'new file line']);
  });

  it('follows a rename-and-create rotation: the old file is read to its end, the new one from 0', async () => {
    const { dir, sink, source } = setup();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'a1\na2\n');
    source.start();
    await waitFor(() => sink.records.length === 2, 'first lines');
    // The writer still appends to the renamed file before it reopens.
    renameSync(file, join(dir, 'app.log.1'));
    appendFileSync(join(dir, 'app.log.1'), 'a3\n');
    writeFileSync(file, 'b1\n');
    appendFileSync(join(dir, 'app.log.1'), 'a4\n');
    await waitFor(() => sink.records.length === 5, 'all lines');
    const lines = sink.lines();
    expect(lines.filter((l) => l.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(lines.filter((l) => l.startsWith('b'))).toEqual(['b1']);
    await waitFor(() => source.tracked().length === 1, 'the rotated file to be closed');
    expect(source.tracked()[0]!.path).toBe(file);
  });

  it('follows copytruncate: unread lines come from the copy, the truncated file restarts with new ids', async () => {
    const { dir, sink, source } = setup();
    const file = join(dir, 'app.log');
    const head = `header ${'h'.repeat(300)}\n`;
    writeFileSync(file, `${head}c1\n`);
    source.start();
    await waitFor(() => sink.records.length === 2, 'first lines');
    // Lines written and copied away before the collector read them.
    sink.setOpen(false);
    appendFileSync(file, 'c2\nc3\n');
    copyFileSync(file, join(dir, 'app.log.1'));
    truncateSync(file, 0);
    appendFileSync(file, 'd1\n');
    await pause(60);
    sink.setOpen(true);
    await waitFor(() => sink.records.length === 5, 'all lines');
    await pause(100);
    const envs = sink.envelopes();
    expect(envs.map((e) => e.line)).toEqual([head.trimEnd(), 'c1', 'c2', 'c3', 'd1']);
    expect(new Set(envs.map((e) => e.id)).size).toBe(5);
    // The copy's lines keep the ids they would have had in the original file.
    expect(envs[2]!.id.split(':').slice(0, -1)).toEqual(envs[0]!.id.split(':').slice(0, -1));
  });

  it('does not let late acknowledgements from before a truncation move the checkpoint of what follows it', async () => {
    const { dir, sink, source } = setup();
    const file = join(dir, 'app.log');
    sink.autoAck = false;
    writeFileSync(file, `${'old line '.repeat(40)}\n`.repeat(3));
    source.start();
    await waitFor(() => sink.records.length === 3, 'three lines');
    truncateSync(file, 0);
    appendFileSync(file, 'new\n');
    await waitFor(() => sink.records.length === 4, 'the line after the truncation');
    for (const r of sink.records.slice(0, 3)) r.done!.file.commit(r.done!.end);
    expect(source.tracked().find((t) => t.path === file)!.committed).toBe(0);
    const last = sink.records[3]!;
    last.done!.file.commit(last.done!.end);
    expect(source.tracked().find((t) => t.path === file)!.committed).toBe(4);
  });

  it('notices a file deleted and recreated', async () => {
    const { dir, sink, source } = setup();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'one\n');
    source.start();
    await waitFor(() => sink.records.length === 1, 'first line');
    unlinkSync(file);
    writeFileSync(file, 'two\n');
    await waitFor(() => sink.records.length === 2, 'line of the new file');
    expect(sink.lines()).toEqual(['one', 'two']);
  });

  it('resumes after a restart from the last durable line: acknowledged lines are not read again, the others are, with the same ids', async () => {
    const first = setup();
    const file = join(first.dir, 'app.log');
    writeFileSync(file, 'l1\nl2\nl3\n');
    first.source.start();
    await waitFor(() => first.sink.records.length === 3, 'three lines');
    first.sink.autoAck = false;
    appendFileSync(file, 'l4\nl5\n');
    await waitFor(() => first.sink.records.length === 5, 'five lines');
    // Only l4 reached Kafka before the crash.
    const l4 = first.sink.records[3]!;
    l4.done!.file.commit(l4.done!.end);
    first.source.stop();
    first.checkpoints.save();
    appendFileSync(file, 'l6\n');

    const second = setup({ dir: first.dir, store: new CheckpointStore(join(first.dir, 'state', 'cp.json')) });
    second.source.start();
    await waitFor(() => second.sink.records.length === 2, 'the unacknowledged lines');
    expect(second.sink.lines()).toEqual(['l5', 'l6']);
    expect(second.sink.envelopes()[0]!.id).toBe(first.sink.envelopes()[4]!.id);
  });

  it('reads a file rotated away while the collector was down from its checkpoint', async () => {
    const first = setup();
    const file = join(first.dir, 'app.log');
    writeFileSync(file, 'r1\n');
    first.source.start();
    await waitFor(() => first.sink.records.length === 1, 'first line');
    first.source.stop();
    first.checkpoints.save();
    appendFileSync(file, 'r2\n');
    renameSync(file, join(first.dir, 'app.log.1'));
    writeFileSync(file, 's1\n');

    const second = setup({ dir: first.dir, store: new CheckpointStore(join(first.dir, 'state', 'cp.json')) });
    second.source.start();
    await waitFor(() => second.sink.records.length === 2, 'both lines');
    expect(second.sink.lines().sort()).toEqual(['r2', 's1']);
  });

  it('reads nothing while the sink has no room, and goes on when it has', async () => {
    const { dir, sink, source } = setup();
    sink.open = false;
    writeFileSync(join(dir, 'a.log'), 'p1\np2\n');
    source.start();
    await pause(100);
    expect(sink.records).toHaveLength(0);
    sink.setOpen(true);
    await waitFor(() => sink.records.length === 2, 'lines after backpressure');
  });

  it('honours exclude patterns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-tail-'));
    dirs.push(dir);
    const sink = new MemorySink();
    const config = FileSourceSchema.parse({ type: 'file', name: 'x', paths: [join(dir, '*.log')], exclude: [join(dir, 'skip*')], startAt: 'beginning' });
    const source = new FileTailSource(config, {
      host: 'h',
      lineLimit: 1024,
      pollMs: 20,
      rotateWaitMs: 100,
      sink,
      checkpoints: new CheckpointStore(join(dir, 'x.json')),
      metrics: new CollectorMetrics(),
      log: createLogger('t', {}, 'silent'),
    });
    sources.push(source);
    writeFileSync(join(dir, 'keep.log'), 'keep\n');
    writeFileSync(join(dir, 'skip.log'), 'skip\n');
    source.start();
    await waitFor(() => sink.records.length === 1, 'one line');
    await pause(60);
    expect(sink.lines()).toEqual(['keep']);
  });
});
