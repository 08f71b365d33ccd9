import { addCategory, addType, int, ip, observer, port, present, setDestination, setFileName, setSource, setThreat, setTransport, setUser } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseDateTime, parseEpoch } from '../time.ts';
import { DecodeError, type Decoder, type Draft } from '../types.ts';

/** FortiGate (FortiOS) key=value logs: traffic, utm (virus, webfilter, ips, app-ctrl, dlp, ...) and event. */
/** "jsconsole(1.2.3.4)", "GUI(1.2.3.4)": the client address FortiOS puts in parentheses. */
function addressInParens(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const open = value.lastIndexOf('(');
  return open >= 0 && value.endsWith(')') ? value.slice(open + 1, -1) : undefined;
}

/** Source NAT (transip/transport) and destination NAT (tranip/tranport) of a session. */
function nat(draft: Draft, x: Record<string, string>): void {
  if (x.transip !== undefined && draft.source) draft.source.nat = translated(x.transip, x.transport);
  if (x.tranip !== undefined && draft.destination) draft.destination.nat = translated(x.tranip, x.tranport);
}

function translated(address: string, p: string | undefined): { ip?: string; port?: number } | undefined {
  const a = ip(address);
  if (a === undefined || a === '0.0.0.0') return undefined;
  const n = port(p);
  return n ? { ip: a, port: n } : { ip: a };
}

/** Bytes and packets each way: sent by the source, received from the destination. */
function counters(draft: Draft, x: Record<string, string>): void {
  if (x.sentbyte === undefined && x.rcvdbyte === undefined && x.sentpkt === undefined && x.rcvdpkt === undefined) return;
  const sentBytes = int(x.sentbyte);
  const rcvdBytes = int(x.rcvdbyte);
  const sentPkts = int(x.sentpkt);
  const rcvdPkts = int(x.rcvdpkt);
  const s = draft.source;
  const d = draft.destination;
  if (s && sentBytes !== undefined) s.bytes = sentBytes;
  if (s && sentPkts !== undefined) s.packets = sentPkts;
  if (d && rcvdBytes !== undefined) d.bytes = rcvdBytes;
  if (d && rcvdPkts !== undefined) d.packets = rcvdPkts;
  if (sentBytes !== undefined && rcvdBytes !== undefined) (draft.network ??= {}).bytes = sentBytes + rcvdBytes;
  if (sentPkts !== undefined && rcvdPkts !== undefined) (draft.network ??= {}).packets = sentPkts + rcvdPkts;
}

