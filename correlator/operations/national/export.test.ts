import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import { createLogger } from '../../../shared/log.ts';
import { incidentFixture } from '../../../shared/store/fixtures.ts';
import { NationalSchema, PushSchema, type NationalConfig } from '../config.ts';
import { operationsHarness } from '../test-support.ts';
import { NationalExporter } from './export.ts';
import { PushError, TaxiiPush, TAXII_MEDIA_TYPE } from './push.ts';
import { verifySignature } from './signature.ts';
import { BundleSchema } from './stix-schema.ts';

const NATIONAL = 't.soc.national';
const config: NationalConfig = NationalSchema.parse({ identity: { name: 'Tỉnh Thử' } });
const levels: Record<string, number> = { 'portal.tinh.gov.vn': 3, 'ketoan.tinh.gov.vn': 2 };
const securityLevelOf = (h: string) => levels[h];
const DAY = 24 * 3600_000;

async function exporterHarness(push: TaxiiPush | null = null) {
  const h = await operationsHarness('2026-11-20T04:00:00.000Z');
  const exporter = new NationalExporter({ trail: h.trail, nationalTopic: NATIONAL, config, securityLevelOf, reportDueMs: 5 * DAY, push });
  return { ...h, exporter };
}

describe('national export', () => {
  it('exports qualifying real incidents as valid STIX, never a drill, and records each export', async () => {
    const h = await exporterHarness();
    await h.store.upsertIncident(incidentFixture({ id: 'shared', share_national: true, report_due: '2026-11-25T03:00:00.000Z' }));
    await h.store.upsertIncident(incidentFixture({ id: 'drill-shared', share_national: true, drill: 'd-2026-11', layer: 4 }));
    await h.store.upsertIncident(incidentFixture({ id: 'critical-l3', severity: 'critical', host: ['portal.tinh.gov.vn'] }));
    await h.store.upsertIncident(incidentFixture({ id: 'critical-l2', severity: 'critical', host: ['ketoan.tinh.gov.vn'] }));

    expect(await h.exporter.exportIncident('drill-shared')).toEqual({ kind: 'skipped', reason: 'not-qualifying' });
    expect(await h.exporter.exportIncident('critical-l2')).toEqual({ kind: 'skipped', reason: 'not-qualifying' });
    expect(await h.exporter.exportIncident('missing')).toEqual({ kind: 'skipped', reason: 'not-found' });
    expect(h.producer.on(NATIONAL)).toEqual([]);

    const out = await h.exporter.exportIncident('shared');
    expect(out.kind).toBe('exported');
    const sent = h.producer.on(NATIONAL);
    expect(sent.map((m) => m.key)).toEqual(['shared']);
    expect(BundleSchema.safeParse(JSON.parse(sent[0]!.value)).success).toBe(true);
    const stored = (await h.store.getIncident('shared'))!;
    expect(stored.timeline.at(-1)).toMatchObject({ actor: 'canhgac', action: 'national_export', to: { state: 'open', pushed: false } });
    expect((await h.store.searchAudit({ incident_id: 'shared', action: 'national_export' })).total).toBe(1);
    expect(h.producer.changes('t.soc.incidents').map((c) => c.incident.id)).toEqual(['shared']);

    // Critical on a level-3 server qualifies without the rule saying so, and gets its report deadline.
    await h.exporter.exportIncident('critical-l3');
    expect(await h.store.getIncident('critical-l3')).toMatchObject({ report_due: '2026-11-25T03:00:00.000Z' });
    expect(h.producer.on(NATIONAL).map((m) => m.key)).toEqual(['shared', 'critical-l3']);
  });

  it('exports once while open and once more when closed; the sweep catches up and skips drills', async () => {
    const h = await exporterHarness();
    await h.store.upsertIncident(incidentFixture({ id: 'a', share_national: true }));
    await h.store.upsertIncident(incidentFixture({ id: 'b', layer: 4 }));
    await h.store.upsertIncident(incidentFixture({ id: 'c', share_national: true, drill: 'd1' }));
    expect(await h.exporter.exportPending()).toEqual({ exported: 2, failed: 0 });
    expect(await h.exporter.exportPending()).toEqual({ exported: 0, failed: 0 });
    expect(await h.exporter.exportIncident('a')).toEqual({ kind: 'skipped', reason: 'already-exported' });
    await h.store.updateIncident('a', (i) => ({ ...i, status: 'resolved' }));
    expect(await h.exporter.exportPending()).toEqual({ exported: 1, failed: 0 });
    expect(
      h.producer
        .on(NATIONAL)
        .map((m) => m.key)
        .sort(),
    ).toEqual(['a', 'a', 'b']);
    const finalBundle = JSON.parse(h.producer.on(NATIONAL).filter((m) => m.key === 'a')[1]!.value);
    expect(finalBundle.objects.find((o: { type: string }) => o.type === 'incident').x_canhgac_status).toBe('resolved');
  });

  it('follows soc.incidents and exports what qualifies as it changes', async () => {
    const h = await operationsHarness('2026-11-20T04:00:00.000Z');
    const bus = new MemoryBus();
    const producer = await bus.producer();
    const trail = { ...h.trail, producer };
    const exporter = new NationalExporter({ trail, nationalTopic: NATIONAL, config, securityLevelOf, reportDueMs: 5 * DAY, push: null });
    await bus.ensureTopics([{ topic: trail.incidentsTopic, partitions: 1 }]);
    await exporter.start(bus, 'national-test');
    const real = (await h.store.upsertIncident(incidentFixture({ id: 'live', share_national: true }))).incident;
    const drill = (await h.store.upsertIncident(incidentFixture({ id: 'live-drill', share_national: true, drill: 'd9' }))).incident;
    await producer.send(trail.incidentsTopic, [
      { key: 'garbage', value: '{"not": "a change"' },
      { key: 'live-drill', value: JSON.stringify({ type: 'created', at: drill.updated_at, incident: drill }) },
      { key: 'live', value: JSON.stringify({ type: 'created', at: real.updated_at, incident: real }) },
    ]);
    const national = await bus.consumer({ groupId: 'reader', topics: [NATIONAL], fromBeginning: true });
    const keys: string[] = [];
    await national.run(async (b) => {
      for (const m of b.messages) keys.push(m.key!);
    });
    await expect.poll(() => keys, { timeout: 3000 }).toEqual(['live']);
    await expect.poll(async () => (await h.store.getIncident('live'))!.timeline.some((t) => t.action === 'national_export')).toBe(true);
    await exporter.stop();
    await national.stop();
  });
});

