import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServicesError } from './fetch.ts';
import { isAlive, javaHome, portOpen } from './process.ts';

/** Elasticsearch refuses to run as root, so a root caller runs it as this system user. */
export const ES_USER = 'canhgac-es';

export interface ElasticsearchOptions {
  home: string;
  dir: string;
  httpPort: number;
  transportPort: number;
  heapMb?: number;
}

export interface RunningElasticsearch {
  pid: number;
  url: string;
  dir: string;
  httpPort: number;
  transportPort: number;
}

function ensureUser(): void {
  if (spawnSync('id', ['-u', ES_USER]).status === 0) return;
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_USER], { encoding: 'utf8' });
  if (r.status !== 0) throw new ServicesError(`could not create the user ${ES_USER} for Elasticsearch: ${r.stderr.trim()}`);
}

function settings(o: ElasticsearchOptions): string {
  return `cluster.name: canhgac-local
node.name: canhgac-local
network.host: 127.0.0.1
http.port: ${o.httpPort}
transport.port: ${o.transportPort}
discovery.type: single-node
path.data: ${join(o.dir, 'data')}
path.logs: ${join(o.dir, 'logs')}
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
`;
}

/** Starts a single-node Elasticsearch (security off, loopback only); returns once the cluster is yellow. */
export async function startElasticsearch(o: ElasticsearchOptions): Promise<RunningElasticsearch> {
  const asRoot = process.getuid?.() === 0;
  const conf = join(o.dir, 'config');
  for (const d of ['data', 'logs', 'tmp', 'config']) mkdirSync(join(o.dir, d), { recursive: true });
  if (!existsSync(join(conf, 'jvm.options'))) cpSync(join(o.home, 'config'), conf, { recursive: true });
  copyFileSync(join(o.home, 'config', 'jvm.options'), join(conf, 'jvm.options'));
  writeFileSync(join(conf, 'elasticsearch.yml'), settings(o));
  if (await portOpen(o.httpPort)) throw new ServicesError(`port ${o.httpPort} is already taken; stop what listens there or pick another port`);
  const heap = o.heapMb ?? 512;
  const pidFile = join(o.dir, 'elasticsearch.pid');
  const env = [`ES_JAVA_HOME=${javaHome()}`, `ES_PATH_CONF=${conf}`, `ES_TMPDIR=${join(o.dir, 'tmp')}`, `ES_JAVA_OPTS=-Xms${heap}m -Xmx${heap}m`];
  const cmd = [join(o.home, 'bin', 'elasticsearch'), '-p', pidFile];
  if (asRoot) {
    ensureUser();
    const r = spawnSync('chown', ['-R', `${ES_USER}:`, o.dir]);
    if (r.status !== 0) throw new ServicesError(`could not hand ${o.dir} to ${ES_USER}`);
    const readable = spawnSync('runuser', ['-u', ES_USER, '--', 'test', '-r', join(o.home, 'lib')]);
    if (readable.status !== 0) {
      throw new ServicesError(`${ES_USER} cannot read ${o.home}: make its parent folders world-readable or set CANHGAC_SERVICES_DIR to a folder that is`);
    }
  }
  const out = openSync(join(o.dir, 'elasticsearch.out'), 'a');
  const argv = asRoot ? ['runuser', '-u', ES_USER, '--', 'env', ...env, ...cmd] : ['env', ...env, ...cmd];
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const url = `http://127.0.0.1:${o.httpPort}`;
  const launcher = child.pid!;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (!isAlive(launcher) && !existsSync(pidFile)) throw new ServicesError(`elasticsearch exited during start; see ${join(o.dir, 'elasticsearch.out')}`);
    if (await elasticsearchAnswers(url)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return { pid, url, dir: o.dir, httpPort: o.httpPort, transportPort: o.transportPort };
    }
    await sleep(500);
  }
  throw new ServicesError(`elasticsearch did not answer on ${url} within 180s; see ${join(o.dir, 'logs')}`);
}

export async function elasticsearchAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}
