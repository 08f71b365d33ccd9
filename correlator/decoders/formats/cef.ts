import {
  addCategory,
  addType,
  int,
  observer,
  present,
  setDestination,
  setFileName,
  setFilePath,
  setHash,
  setSource,
  setThreat,
  setTransport,
  setUser,
  verdict,
} from '../ecs.ts';
import { iso, parseAny } from '../time.ts';
import { DecodeError, type Decoder, type DecodeInput, type Draft } from '../types.ts';

/**
 * ArcSight Common Event Format: `CEF:0|vendor|product|version|class id|name|severity|extension`.
 * Header fields escape | and \; extension values escape = \ and newlines, and run until the next ` key=`.
 */
export interface CefRecord {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  ext: Record<string, string>;
}

function keyChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45 || c === 91 || c === 93;
}

function unescapeValue(s: string, base: number): string {
  let i = s.indexOf('\\');
  if (i < 0) return s.trim();
  // Copied in runs between escapes rather than a character at a time.
  let out = '';
  let chunk = 0;
  for (; i >= 0; i = s.indexOf('\\', i)) {
    const next = s[i + 1];
    if (next === undefined) throw new DecodeError('dangling escape at the end of an extension value', base + i);
    out += s.slice(chunk, i);
    if (next === 'n') out += '\n';
    else if (next === 'r') out += '\r';
    else if (next === '=' || next === '\\' || next === '|') out += next;
    // Senders write Windows paths with single backslashes; keep the backslash rather than lose the character.
    else out += `\\${next}`;
    i += 2;
    chunk = i;
  }
  return (out + s.slice(chunk)).trim();
}

/** Parses a CEF record starting at `start` of `s`; positions in errors are offsets into `s`. */
export function parseCef(s: string, start: number): CefRecord {
  const header: string[] = [];
  let i = start;
  // A field is sliced out in runs between escapes, not built a character at a time.
  let field = '';
  let chunk = i;
  while (header.length < 7) {
    if (i >= s.length) throw new DecodeError(`truncated header: ${header.length + 1} of 8 fields`, i);
    const c = s.charCodeAt(i);
    if (c === 92 /* \\ */) {
      const next = s.charCodeAt(i + 1);
      if (next === 124 /* | */ || next === 92) {
        field += s.slice(chunk, i);
        chunk = i + 1;
        i += 2;
        continue;
      }
    } else if (c === 124) {
      header.push(field + s.slice(chunk, i));
      field = '';
      chunk = i + 1;
    }
    i++;
  }
  const [label, vendor, product, productVersion, signatureId, name, severity] = header as [string, string, string, string, string, string, string];
  // Check Point's Log Exporter (and FortiGate) write "CEF: 0|": the space is no part of the version.
  const version = label.trim();
  if (!/^\d+$/.test(version)) throw new DecodeError(`version '${version.slice(0, 16)}' is not a number`, start);
  return { version, vendor, product, productVersion, signatureId, name, severity, ext: parseExtension(s, i) };
}

/** Where the run of backslashes that ends right before `end` starts, reading no further back than `from`. */
function backslashesFrom(s: string, from: number, end: number): number {
  let b = end;
  while (b > from && s.charCodeAt(b - 1) === 92) b--;
  return b;
}

export function parseExtension(s: string, from: number): Record<string, string> {
  const ext: Record<string, string> = Object.create(null) as Record<string, string>;
  const n = s.length;
  let key: string | undefined;
  let valueStart = from;
  let i = from;
  // From '=' to '=' (native searches); at each unescaped one, the word just before it (back to a space) is
  // the next key. An '=' is escaped when an odd run of backslashes, read from where the last search
  // started, ends right before it (a backslash escapes the character after it, a backslash too).
  for (let eq = s.indexOf('=', i); eq >= 0; eq = s.indexOf('=', i)) {
    const escaped = (eq - backslashesFrom(s, i, eq)) % 2 === 1;
    i = eq + 1;
    if (escaped) continue;
    let k = eq - 1;
    while (k >= valueStart && keyChar(s.charCodeAt(k))) k--;
    const keyStart = k + 1;
    const boundary = keyStart === from || (keyStart > from && s.charCodeAt(keyStart - 1) === 32);
    if (keyStart < eq && boundary && (key === undefined || keyStart > valueStart)) {
      if (key !== undefined) ext[key] = unescapeValue(s.slice(valueStart, keyStart - 1), valueStart);
      key = s.slice(keyStart, eq);
      valueStart = eq + 1;
    }
  }
  if (key !== undefined && (n - backslashesFrom(s, i, n)) % 2 === 1) throw new DecodeError('dangling escape at the end of the line', n - 1);
  if (key !== undefined) ext[key] = unescapeValue(s.slice(valueStart), valueStart);
  return ext;
}