describe('signed HTTPS push to a TAXII 2.1 collection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canhgac-push-'));
  const ed = generateKeyPairSync('ed25519');
  let server: Server;
  let port = 0;
  const received: { headers: Record<string, string | string[] | undefined>; body: Buffer; client: string | undefined }[] = [];
  const answers: number[] = [];

  const cert = (name: string) => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, `${name}.key`),
        '-out',
        join(dir, `${name}.crt`),
      ],
      { stdio: 'ignore' },
    );
  };

  beforeAll(async () => {
    cert('centre');
    cert('province');
    writeFileSync(join(dir, 'signing.pem'), ed.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'token'), 'tok-123\n');
    server = createServer(
      {
        key: readFileSync(join(dir, 'centre.key')),
        cert: readFileSync(join(dir, 'centre.crt')),
        ca: readFileSync(join(dir, 'province.crt')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          received.push({ headers: req.headers, body: Buffer.concat(chunks), client: peer.subject?.CN as string | undefined });
          res.writeHead(answers.shift() ?? 202, { 'content-type': TAXII_MEDIA_TYPE });
          res.end('{}');
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const pushConfig = () =>
    PushSchema.parse({
      url: `https://127.0.0.1:${port}/taxii2/api1/collections/9cfa669c-ee94-4ece-afd2-f8edac37d8fd/objects/`,
      tokenFile: join(dir, 'token'),
      clientCert: { cert: join(dir, 'province.crt'), key: join(dir, 'province.key') },
      ca: join(dir, 'centre.crt'),
      signing: { algorithm: 'ed25519', keyFile: join(dir, 'signing.pem'), keyId: 'tinh-thu-2026' },
      attempts: 3,
    });

  it('pushes with the client certificate, a token and a signature the centre verifies, retrying a busy centre', async () => {
    const sleeps: number[] = [];
    const push = new TaxiiPush(pushConfig(), createLogger('push-test'), async (ms) => void sleeps.push(ms));
    const h = await exporterHarness(push);
    await h.store.upsertIncident(incidentFixture({ id: 'pushed', share_national: true, group: { 'source.ip': '198.51.100.20' } }));
    received.length = 0;
    answers.push(503);
    const out = await h.exporter.exportIncident('pushed');
    expect(out).toMatchObject({ kind: 'exported', pushed: { status: 202, attempts: 2 } });
    expect(sleeps).toEqual([2000]);
    expect(received).toHaveLength(2);
    const last = received[1]!;
    expect(last.client).toBe('province');
    expect(last.headers.authorization).toBe('Bearer tok-123');
    expect(last.headers['content-type']).toBe(TAXII_MEDIA_TYPE);
    const envelope = JSON.parse(last.body.toString('utf8'));
    expect(envelope.objects.some((o: { pattern?: string }) => o.pattern === "[ipv4-addr:value = '198.51.100.20']")).toBe(true);
    const sig = last.headers['x-canhgac-signature'] as string;
    expect(sig).toMatch(/^keyId="tinh-thu-2026",algorithm="ed25519",signature="/);
    expect(verifySignature(last.body, sig, ed.publicKey)).toBe(true);
    expect(verifySignature(Buffer.concat([last.body, Buffer.from(' ')]), sig, ed.publicKey)).toBe(false);
    expect((await h.store.getIncident('pushed'))!.timeline.at(-1)).toMatchObject({ action: 'national_export', to: { pushed: true } });
  });

  it('a refused push is not retried and not recorded; the sweep exports it later', async () => {
    const push = new TaxiiPush(pushConfig(), createLogger('push-test'), async () => undefined);
    const h = await exporterHarness(push);
    await h.store.upsertIncident(incidentFixture({ id: 'refused', share_national: true }));
    received.length = 0;
    answers.push(400);
    await expect(h.exporter.exportIncident('refused')).rejects.toBeInstanceOf(PushError);
    expect(received).toHaveLength(1);
    expect((await h.store.getIncident('refused'))!.timeline.some((t) => t.action === 'national_export')).toBe(false);
    expect(await h.exporter.exportPending()).toEqual({ exported: 1, failed: 0 });
  });

  it('gives up after the configured attempts when the centre stays down', async () => {
    const push = new TaxiiPush({ ...pushConfig(), url: 'https://127.0.0.1:1/objects/' }, createLogger('push-test'), async () => undefined);
    const bundle = BundleSchema.parse({ type: 'bundle', id: 'bundle--886313e1-3b8a-5372-9b90-0c9aee199e5d', objects: [] });
    await expect(push.push(bundle)).rejects.toMatchObject({ name: 'PushError', attempts: 3, status: null });
  });
});
