import { chmodSync, existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { purgeDrill } from '../../correlator/drills/purge.ts';
import { newDrillId, parseSpeed, replayAuditEntry, replayRecording, type ReplayResult } from '../../correlator/drills/replay.ts';
import type { BusProducer } from '../../shared/bus/types.ts';
import type { Logger } from '../../shared/log.ts';
import type { IncidentStore } from '../../shared/store/types.ts';

/**
 * The control socket of a running `canhgac start`: DATA/canhgac.sock, a Unix socket only the folder's
 * owner may open (mode 0600; the file system is the authentication). The embedded bus lives inside the
 * start process, so `canhgac drill replay` and `drill purge` ask the running instance to do the work.
 */
export const CONTROL_SOCKET = 'canhgac.sock';

const DRILL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const ReplayRequestSchema = z
  .object({
    recording: z.string().min(1),
    speed: z.string().min(1),
    drillId: z.string().regex(DRILL_ID, 'letters, digits, . _ : - (at most 128)').optional(),
    loop: z.boolean().optional(),
    rebase: z.literal('now').optional(),
    actor: z.string().min(1).max(200),
  })
  .strict();
export type ReplayRequest = z.infer<typeof ReplayRequestSchema>;

export const PurgeRequestSchema = z.object({ drillId: z.string().regex(DRILL_ID), actor: z.string().min(1).max(200) }).strict();
export type PurgeRequest = z.infer<typeof PurgeRequestSchema>;

export const SettleRequestSchema = z.object({ drillId: z.string().regex(DRILL_ID) }).strict();

/**
 * How long purge and score wait for a drill's windows to close. A replay that ended closes them within
 * seconds (the correlator's quiet period and timer); a replay still running, or looping, never does.
 */
export const DRILL_SETTLE_MS = 60_000;

export interface ControlDeps {
  dataDir: string;
  store: IncidentStore;
  producer: BusProducer;
  rawTopic: string;
  incidentsTopic: string;
  /** Whether the correlator has nothing of the drill left to write (Correlator.drillSettled). */
  drillSettled(drillId: string): Promise<boolean>;
  /** DRILL_SETTLE_MS unless a test gives its own. */
  settleMs?: number;
  log: Logger;
}

/** Waits until the drill is settled; false when it is not within `ms`. */
async function untilSettled(settled: (drillId: string) => Promise<boolean>, drillId: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; ; ) {
    if (await settled(drillId)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startControlSocket(d: ControlDeps): Promise<{ path: string; close(): Promise<void> }> {
  const path = join(d.dataDir, CONTROL_SOCKET);
  // Left by a start that was killed: this process holds the folder lock, so no one else is listening.
  rmSync(path, { force: true });
  const app: FastifyInstance = Fastify({ logger: false });
  const running = new Set<AbortController>();
  /** Replays under way through this socket, by drill: their drill closes between two lines that are far apart. */
  const replaying = new Map<string, number>();

  app.post('/drills/replay', async (req, reply) => {
    const body = ReplayRequestSchema.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const r = body.data;
    const speed = parseSpeed(r.speed);
    if (speed === null) return reply.code(400).send({ error: `speed: '${r.speed}' is not a number from 0.1 to 1000 or 'max'` });
    if (!existsSync(r.recording)) return reply.code(400).send({ error: `${r.recording}: no such file` });
    // A client that goes away (Ctrl-C on the CLI) stops the replay, as it would stop a replay to Kafka.
    const abort = new AbortController();
    running.add(abort);
    req.raw.socket.once('close', () => abort.abort());
    const skipped: string[] = [];
    const drillId = r.drillId ?? newDrillId();
    replaying.set(drillId, (replaying.get(drillId) ?? 0) + 1);
    try {
      const result: ReplayResult = await replayRecording({
        file: r.recording,
        producer: d.producer,
        topic: d.rawTopic,
        speed,
        drillId,
        loop: r.loop,
        rebase: r.rebase,
        signal: abort.signal,
        onSkip: (lineNo, reason) => skipped.length < 20 && skipped.push(`${r.recording}:${lineNo}: ${reason}`),
      });
      await d.store.appendAudit(replayAuditEntry(result, r.recording, speed, r.actor, new Date()), { refresh: true });
      d.log.info({ drill: result.drillId, sent: result.sent, actor: r.actor, stopped: result.stopped }, 'drill replayed through the control socket');
      return { result, skipped };
    } finally {
      running.delete(abort);
      const left = (replaying.get(drillId) ?? 1) - 1;
      if (left) replaying.set(drillId, left);
      else replaying.delete(drillId);
    }
  });

  const settleMs = d.settleMs ?? DRILL_SETTLE_MS;
  /**
   * Purge and score wait for the drill's last windows to close: the correlator closes them on its timer a
   * few seconds after the replay went quiet, and an incident written after a purge would come back on
   * the console (after a score, be missing from it). A drill that does not close in time is refused.
   */
  const stillRunning = (drillId: string, what: string) =>
    `drill ${drillId} is still running: its last windows did not close within ${settleMs / 1000} s (its replay is still sending, a --loop replay runs until Ctrl-C, or the correlator is behind); ${what}. Stop the replay, then try again`;

  app.post('/drills/settle', async (req, reply) => {
    const body = SettleRequestSchema.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    if (!(await untilSettled(d.drillSettled, body.data.drillId, settleMs))) {
      d.log.warn({ drill: body.data.drillId, waitedMs: settleMs }, 'drill not closed in time: score refused');
      return reply.code(409).send({ error: stillRunning(body.data.drillId, 'its score would miss incidents') });
    }
    return { settled: true };
  });

  app.post('/drills/purge', async (req, reply) => {
    const body = PurgeRequestSchema.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    // Its next lines would raise its incidents again after the purge.
    if (replaying.has(body.data.drillId))
      return reply
        .code(409)
        .send({ error: `drill ${body.data.drillId} is still being replayed into this start; nothing was removed. Stop its replay (Ctrl-C), then purge again` });
    if (!(await untilSettled(d.drillSettled, body.data.drillId, settleMs))) {
      d.log.warn({ drill: body.data.drillId, actor: body.data.actor, waitedMs: settleMs }, 'drill not closed in time: purge refused');
      return reply.code(409).send({ error: stillRunning(body.data.drillId, 'nothing was removed') });
    }
    const removed = await purgeDrill(d.store, body.data.drillId, body.data.actor, new Date(), { producer: d.producer, incidentsTopic: d.incidentsTopic });
    d.log.info({ drill: body.data.drillId, actor: body.data.actor, ...removed }, 'drill purged through the control socket');
    return removed;
  });

  await app.listen({ path });
  chmodSync(path, 0o600);
  return {
    path,
    async close() {
      for (const a of running) a.abort();
      await app.close();
      rmSync(path, { force: true });
    },
  };
}

/** Thrown when no start is listening on the data folder's control socket. */
export class NoRunningStartError extends Error {
  override name = 'NoRunningStartError';
}

/** One request to the control socket of the start that owns `dataDir`; rejects with the server's error text. */
export function callControl<T>(dataDir: string, route: string, body: unknown): Promise<T> {
  const socketPath = join(dataDir, CONTROL_SOCKET);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: route, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return reject(new Error(`${socketPath}: unexpected answer (status ${res.statusCode})`));
        }
        if (res.statusCode === 200) resolve(parsed as T);
        else
          reject(new Error((parsed as { error?: string; message?: string }).error ?? (parsed as { message?: string }).message ?? `status ${res.statusCode}`));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
        reject(
          new NoRunningStartError(
            `no canhgac start is running on ${dataDir} (no one listens on ${socketPath}): start it with canhgac start --data ${dataDir}, or set KAFKA_BROKERS and ELASTICSEARCH_URL for a deployment`,
          ),
        );
      else reject(err);
    });
    req.end(JSON.stringify(body));
  });
}