/**
 * Where the CEF version field starts (after "CEF:", itself after an optional device prefix), or -1.
 * Some collectors strip the "CEF:" label and send "0|vendor|product|...".
 */
export function cefStart(payload: string): number {
  if (payload.startsWith('CEF:')) return 4;
  // Only a prefix of up to 256 characters may come before the label. A forward native search rules out
  // most lines cheaply; the bounded backward search (slow per character) then runs only on candidates.
  const label = payload.indexOf('CEF:');
  if (label > 0 && label <= 256) {
    const at = payload.lastIndexOf(' CEF:', 255) + 1;
    if (at > 0) return at + 4;
  }
  if (payload[1] === '|' && payload.charCodeAt(0) >= 48 && payload.charCodeAt(0) <= 57) {
    let pipes = 0;
    for (let i = 0; i < payload.length && i < 1024 && pipes < 7; i++) if (payload[i] === '|' && payload[i - 1] !== '\\') pipes++;
    if (pipes >= 7) return 0;
  }
  return -1;
}

/** A custom field (csN, cnN, flexStringN) with its label (csNLabel, ...) lower-cased, and without spaces and underscores. */
interface CustomField {
  lower: string;
  label: string;
  value: string | undefined;
}

/** The record's custom fields in extension order, their labels normalised once for every look-up. */
function customFields(ext: Record<string, string>): CustomField[] {
  const out: CustomField[] = [];
  for (const key in ext) {
    if (!key.endsWith('Label')) continue;
    const lower = ext[key]!.toLowerCase();
    out.push({ lower, label: lower.replace(/[\s_]/g, ''), value: ext[key.slice(0, -5)] });
  }
  return out;
}

/** The value of the first custom field whose label is one of `labels`. */
function labelled(fields: CustomField[], labels: string[]): string | undefined {
  for (const f of fields) {
    if (!labels.includes(f.label)) continue;
    const v = present(f.value);
    if (v !== undefined) return v;
  }
  return undefined;
}

const THREAT_LABELS = ['virus', 'virusname', 'threatname', 'malwarename', 'threat', 'detectionname', 'securitythreat', 'signature', 'riskname', 'spywarename'];
const FILE_PATH_LABELS = ['filepath', 'infectedfile', 'infectedpath', 'objectpath'];
const HASH_LABELS = ['sha256', 'filesha256', 'md5', 'filemd5', 'sha1', 'filesha1'];

function time(value: string | undefined, input: DecodeInput): string | undefined {
  return value ? iso(parseAny(value.replace(/ (GMT|UTC)$/, ''), input.time)) : undefined;
}

