import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../../shared/bus/types.ts';
import { createLogger } from '../../shared/log.ts';
import { ElasticsearchIncidentStore } from '../../shared/store/elasticsearch.ts';
import { topicNames } from '../../shared/topics.ts';
import { testElasticsearch, uniqueName } from '../../test/support/services.ts';
import { buildConsole, type ConsoleOptions } from '../app.ts';
import { hashPassword } from '../auth/password.ts';
import { writeUsers, type Role } from '../auth/users-file.ts';
import type { RulesReport } from '../context.ts';

export const PASSWORD = 'correct horse battery staple';

/** A users file with one user per role (and any extra names), all with PASSWORD. */
export async function usersFile(extra: { username: string; role: Role }[] = []): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'canhgac-users-')), 'users.json');
  const hash = await hashPassword(PASSWORD);
  const people = [
    { username: 'vera', role: 'viewer' as const },
    { username: 'rosa', role: 'responder' as const },
    { username: 'adam', role: 'admin' as const },
    ...extra,
  ];
  writeUsers(
    file,
    people.map((p) => ({ ...p, hash, created_at: new Date().toISOString() })),
  );
  return file;
}

export const sampleRules: RulesReport = {
  rules: [
    {
      id: 'r-ssh-brute',
      title: 'SSH brute force',
      description: 'Many failed SSH logins from one source against a shared server.',
      runbook: 'Block the source at the perimeter; check the target auth log.',
      vi: {
        title: 'Dò mật khẩu SSH',
        description: 'Nhiều lần đăng nhập SSH thất bại từ một nguồn vào một máy chủ dùng chung.',
        runbook: 'Chặn nguồn tại biên mạng; kiểm tra nhật ký xác thực của máy đích.',
      },
      level: 'high',
      layer: 2,
      file: 'rules/ssh.yml',
      lint: { state: 'ok', findings: [] },
    },
  ],
  unloaded: [],
};

/** A console on a fresh index prefix and topic, with a store the test writes through. */
export async function startConsole(bus: Bus, over: Partial<ConsoleOptions> & { prefix?: string; usersFile?: string } = {}) {
  const prefix = over.prefix ?? uniqueName('console');
  const store = new ElasticsearchIncidentStore({ client: testElasticsearch(), indexPrefix: prefix });
  await store.init();
  const { app, ctx } = await buildConsole({
    store,
    bus,
    incidentsTopic: topicNames(`${prefix}.`).incidents,
    usersFile: over.usersFile ?? (await usersFile()),
    rules: async () => sampleRules,
    log: createLogger('console-test'),
    loginAttemptsPerMinute: 1000,
    ...over,
  });
  return {
    app,
    ctx,
    store,
    prefix,
    topic: topicNames(`${prefix}.`).incidents,
    async login(username: string): Promise<string> {
      const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: PASSWORD } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      const c = res.cookies.find((k) => k.name === 'canhgac_session')!;
      return `${c.name}=${c.value}`;
    },
    async close() {
      await app.close();
      await dropPrefix(store, prefix);
    },
  };
}

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Removes the indices and templates one test prefix created. */
export async function dropPrefix(store: ElasticsearchIncidentStore, prefix: string): Promise<void> {
  await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
  await store.client.indices.deleteIndexTemplate({ name: `${prefix}-*` });
  await store.client.cluster.deleteComponentTemplate({ name: `${prefix}-*` });
  await store.client.close();
}
