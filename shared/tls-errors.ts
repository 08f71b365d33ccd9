/**
 * What a TLS failure means for the person configuring the connection, by Node's error code. These are
 * final: retrying cannot fix them, so a connection that meets one stops instead of retrying for minutes.
 */
const TLS_FAILURES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is not signed by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted',
  CERT_SIGNATURE_FAILURE: 'its certificate signature does not verify against the CA',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'it requires a client certificate and none was sent',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'it refused the client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'it does not trust the CA of the client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'it refused the client certificate as expired',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'it refused the client certificate',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'the TLS handshake failed (no common protocol, or a client certificate is required)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'it does not speak TLS on this port',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'it does not speak TLS on this port',
  EPROTO: 'the TLS handshake failed',
};

/** Which settings to look at for each kind of failure, so the message points at the config. */
function hint(code: string, section: string): string {
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) return `check ${section}.tls.cert and ${section}.tls.key`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return section === 'kafka' ? 'check kafka.tls.servername or the broker addresses' : 'check the host in elasticsearch.url';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return 'check the port, or turn TLS off for it';
  return section === 'kafka' ? 'check kafka.tls.ca' : 'check elasticsearch.tls.ca or elasticsearch.tls.caFingerprint';
}

/** OpenSSL's texts for the same failures, for errors (undici's) that keep the text and lose the code. */
const TLS_MESSAGES: [RegExp, string][] = [
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
  [/alert certificate required/i, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
  [/alert bad certificate/i, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'],
  [/alert unknown ca/i, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
  [/alert certificate expired/i, 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
  [/alert handshake failure/i, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
  [/wrong version number/i, 'ERR_SSL_WRONG_VERSION_NUMBER'],
];

/** Alerts a server sends when it wants a client certificate; with none configured, that is what they mean. */
const CLIENT_CERTIFICATE_ALERTS = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

/** Walks an error and its causes for a TLS failure code. */
export function tlsFailureCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && e.code in TLS_FAILURES) return e.code;
    const m =
      typeof (e as { message?: unknown }).message === 'string'
        ? /\b(ERR_SSL_[A-Z0-9_]+|CERT_HAS_EXPIRED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\b/.exec(
            (e as { message: string }).message,
          )
        : null;
    if (m && m[1]! in TLS_FAILURES) return m[1];
    const text = (e as { message?: unknown }).message;
    if (typeof text === 'string') for (const [re, c] of TLS_MESSAGES) if (re.test(text)) return c;
  }
  return undefined;
}

/** One line: which server, what is wrong with TLS, which setting to check. `clientCert`: whether one is configured. */
export function describeTlsFailure(code: string, section: 'kafka' | 'elasticsearch', server: string, clientCert = true): string {
  const what = !clientCert && CLIENT_CERTIFICATE_ALERTS.has(code) ? 'it requires a client certificate and none was sent' : (TLS_FAILURES[code] ?? code);
  return `${section} ${server}: TLS failed: ${what} (${code}); ${hint(code, section)}`;
}

/** The same failure as an error that callers recognise as final. */
export class ConnectionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionRefusedError';
  }
}
