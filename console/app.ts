import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Bus } from '../shared/bus/types.ts';
import type { Logger } from '../shared/log.ts';
import { MAX_RESULT_WINDOW, type IncidentStore } from '../shared/store/types.ts';
import { createGuard } from './auth/guard.ts';
import { AccountLockout, type LockoutOptions } from './auth/lockout.ts';
import { requireJsonForChanges } from './auth/same-origin.ts';
import { SessionStore } from './auth/sessions.ts';
import { UsersDirectory } from './auth/users-file.ts';
import type { ConsoleContext, RulesProvider } from './context.ts';
import { createConsoleMetrics } from './metrics.ts';
import { actionRoutes } from './routes/actions.ts';
import { healthRoutes } from './routes/health.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { loginRoutes } from './routes/login.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { handoverRoutes } from './routes/handover.ts';
import { ruleRoutes } from './routes/rules.ts';
import { userRoutes } from './routes/users.ts';
import { ChangeFeed } from './stream/change-feed.ts';
import { ChangeHub, type HubOptions } from './stream/hub.ts';
import type { StreamLimitOptions } from './stream/limits.ts';
import { streamRoutes } from './stream/route.ts';
import { PACKAGE_ROOT } from '../shared/package-root.ts';
import { installZodValidation } from './validation.ts';

export interface ConsoleOptions {
  store: IncidentStore;
  bus: Bus;
  /** topicNames(prefix).incidents */
  incidentsTopic: string;
  usersFile: string;
  rules: RulesProvider;
  log: Logger;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Cookies Secure although the console speaks plain HTTP (a TLS proxy in front). */
  behindTlsProxy?: boolean;
  /** Addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For is believed; nobody else's is. */
  trustedProxies?: string[];
  sessionTtlMs?: number;
  loginAttemptsPerMinute?: number;
  lockout?: Partial<LockoutOptions>;
  streamLimits?: Partial<StreamLimitOptions>;
  metricsToken?: string;
  hub?: HubOptions;
}

export interface ConsoleApp {
  app: FastifyInstance;
  ctx: ConsoleContext;
}

/** The page's files stay beside the sources (not compiled), found from the package's folder. */
const PAGE_DIR = join(PACKAGE_ROOT, 'console', 'page');

/** The page's own files; the folder also holds its tests, which are not served. */
const PAGE_ASSETS = new Set(
  readdirSync(PAGE_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(html|js|css|json)$/.test(f))
    .map((f) => `/${f.split(sep).join('/')}`),
);

/**
 * One console instance: Fastify with one plugin per concern. `app.ready()` (or listen) joins the incident
 * feed and loads the open incidents before the first client is served; `app.close()` leaves the feed.
 */
export async function buildConsole(opts: ConsoleOptions): Promise<ConsoleApp> {
  const metrics = createConsoleMetrics();
  const hub = new ChangeHub({
    ...opts.hub,
    onDeliver: (change) => metrics.changeDelay.observe(Math.max(0, Date.now() - Date.parse(change.at)) / 1000),
    onSnapshot: (reason) => metrics.snapshots.inc({ reason }),
    onDrop: (reason) => metrics.wsDropped.inc({ reason }),
  });
  const users = new UsersDirectory(opts.usersFile);
  const sessions = new SessionStore(opts.sessionTtlMs ?? 12 * 3600_000);
  const feed = new ChangeFeed({ bus: opts.bus, topic: opts.incidentsTopic, log: opts.log, onInvalid: () => metrics.changes.inc({ outcome: 'invalid' }) });
  const ctx: ConsoleContext = {
    store: opts.store,
    feed,
    hub,
    guard: createGuard(users, sessions),
    users,
    sessions,
    metrics,
    rules: opts.rules,
    log: opts.log,
    secureCookies: Boolean(opts.tls) || Boolean(opts.behindTlsProxy),
    sessionTtlMs: opts.sessionTtlMs ?? 12 * 3600_000,
    loginAttemptsPerMinute: opts.loginAttemptsPerMinute ?? 10,
    lockout: new AccountLockout(opts.lockout),
    streamLimits: opts.streamLimits ?? {},
    metricsToken: opts.metricsToken,
  };

  const app = Fastify({
    loggerInstance: opts.log,
    // Only the listed proxies may name the client: anyone else's X-Forwarded-For is ignored.
    trustProxy: opts.trustedProxies?.length ? opts.trustedProxies : false,
    bodyLimit: 64 * 1024,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  app.decorateRequest('user', null);
  installZodValidation(app);
  requireJsonForChanges(app);
  // Nothing the API answers (incidents, audit, health) belongs in a browser's or a proxy's cache.
  app.addHook('onSend', async (request, reply) => {
    if (!PAGE_ASSETS.has(request.url) && request.url !== '/') reply.header('cache-control', 'no-store');
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'canhgac console', version: '1', description: 'Incidents, actions and the live stream of the canhgac SOC console' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'canhgac_session' } } },
      security: [{ session: [] }],
    },
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: opts.tls ? [] : null,
      },
    },
    hsts: opts.tls ? { maxAge: 31_536_000 } : false,
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });

  for (const routes of [
    loginRoutes,
    incidentRoutes,
    actionRoutes,
    userRoutes,
    handoverRoutes,
    ruleRoutes,
    healthRoutes,
    metricsRoutes,
    openapiRoutes,
    streamRoutes,
  ]) {
    await app.register(routes, { ctx });
  }
  await app.register(fastifyStatic, {
    root: PAGE_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    allowedPath: (path) => path === '/' || PAGE_ASSETS.has(path),
  });

  const sweep = setInterval(() => hub.sweep(), 250).unref();
  app.addHook('onReady', async () => {
    await feed.start((change) => metrics.changes.inc({ outcome: hub.apply(change) ? 'applied' : 'stale' }));
    hub.load(await loadOpen(opts.store));
  });
  app.addHook('preClose', async () => {
    clearInterval(sweep);
    hub.closeAll();
  });
  app.addHook('onClose', async () => {
    await feed.stop();
  });
  return { app, ctx };
}

async function loadOpen(store: IncidentStore) {
  const size = 500;
  const out = [];
  for (let page = 1; page * size <= MAX_RESULT_WINDOW; page++) {
    const res = await store.searchIncidents({ status: ['new', 'acknowledged'], page, size });
    out.push(...res.incidents);
    if (out.length >= res.total || res.incidents.length < size) break;
  }
  return out;
}
