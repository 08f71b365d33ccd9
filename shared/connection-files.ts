import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * A connection setting that cannot be used (unreadable file, not a certificate, expired certificate, wrong
 * key passphrase). The message names the config field and the file and never holds a secret's value.
 */
export class ConnectionSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionSettingsError';
  }
}

/** Reads a file named by the config at `field`; the error names both. */
export function readSettingFile(field: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message);
    throw new ConnectionSettingsError(`${field}: cannot read ${file}: ${why}`);
  }
}

/** A secret kept in a file (a Docker or Kubernetes secret): the file's text without its final newline. */
export function readSecretFile(field: string, file: string): string {
  const text = readSettingFile(field, file)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new ConnectionSettingsError(`${field}: ${file} is empty`);
  return text;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads a PEM bundle of certificates and checks each one now, so that a wrong file or an expired
 * certificate stops the start with its name instead of failing every connection later.
 */
export function readCertificates(field: string, file: string, now = new Date()): string {
  const pem = readSettingFile(field, file).toString('utf8');
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length) throw new ConnectionSettingsError(`${field}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const block of blocks) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (err) {
      throw new ConnectionSettingsError(`${field}: ${file} holds a certificate that cannot be parsed (${(err as Error).message})`);
    }
    if (new Date(cert.validTo) < now)
      throw new ConnectionSettingsError(
        `${field}: the certificate in ${file} (${cert.subject.replace(/\n/g, ', ')}) expired on ${new Date(cert.validTo).toISOString()}`,
      );
    if (new Date(cert.validFrom) > now)
      throw new ConnectionSettingsError(
        `${field}: the certificate in ${file} (${cert.subject.replace(/\n/g, ', ')}) is not valid before ${new Date(cert.validFrom).toISOString()}`,
      );
  }
  return pem;
}

/** Reads a PEM private key and opens it with the passphrase, so that a wrong passphrase is named at start. */
export function readPrivateKey(field: string, file: string, passphrase?: string): string {
  const pem = readSettingFile(field, file).toString('utf8');
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && passphrase === undefined) throw new ConnectionSettingsError(`${field}: ${file}: the key is encrypted and no passphrase is given`);
  try {
    createPrivateKey({ key: pem, passphrase });
  } catch (err) {
    throw new ConnectionSettingsError(
      `${field}: ${file}: ${encrypted ? 'the passphrase does not open the key' : `not a PEM private key (${(err as Error).message})`}`,
    );
  }
  return pem;
}
