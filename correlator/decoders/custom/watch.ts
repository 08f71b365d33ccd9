import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileStamp, watchFolder, type FolderWatch } from '../../../shared/folder-watch.ts';
import type { Finding } from '../../../shared/yaml-source.ts';
import { useCustomDecoders } from '../registry.ts';
import type { Decoder } from '../types.ts';
import { decoderFiles, parseDecoderFile, withUniqueNames, type LoadedDecoder } from './load.ts';

export interface DecodersReload {
  decoders: readonly Decoder[];
  findings: Finding[];
  /** Files read again (added, changed or removed). */
  changed: string[];
  /** Changed files that are broken: their previous good version stays in force (if they had one). */
  kept: string[];
}

export interface DecodersWatcher {
  /** The custom decoders in force now. */
  readonly decoders: readonly Decoder[];
  /** The findings of the last load or reload: a broken file stays reported until it is fixed. */
  readonly findings: Finding[];
  /** Rescans now (without waiting for a file-system event). */
  reload(): DecodersReload | null;
  close(): void;
}

interface FileState {
  stamp: string;
  /** The last good version (undefined: the file never loaded). */
  good?: Decoder;
  findings: Finding[];
}

/**
 * Watches a decoders folder (rules/decoders) and installs its decoders for every decode in the process: a changed
 * file is read and tested again, and replaces its previous version only when it is good; a broken one keeps the
 * last good version in force and stays among the findings (the rule-health audit makes it an incident).
 * The folder's parent is watched, so a decoders folder created later is picked up too.
 */
export function watchDecoders(dir: string, onChange: (e: DecodersReload) => void = () => undefined, opts: { debounceMs?: number } = {}): DecodersWatcher {
  const root = resolve(dir);
  const states = new Map<string, FileState>();
  let current: readonly Decoder[] = [];
  let findings: Finding[] = [];

  const rescan = (initial: boolean): DecodersReload | null => {
    const files = existsSync(root) ? decoderFiles([root]).files : [];
    const present = new Set(files);
    const changed: string[] = [];
    const kept: string[] = [];
    for (const f of files) {
      const stamp = fileStamp(f);
      const previous = states.get(f);
      if (stamp === null || previous?.stamp === stamp) continue;
      changed.push(f);
      const r = parseDecoderFile(f);
      if (!r.decoder) kept.push(f);
      states.set(f, { stamp, good: r.decoder ?? previous?.good, findings: r.findings });
    }
    for (const f of [...states.keys()]) {
      if (present.has(f)) continue;
      changed.push(f);
      states.delete(f);
    }
    if (!initial && changed.length === 0) return null;
    const loaded: LoadedDecoder[] = [];
    for (const f of [...states.keys()].sort()) {
      const good = states.get(f)!.good;
      if (good) loaded.push({ file: f, decoder: good });
    }
    const unique = withUniqueNames(loaded);
    current = unique.decoders.map((l) => l.decoder);
    findings = [...[...states.values()].flatMap((s) => s.findings), ...unique.findings];
    useCustomDecoders(current);
    return { decoders: current, findings, changed, kept };
  };

  rescan(true);

  let watcher: FolderWatch | null = null;
  const parent = dirname(root);
  try {
    if (existsSync(parent)) {
      watcher = watchFolder(parent, opts.debounceMs ?? 100, () => {
        const e = rescan(false);
        if (e) onChange(e);
      });
    }
  } catch (err) {
    findings = [...findings, { file: root, line: 1, col: 1, severity: 'error', message: `cannot watch: ${(err as Error).message}` }];
  }

  return {
    get decoders() {
      return current;
    },
    get findings() {
      return findings;
    },
    reload() {
      const e = rescan(false);
      if (e) onChange(e);
      return e;
    },
    close() {
      watcher?.close();
      useCustomDecoders([]);
    },
  };
}
