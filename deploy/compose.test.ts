import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CollectorConfigSchema } from '../collector/config.ts';
import { ConsoleConfigSchema } from '../console/config.ts';
import { CorrelatorConfigSchema } from '../correlator/config.ts';
import { BaseConfigSchema, loadConfig } from '../shared/config.ts';

/**
 * docker-compose.yml as a deployment, checked without a Docker engine: what listens, that Kafka and
 * Elasticsearch speak only TLS, that every component has its own credentials from files the one-time
 * deploy/make-pki.sh makes, and that each component's config loads.
 */
const root = resolve(import.meta.dirname, '..');
interface Service {
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  command?: string[];
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};
const services = compose.services;
const components = { collector: CollectorConfigSchema, correlator: CorrelatorConfigSchema, console: ConsoleConfigSchema } as const;

describe('docker-compose.yml', () => {
  it('publishes only syslog and the console on the loopback, as the README says', () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.sort()).toEqual(['collector 514:5514/tcp', 'collector 514:5514/udp', 'console 127.0.0.1:8080:8080']);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('514/udp and 514/tcp');
    expect(readme).toContain('127.0.0.1:8080');
  });

  it('runs Kafka without a plaintext listener and Elasticsearch with HTTP TLS and security', () => {
    const kafka = services.kafka!.environment!;
    expect(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((m) => m.split(':')[1])).not.toContain('PLAINTEXT');
    expect(kafka.KAFKA_LISTENER_NAME_BROKER_SSL_CLIENT_AUTH).toBe('required');
    expect(kafka.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    const es = services.elasticsearch!.environment!;
    expect([es['xpack.security.enabled'], es['xpack.security.http.ssl.enabled']]).toEqual(['true', 'true']);
    for (const s of Object.values(services)) expect(Object.keys(s.environment ?? {})).not.toContain('ELASTICSEARCH_URL');
  });

  it('gives every component its own Kafka and Elasticsearch user, from secrets its service mounts', () => {
    const kafkaUsers = new Set<string>();
    const esUsers = new Set<string>();
    for (const [name, schema] of Object.entries(components)) {
      const cfg = loadConfig(join(root, 'deploy', `${name}.yml`), schema, {});
      const service = services[name]!;
      expect(cfg.kafka?.tls?.ca, name).toBe('/etc/canhgac/pki/ca.pem');
      expect(service.volumes).toContain('./deploy/pki/ca.pem:/etc/canhgac/pki/ca.pem:ro');
      const sasl = cfg.kafka!.sasl!;
      expect(sasl.password, `${name}: no password in the file`).toBeUndefined();
      kafkaUsers.add(sasl.username);
      const files = [sasl.passwordFile!];
      if (cfg.elasticsearch) {
        expect(cfg.elasticsearch.url.startsWith('https://')).toBe(true);
        expect(cfg.elasticsearch.manageTemplates).toBe(false);
        esUsers.add(cfg.elasticsearch.username!);
        files.push(cfg.elasticsearch.passwordFile!);
      }
      for (const f of files) expect(service.secrets, `${name} mounts ${f}`).toContain(f.replace('/run/secrets/', ''));
    }
    expect(kafkaUsers.size).toBe(3);
    expect(esUsers.size).toBe(2);
    // es-setup creates exactly the Elasticsearch users the components use.
    const setup = services['es-setup']!;
    expect(setup.command).toEqual(expect.arrayContaining(['--roles', '--users', '/run/secrets']));
    for (const u of esUsers) expect(setup.secrets).toContain(`es-${u.replace('canhgac-', '')}`);
    expect(loadConfig(join(root, 'deploy', 'es-admin.yml'), BaseConfigSchema, {}).elasticsearch?.passwordFile).toBe('/run/secrets/elastic');
    // kafka-setup creates exactly the Kafka users the components use.
    const kafkaSetup = readFileSync(join(root, 'deploy', 'kafka-setup.sh'), 'utf8');
    for (const u of kafkaUsers) expect(kafkaSetup).toContain(`User:${u}`);
  });

  it('mounts only files deploy/make-pki.sh makes, and the script makes them with the right names in the certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-deploy-'));
    copyFileSync(join(root, 'deploy', 'make-pki.sh'), join(dir, 'make-pki.sh'));
    execFileSync('bash', [join(dir, 'make-pki.sh')], { stdio: 'ignore' });
    const mounted = Object.values(services).flatMap((s) =>
      (s.volumes ?? []).filter((v) => v.startsWith('./deploy/pki/')).map((v) => v.split(':')[0]!.replace('./deploy/', '')),
    );
    const secretFiles = Object.values(compose.secrets).map((s) => s.file.replace('./deploy/', ''));
    for (const f of [...mounted, ...secretFiles]) expect(existsSync(join(dir, f)), f).toBe(true);
    const ca = new X509Certificate(readFileSync(join(dir, 'pki', 'ca.pem')));
    for (const [name, host] of [
      ['kafka', 'kafka'],
      ['elasticsearch', 'elasticsearch'],
    ]) {
      const cert = new X509Certificate(readFileSync(join(dir, 'pki', `${name}.pem`)));
      expect(cert.checkHost(host!)).toBe(host);
      expect(cert.verify(ca.publicKey)).toBe(true);
    }
    const passwords = secretFiles.map((f) => readFileSync(join(dir, f), 'utf8').trim());
    expect(new Set(passwords).size).toBe(passwords.length);
  });
});
