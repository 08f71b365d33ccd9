import { readFileSync } from 'node:fs';

/**
 * What the kernel dropped before the collector could read it: a UDP socket whose receive buffer is full
 * loses datagrams silently, so the only trace is in /proc (Linux). Elsewhere these read null.
 */

/** Udp RcvbufErrors from /proc/net/snmp: every UDP socket of this network namespace, since boot. */
export function readUdpRcvbufErrors(file = '/proc/net/snmp'): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const rows = text.split('\n').filter((l) => l.startsWith('Udp: '));
  if (rows.length < 2) return null;
  const names = rows[0]!.split(/\s+/);
  const values = rows[1]!.split(/\s+/);
  const at = names.indexOf('RcvbufErrors');
  const v = at > 0 ? Number(values[at]) : NaN;
  return Number.isFinite(v) ? v : null;
}

/**
 * The `drops` column of /proc/net/udp (or udp6) summed over the sockets bound to this local port:
 * the datagrams dropped on the collector's own socket.
 */
export function readUdpSocketDrops(port: number, family: 'udp4' | 'udp6', file = family === 'udp6' ? '/proc/net/udp6' : '/proc/net/udp'): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const [header, ...rows] = text.split('\n');
  const columns = header?.trim().split(/\s+/) ?? [];
  // Read from the end of each row: the header's 'tx_queue rx_queue' and 'tr tm->when' are one cell each in the rows.
  if (!columns.includes('drops')) return null;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let total = 0;
  let found = false;
  for (const row of rows) {
    const cells = row.trim().split(/\s+/);
    if (cells.length < 2) continue;
    if (cells[1]!.split(':').at(-1) !== hexPort) continue;
    const drops = Number(cells.at(-1));
    if (!Number.isFinite(drops)) continue;
    total += drops;
    found = true;
  }
  return found ? total : null;
}
