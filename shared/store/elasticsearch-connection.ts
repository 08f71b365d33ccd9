import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../config.ts';
import { readCertificates, readPrivateKey, readSecretFile } from '../connection-files.ts';
import { ConnectionRefusedError, describeTlsFailure, tlsFailureCode } from '../tls-errors.ts';

/**
 * The connection part of every Elasticsearch client canhgac builds: URL, API key or user and password
 * (inline, from `${ENV}` or from files), the site's CA or its fingerprint, a client certificate.
 * Files are read here, at start; errors name the field and the file, never a secret.
 */
export function elasticsearchClientOptions(cfg: ElasticsearchConfig): ClientOptions {
  const url = new URL(cfg.url);
  // A user and password in the URL work as before, but are moved to `auth` so the URL logged is clean.
  const urlUser = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  const t = cfg.tls;
  return {
    node: url.toString().replace(/\/$/, ''),
    auth: elasticsearchAuth(cfg) ?? urlUser,
    caFingerprint: t?.caFingerprint
      ?.replace(/:/g, '')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1:'),
    tls: t
      ? {
          ca: t.ca ? readCertificates('elasticsearch.tls.ca', t.ca) : undefined,
          cert: t.cert ? readCertificates('elasticsearch.tls.cert', t.cert) : undefined,
          key: t.key ? readPrivateKey('elasticsearch.tls.key', t.key) : undefined,
          rejectUnauthorized: t.rejectUnauthorized,
        }
      : undefined,
    // TLS and authentication failures are final; a few retries are for a node that restarts.
    maxRetries: 3,
  };
}

function elasticsearchAuth(cfg: ElasticsearchConfig): ClientOptions['auth'] {
  if (cfg.apiKeyFile) return { apiKey: readSecretFile('elasticsearch.apiKeyFile', cfg.apiKeyFile) };
  if (cfg.apiKey) return { apiKey: cfg.apiKey };
  if (cfg.username === undefined) return undefined;
  const password = cfg.passwordFile ? readSecretFile('elasticsearch.passwordFile', cfg.passwordFile) : (cfg.password ?? '');
  return { username: cfg.username, password };
}

export function elasticsearchClient(cfg: ElasticsearchConfig): Client {
  return new Client(elasticsearchClientOptions(cfg));
}

/** The URL without user or password, as errors show it. */
export function publicUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}

/** One line for an Elasticsearch error: which cluster, what is wrong, which setting to check. */
export function describeElasticsearchError(err: unknown, cfg: ElasticsearchConfig): string {
  const where = `elasticsearch ${publicUrl(cfg.url)}`;
  const code = tlsFailureCode(err);
  if (code) return describeTlsFailure(code, 'elasticsearch', publicUrl(cfg.url), !!cfg.tls?.cert);
  if (err instanceof errors.ResponseError) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '');
    // A TLS-terminating proxy (nginx) answers 400 when a required client certificate is missing or refused.
    if (err.statusCode === 400 && /No required SSL certificate was sent/i.test(body))
      return `${where}: the server requires a client certificate and none was sent; check elasticsearch.tls.cert and elasticsearch.tls.key`;
    if (err.statusCode === 400 && /SSL certificate error/i.test(body))
      return `${where}: the server refused the client certificate; check elasticsearch.tls.cert and elasticsearch.tls.key`;
    const how = cfg.apiKey || cfg.apiKeyFile ? 'elasticsearch.apiKey' : 'elasticsearch.username and password';
    if (err.statusCode === 401) return `${where}: authentication failed (401); check ${how}`;
    if (err.statusCode === 403)
      return `${where}: permission denied (403): ${err.body?.error?.reason ?? 'the role lacks a privilege'}; see the roles in the README`;
    return `${where}: HTTP ${err.statusCode ?? '?'}: ${err.message.split('\n')[0]}`;
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) return `${where}: ${err.message.split('\n')[0]}`;
  return (err as Error)?.message ?? String(err);
}

/**
 * Asks the cluster who we are before the component starts: a TLS or credential problem is then one
 * line naming it, not a failure deep in the first write. A cluster that is down is not checked here.
 */
export async function checkElasticsearchConnection(client: Client, cfg: ElasticsearchConfig): Promise<void> {
  try {
    // A GET with a body: a TLS proxy's refusal (400) explains itself there, which a HEAD cannot carry.
    // No retry: a refusal is final, and a cluster that is down is not this check's business.
    await client.count({ index: `${cfg.indexPrefix}-incidents`, ignore_unavailable: true, allow_no_indices: true }, { maxRetries: 0 });
  } catch (err) {
    if (err instanceof errors.ConnectionError && !tlsFailureCode(err)) return;
    if (err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) return;
    throw new ConnectionRefusedError(describeElasticsearchError(err, cfg));
  }
}
