import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canhgac, canhgacBin } from '../../test/support/cli.ts';
import { elasticsearchUrl, kafkaBrokers, testElasticsearch, uniqueName } from '../../test/support/services.ts';

describe('canhgac console', () => {
  it('starts from a config file, serves the page and the API behind a login, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-console-cli-'));
    const prefix = uniqueName('cli-console');
    expect(canhgac(['users', 'add', 'lan', '--role', 'viewer', '--file', join(dir, 'users.json')], 'a long enough passphrase\n').status).toBe(0);
    writeFileSync(
      join(dir, 'console.yml'),
      `console:\n  port: 0\n  usersFile: users.json\n  indexPrefix: ${prefix}\n  topicPrefix: ${prefix}.\n  rules: rules\n`,
    );
    const child = spawn(process.execPath, [canhgacBin, 'console', '--config', join(dir, 'console.yml')], {
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), ELASTICSEARCH_URL: elasticsearchUrl(), CANHGAC_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /console listening on (\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`console exited: ${stderr}`)));
    });
    try {
      expect((await fetch(`${address}/`)).status).toBe(200);
      expect((await fetch(`${address}/api/incidents`)).status).toBe(401);
      const login = await fetch(`${address}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'lan', password: 'a long enough passphrase' }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const health = await fetch(`${address}/api/health`, { headers: { cookie } });
      expect(await health.json()).toMatchObject({ status: 'ok', feed: 'joined' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const es = testElasticsearch();
    await es.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await es.indices.deleteIndexTemplate({ name: `${prefix}-*` });
    await es.cluster.deleteComponentTemplate({ name: `${prefix}-*` });
    await es.close();
  });

  it('names the file, line and field of a bad config; usage errors exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-console-cli-'));
    writeFileSync(join(dir, 'bad.yml'), `console:\n  port: 8080\n  sessionTtlMinutes: 1\n`);
    const r = canhgac(['console', '--config', join(dir, 'bad.yml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.yml:3:\d+: error: .*sessionTtlMinutes|bad\.yml:3:\d+: error/);
    expect(canhgac(['console']).status).toBe(2);
    expect(canhgac(['console', '--help']).stdout).toMatch(/Usage: canhgac console --config FILE/);
  });
});
