import { randomBytes } from 'node:crypto';

/**
 * Ids for received syslog messages: a message cannot be read again, so uniqueness is all an id
 * needs (a random run id per start, then a counter); a spooled message keeps its id when re-sent.
 */
export function syslogIds(host: string, source: string): () => string {
  const run = `${host}:${source}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  let n = 0;
  return () => `${run}:${n++}`;
}
