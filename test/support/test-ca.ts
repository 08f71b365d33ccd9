import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a throwaway CA made with openssl, for tests of TLS connections. */
export interface TestCa {
  dir: string;
  /** The CA that signs everything below. */
  ca: string;
  /** Another CA, which signed nothing here: trusting it is "the wrong CA". */
  otherCa: string;
  /** Server certificate for localhost and 127.0.0.1, and its key. */
  serverCert: string;
  serverKey: string;
  /** A server certificate for the same names that expired a year ago. */
  expiredServerCert: string;
  /** Client certificate (CN=canhgac-test-client) and its key; `encryptedClientKey` holds the same key under `keyPassphrase`. */
  clientCert: string;
  clientKey: string;
  encryptedClientKey: string;
  keyPassphrase: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Makes the CA and certificates in `dir`. The expired certificate is signed with `openssl ca` and
 * explicit dates, since OpenSSL 3.0's `x509 -days` cannot go into the past.
 */
export function makeTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  for (const name of ['ca', 'other-ca']) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '30',
        '-subj',
        `/CN=canhgac test ${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  }
  writeFileSync(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '30',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=canhgac-test-client'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'client.pem',
      '-days',
      '30',
      '-extfile',
      'client.ext',
    ],
    dir,
  );
  const keyPassphrase = 'test-key-passphrase';
  openssl(['pkey', '-in', 'client.key', '-out', 'client-encrypted.key', '-aes256', '-passout', `pass:${keyPassphrase}`], dir);

  mkdirSync(p('ca-db'), { recursive: true });
  writeFileSync(p('ca-db/index.txt'), '');
  writeFileSync(p('ca-db/serial'), '1000\n');
  writeFileSync(
    p('ca.cnf'),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${p('ca-db')}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'policy = any',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const year = new Date().getUTCFullYear() - 1;
  openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      'server.csr',
      '-out',
      'server-expired.pem',
      '-startdate',
      `${year - 2000}0101000000Z`,
      '-enddate',
      `${year - 2000}0201000000Z`,
      '-extfile',
      'server.ext',
      '-notext',
    ],
    dir,
  );

  return {
    dir,
    ca: p('ca.pem'),
    otherCa: p('other-ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    expiredServerCert: p('server-expired.pem'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    encryptedClientKey: p('client-encrypted.key'),
    keyPassphrase,
  };
}