/** Maps a CEF record's common keys to ECS; vendor-specific keys a rule may need stay in `cef.extensions`. */
export function mapCef(rec: CefRecord, custom: CustomField[], input: DecodeInput, draft: Draft): void {
  const x = rec.ext;
  observer(draft, rec.vendor, rec.product, 'security');
  draft.event.code = rec.signatureId;
  draft.message = present(x.msg) ?? rec.name;
  const sev = int(rec.severity);
  if (sev !== undefined) draft.event.severity = sev;
  const ts = time(x.rt ?? x.deviceReceiptTime ?? x.start ?? x.end, input);
  if (ts) draft['@timestamp'] = ts;
  setSource(draft, x.src ?? x.sourceAddress ?? x.c6a2, x.spt ?? x.sourcePort);
  setDestination(draft, x.dst ?? x.destinationAddress ?? x.c6a3, x.dpt ?? x.destinationPort);
  setTransport(draft, x.proto ?? x.transportProtocol);
  const act = present(x.act ?? x.deviceAction);
  if (act) {
    draft.event.action = act;
    const v = verdict(act);
    if (v) addType(draft, v);
  }
  const outcome = present(x.outcome ?? x.eventOutcome)
    ?.toLowerCase()
    .replace(/^\//, '');
  if (outcome === 'success' || outcome === 'failure') draft.event.outcome = outcome;
  setUser(draft, x.suser ?? x.sourceUserName ?? x.susr ?? x.duser ?? x.destinationUserName);
  const path = present(x.filePath) ?? labelled(custom, FILE_PATH_LABELS);
  if (path) setFilePath(draft, path);
  const fname = present(x.fname ?? x.fileName);
  if (fname && !path) setFilePath(draft, fname);
  else if (fname && !draft.file?.name) setFileName(draft, fname);
  setHash(draft, present(x.fileHash));
  for (const f of custom) {
    if (HASH_LABELS.includes(f.label)) setHash(draft, f.value, f.lower.includes('256') ? 'sha256' : f.lower.includes('md5') ? 'md5' : 'sha1');
  }
  const threat = labelled(custom, THREAT_LABELS);
  if (threat) {
    setThreat(draft, threat);
    addCategory(draft, 'malware');
  }
  // The device that logged is the observer; a detection is about the endpoint it names.
  const device = present(x.dvchost ?? x.deviceHostName);
  if (device) draft.observer!.name = device;
  const endpoint = present(x.dhost ?? x.shost);
  if (endpoint && draft.threat) draft.host = { name: endpoint };
  const dir = x.deviceDirection;
  if (dir === '0' || dir === '1') (draft.network ??= {}).direction = dir === '0' ? 'inbound' : 'outbound';
  if (draft.source || draft.destination) addCategory(draft, 'network');
  if (!draft.event.type) addType(draft, 'info');
  draft.cef = { name: rec.name, device_event_class_id: rec.signatureId, extensions: x };
}

export const cef: Decoder = {
  name: 'cef',
  description: 'ArcSight CEF (Sophos, Kaspersky, Trend Micro, Symantec, Check Point and others): header and extension with escaping',
  sniff: (input) => cefStart(input.payload) >= 0,
  decode(input, draft) {
    const at = cefStart(input.payload);
    if (at < 0) throw new DecodeError('no CEF: header', 0);
    const rec = parseCef(input.payload, at);
    const custom = customFields(rec.ext);
    mapCef(rec, custom, input, draft);
    vendorSpecific(rec, custom, draft);
  },
};

/** Senders that put well-known things in unusual CEF keys. */
function vendorSpecific(rec: CefRecord, custom: CustomField[], draft: Draft): void {
  const x = rec.ext;
  if (rec.vendor === 'Trend Micro' && rec.product === 'Apex Central') {
    // Apex Central reports the endpoint (where the detection happened) as dst, or in the managed-product
    // logs (engine and pattern updates) as the custom string labelled Product/Endpoint_IP.
    if (!draft.source?.ip && draft.destination?.ip) draft.source = { ...draft.source, ip: draft.destination.ip };
    if (!draft.source?.ip) setSource(draft, labelled(custom, ['product/endpointip', 'endpointip']));
    const dhost = present(x.dhost ?? x.shost);
    if (dhost) draft.host = { name: dhost };
    const fileSource = labelled(custom, ['slffilesource']);
    if (fileSource && !draft.file?.path) setFilePath(draft, fileSource);
    if (draft.threat || draft.file) addCategory(draft, 'malware');
  }
  if (rec.vendor === 'Kaspersky Lab' || rec.vendor === 'Kaspersky') {
    const threat = present(x.cs4 ?? x.cs1);
    if (threat && !draft.threat && /virus|threat|detect|malware/i.test(rec.name + (x.cs4Label ?? '') + (x.cs1Label ?? ''))) setThreat(draft, threat);
  }
}
