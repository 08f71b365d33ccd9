import { addCategory, addType, observer, present, setDestination, setFileName, setSource, setThreat, setTransport, setUser, verdict } from '../ecs.ts';
import { scanKv } from '../scan/kv.ts';
import { iso, parseDateTime, parseEpoch } from '../time.ts';
import { DecodeError, type Decoder } from '../types.ts';

/** FortiGate (FortiOS) key=value logs: traffic, utm (virus, webfilter, ips, app-ctrl, dlp, ...) and event. */
export const fortigate: Decoder = {
  name: 'fortigate',
  description: 'Fortinet FortiGate key=value logs: traffic, utm (virus, webfilter, ips, app-ctrl, dlp, ssl) and event',
  sniff(input) {
    const p = input.payload;
    const logid = p.indexOf('logid=');
    return logid >= 0 && logid < 400 && p.indexOf('type=') >= 0 && (p.indexOf('date=') >= 0 || p.indexOf('devid=') >= 0 || p.indexOf('eventtime=') >= 0);
  },
  decode(input, draft) {
    const x = scanKv(input.payload);
    if (x.logid === undefined || x.type === undefined) throw new DecodeError('no logid= and type= fields', 0);
    observer(draft, 'Fortinet', 'Fortigate', 'firewall');
    const type = x.type;
    const subtype = x.subtype ?? '';
    draft.event.dataset = `fortigate.${type}`;
    draft.event.code = x.logid;
    if (x.devname) draft.observer = { ...draft.observer, name: x.devname };
    const stamp = x.date && x.time ? parseDateTime(`${x.date} ${x.time}${x.tz ? ` ${x.tz.replace(/^"|"$/g, '')}` : ''}`, input.time) : NaN;
    const ts = iso(x.tz || !x.eventtime ? stamp : parseEpoch(x.eventtime)) ?? iso(stamp);
    if (ts) draft['@timestamp'] = ts;
    setSource(draft, x.srcip ?? x.remip, x.srcport ?? x.remport);
    setDestination(draft, x.dstip ?? x.locip, x.dstport ?? x.locport);
    setTransport(draft, x.proto);
    const action = present(x.action);
    if (action) draft.event.action = action;
    if (x.policyname) draft.rule = { name: x.policyname };
    else if (x.policyid) draft.rule = { name: x.policyid };
    setUser(draft, x.user ?? x.srcuser ?? x.unauthuser ?? x.login ?? x.dstuser);
    setFileName(draft, x.filename);
    setThreat(draft, x.virus ?? (subtype === 'ips' || subtype === 'anomaly' ? x.attack : undefined));
    if (x.msg) draft.message = x.msg;
    if (type === 'traffic') {
      addCategory(draft, 'network');
      addType(draft, 'connection');
      const v = verdict(action);
      if (action === 'deny' || action === 'block' || action === 'ip-conn') addType(draft, 'denied');
      else if (v) addType(draft, 'allowed');
      if (action === 'close' || action === 'timeout' || action === 'server-rst' || action === 'client-rst') addType(draft, 'end');
    } else if (type === 'utm') {
      addCategory(draft, 'network');
      if (subtype === 'virus') {
        addCategory(draft, 'malware');
        if (x.eventtype === 'infected' || x.virus) draft.event.kind = 'alert';
      } else if (subtype === 'ips' || subtype === 'anomaly') addCategory(draft, 'intrusion_detection');
      const utm = (action ?? '').toLowerCase();
      if (['blocked', 'block', 'deny', 'dropped', 'reset', 'quarantine', 'clear_session', 'drop', 'drop_session'].includes(utm) || x.eventtype === 'ftgd_blk') addType(draft, 'denied');
      else if (['passthrough', 'pass', 'allow', 'monitored', 'exempt', 'pass_session', 'detected'].includes(utm) || x.eventtype === 'ftgd_allow') addType(draft, 'allowed');
      else addType(draft, 'info');
    } else {
      addType(draft, 'info');
      if (subtype === 'user' || subtype === 'vpn' || x.logdesc?.toLowerCase().includes('login')) {
        if (x.status === 'failure' || x.status === 'failed') draft.event.outcome = 'failure';
        else if (x.status === 'success' || x.status === 'logon') draft.event.outcome = 'success';
      }
      if (subtype === 'system' || subtype === 'config') addCategory(draft, subtype === 'config' ? 'configuration' : 'host');
    }
    draft.fortinet = { firewall: { type, subtype, level: x.level, vd: x.vd, sessionid: x.sessionid, logid: x.logid } };
  },
};