export const fortigate: Decoder = {
  name: 'fortigate',
  description: 'Fortinet FortiGate key=value logs: traffic, utm (virus, webfilter, ips, app-ctrl, dlp, ssl) and event',
  sniffNeeds: '=',
  sniff(input) {
    const p = input.payload;
    if (p.indexOf('type=') < 0) return false;
    const logid = p.indexOf('logid=');
    if (logid >= 0 && logid < 400) return p.indexOf('date=') >= 0 || p.indexOf('devid=') >= 0 || p.indexOf('eventtime=') >= 0 || p.indexOf('vd=') >= 0;
    return (p.indexOf('log_id=') >= 0 || p.indexOf(' subtype=') > 0) && (p.indexOf(' vd=') > 0 || p.indexOf('devname=') >= 0);
  },
  decode(input, draft) {
    const p = input.payload;
    const firstComma = p.indexOf(',');
    const firstSpace = p.indexOf(' ');
    const x = scanKv(p, 0, false, firstComma > 0 && (firstSpace < 0 || firstComma < firstSpace));
    if (x.logid === undefined && x.log_id !== undefined) x.logid = x.log_id;
    if (x.type === undefined) throw new DecodeError('no type= field', 0);
    observer(draft, 'Fortinet', 'Fortigate', 'firewall');
    const type = x.type;
    const subtype = x.subtype ?? '';
    draft.event.dataset = `fortigate.${type}`;
    draft.event.code = x.logid;
    if (x.devname) draft.observer!.name = x.devname;
    const stamp = x.date && x.time ? parseDateTime(`${x.date} ${x.time}${x.tz ? ` ${x.tz.replace(/^"|"$/g, '')}` : ''}`, input.time) : NaN;
    const ts = iso(x.tz || !x.eventtime ? stamp : parseEpoch(x.eventtime)) ?? iso(stamp);
    if (ts) draft['@timestamp'] = ts;
    // A VPN peer that came to the gateway (SSL VPN, an IPsec tunnel it answered) is the source and the
    // gateway's own address the destination; a tunnel the gateway initiated goes the other way.
    const gatewayStarted = x.init === 'local' || (x.dir === 'outbound' && x.init !== 'remote');
    if (x.remip !== undefined && x.srcip === undefined && !gatewayStarted) {
      setSource(draft, x.remip, x.remport);
      setDestination(draft, x.locip ?? x.dstip, x.locport ?? x.dstport);
    } else {
      setSource(
        draft,
        x.srcip ?? x.locip ?? x.userip ?? x.remote_ip ?? addressInParens(x.ui ?? x.userfrom),
        x.srcport ?? x.src_port ?? x.locport ?? x.remote_port,
      );
      setDestination(draft, x.dstip ?? x.remip, x.dstport ?? x.dst_port ?? x.remport);
    }
    nat(draft, x);
    counters(draft, x);
    if (x.devid) draft.observer!.serial_number = x.devid;
    if (x.srcintf) draft.observer!.ingress = { interface: { name: x.srcintf } };
    if (x.dstintf) draft.observer!.egress = { interface: { name: x.dstintf } };
    const app = present(x.app);
    if (app) (draft.network ??= {}).application = app.toLowerCase();
    setTransport(draft, x.proto);
    const action = present(x.action);
    if (action) draft.event.action = action;
    // policyid is the rule's number, policyname its name (ECS rule.id / rule.name, as Elastic maps them).
    if (x.policyid || x.policyname) {
      const rule: { id?: string; name?: string } = (draft.rule = {});
      if (present(x.policyid)) rule.id = x.policyid;
      if (present(x.policyname)) rule.name = x.policyname;
    }
    setUser(draft, x.user ?? x.srcuser ?? x.unauthuser ?? x.login ?? x.dstuser);
    setFileName(draft, x.filename);
    setThreat(draft, x.virus ?? (subtype === 'ips' || subtype === 'anomaly' ? x.attack : undefined));
    if (x.msg) draft.message = x.msg;
    if (type === 'traffic') {
      addCategory(draft, 'network');
      addType(draft, 'connection');
      // Anything but a deny let the session through, unless a UTM profile blocked it.
      if (action === 'deny' || action === 'block' || x.utmaction === 'block') addType(draft, 'denied');
      else if (action) addType(draft, 'allowed');
      if (action === 'close' || action === 'timeout' || action === 'server-rst' || action === 'client-rst') addType(draft, 'end');
    } else if (type === 'utm') {
      addCategory(draft, 'network');
      if (subtype === 'virus') {
        addCategory(draft, 'malware');
        if (x.eventtype === 'infected' || x.virus) draft.event.kind = 'alert';
      } else if (subtype === 'ips' || subtype === 'anomaly') addCategory(draft, 'intrusion_detection');
      const utm = (action ?? '').toLowerCase();
      if (['blocked', 'block', 'deny', 'dropped', 'reset', 'quarantine', 'clear_session', 'drop', 'drop_session'].includes(utm) || x.eventtype === 'ftgd_blk')
        addType(draft, 'denied');
      else if (['passthrough', 'pass', 'allow', 'monitored', 'exempt', 'pass_session', 'detected'].includes(utm) || x.eventtype === 'ftgd_allow')
        addType(draft, 'allowed');
      else addType(draft, 'info');
    } else {
      addType(draft, 'info');
      const login = (action ?? '').includes('login') || x.logdesc?.toLowerCase().includes('login') === true;
      if (subtype === 'user' || subtype === 'vpn' || login) {
        if (x.status === 'failure' || x.status === 'failed' || (action ?? '').endsWith('-fail')) draft.event.outcome = 'failure';
        else if (x.status === 'success' || x.status === 'logon') draft.event.outcome = 'success';
      }
      if (subtype === 'vpn') addCategory(draft, 'network');
      if (login || subtype === 'user') addCategory(draft, 'authentication');
      if (subtype === 'system' || subtype === 'config') addCategory(draft, subtype === 'config' ? 'configuration' : 'host');
    }
    // As Elastic: the firewall did what it logged (a deny included); failed logins say failure above.
    draft.event.outcome ??= 'success';
    // An IPS/anomaly record's signature id and severity stay with the vendor's names (no ECS home that
    // Elastic fills for FortiGate); the attack name is threat.software.name above.
    draft.fortinet = {
      firewall: { type, subtype, level: x.level, vd: x.vd, sessionid: x.sessionid, logid: x.logid, attackid: x.attackid, severity: x.severity ?? x.crlevel },
    };
  },
};
