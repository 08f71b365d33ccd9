import { addCategory, addType, observer, setFilePath, setHash, setThreat } from '../ecs.ts';
import { iso, parseMonthDay } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/** ClamAV: clamd log (`/path: Sig FOUND`), clamscan output and summary, freshclam updates and failures. */
const APPS = new Set(['clamd', 'freshclam', 'clamav', 'clamscan', 'clamav-freshclam', 'clamav-daemon', 'clamdscan', 'clamonacc']);

/** clamd's own log prefix "Mon Nov 25 10:00:00 2026 -> ". */
function logTime(p: string): [string, number] {
  const arrow = p.indexOf(' -> ');
  if (arrow === 24 || arrow === 25) return [p.slice(4, arrow), arrow + 4];
  return ['', 0];
}

function detection(text: string, draft: Draft): boolean {
  if (!text.endsWith(' FOUND')) return false;
  const body = text.slice(0, -6);
  const colon = body.lastIndexOf(': ');
  if (colon <= 0) return false;
  let sig = body.slice(colon + 2).trim();
  // ExtendedDetectionInfo appends "(md5:size)".
  const paren = sig.lastIndexOf('(');
  if (paren > 0 && sig.endsWith(')')) {
    const [md5] = sig.slice(paren + 1, -1).split(':');
    setHash(draft, md5, 'md5');
    sig = sig.slice(0, paren);
  }
  setFilePath(draft, body.slice(0, colon));
  setThreat(draft, sig);
  addCategory(draft, 'malware');
  addType(draft, 'info');
  draft.event.action = 'malware-detected';
  draft.event.kind = 'alert';
  return true;
}

function freshclam(text: string, draft: Draft): boolean {
  const lower = text.toLowerCase();
  const failed =
    lower.startsWith('error:') ||
    lower.includes('update failed') ||
    lower.includes("can't download") ||
    lower.includes('failed to') ||
    lower.includes('update process failed');
  const updated = / updated \(version: /.test(text) || lower.startsWith('database updated');
  const current = lower.includes('is up-to-date') || lower.includes('is up to date');
  const started = lower.startsWith('clamav update process started');
  if (!failed && !updated && !current && !started) return false;
  addCategory(draft, 'configuration');
  addType(draft, updated ? 'change' : 'info');
  draft.event.action = failed ? 'signature-update-failed' : updated ? 'signature-updated' : current ? 'signature-up-to-date' : 'signature-update-started';
  if (failed) draft.event.outcome = 'failure';
  else if (updated || current) draft.event.outcome = 'success';
  const version = /\(version: (\d{1,12})/.exec(text);
  if (version) draft.clamav = { database: { version: Number(version[1]) } };
  return true;
}

export const clamav: Decoder = {
  name: 'clamav',
  description: 'ClamAV: clamd log FOUND lines, clamscan output, freshclam updates and failures',
  sniff(input) {
    const app = input.header?.appName;
    if (app && APPS.has(app.toLowerCase())) return true;
    const p = input.payload;
    return (
      (p.endsWith(' FOUND') && p.indexOf(': ') > 0) ||
      p.startsWith('ClamAV update process') ||
      ((p.includes('.cvd') || p.includes('.cld')) && (p.includes('up-to-date') || p.includes(' updated (version')))
    );
  },
  decode(input, draft) {
    observer(draft, 'ClamAV', input.header?.appName?.toLowerCase().includes('freshclam') ? 'freshclam' : 'ClamAV', 'antivirus');
    const [stamp, start] = logTime(input.payload);
    if (stamp) {
      const ts = iso(parseMonthDay(stamp.replace(/^(\w{3}) +(\d+) (\S+) (\d{4})$/, '$1 $2 $4 $3'), input.time));
      if (ts) draft['@timestamp'] = ts;
    }
    const text = input.payload.slice(start).trim();
    draft.message = text;
    if (detection(text, draft) || freshclam(text, draft)) return;
    if (
      text.endsWith(': OK') ||
      text.endsWith(': Empty file') ||
      text.startsWith('SelfCheck') ||
      text.includes('SCAN SUMMARY') ||
      /^[A-Z][a-zA-Z ]{2,40}: /.test(text)
    ) {
      addType(draft, 'info');
      return;
    }
    if (!input.header?.appName) throw new DecodeError('not a ClamAV detection, scan or update line', start);
    addType(draft, 'info');
  },
};
