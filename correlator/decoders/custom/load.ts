import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getField } from '../../../shared/event.ts';
import { parseYaml, positionOf, toData, zodFindings, type Finding, type YamlSource } from '../../../shared/yaml-source.ts';
import { decodeLine, sniffsLine } from '../index.ts';
import { isBuiltinName } from '../registry.ts';
import type { Decoder } from '../types.ts';
import { compileDecoder } from './compile.ts';
import { DecoderFileSchema, type DecoderFile } from './schema.ts';

export interface LoadedDecoder {
  file: string;
  decoder: Decoder;
}

/** The receive time a file's tests decode against, so that lines without a year resolve the same every run. */
const TEST_RECEIVED = new Date('2026-11-26T01:00:00Z');

function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected === null) return actual === undefined;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => e === actual[i]);
  return expected === actual;
}

/** Runs the `tests` a decoder file carries; each failure points at its test. */
function runTests(file: DecoderFile, decoder: Decoder, at: (path: (string | number)[], message: string) => Finding): Finding[] {
  const findings: Finding[] = [];
  file.tests.forEach((t, i) => {
    const event = decodeLine(t.line, { decoder, received: TEST_RECEIVED }) as unknown as Record<string, unknown>;
    const error = (event.error as { message?: string } | undefined)?.message;
    if (error !== undefined) {
      findings.push(at(['tests', i, 'line'], `test ${i + 1}: the line does not decode: ${error}`));
      return;
    }
    if (!sniffsLine(decoder, t.line, TEST_RECEIVED)) {
      findings.push(at(['tests', i, 'line'], `test ${i + 1}: match does not take this line, so it would only decode with --format ${file.name}`));
    }
    for (const [field, want] of Object.entries(t.expect)) {
      const got = getField(event, field);
      if (!sameValue(want, got))
        findings.push(at(['tests', i, 'expect', field], `test ${i + 1}: ${field} is ${JSON.stringify(got) ?? 'absent'}, expected ${JSON.stringify(want)}`));
    }
  });
  return findings;
}

/** Parses, checks, compiles and tests one decoder file's text. */
export function parseDecoderText(text: string, file: string): { decoder?: Decoder; findings: Finding[] } {
  const { source, findings } = parseYaml(text, file);
  if (findings.some((f) => f.severity === 'error')) return { findings };
  const data = toData(source);
  if ('finding' in data) return { findings: [data.finding] };
  const checked = DecoderFileSchema.safeParse(data.data ?? {});
  if (!checked.success) return { findings: [...findings, ...zodFindings(source, checked.error)] };
  const spec = checked.data;
  const at = (path: (string | number)[], message: string): Finding => ({ file, ...positionOf(source as YamlSource, path), severity: 'error', message });
  if (isBuiltinName(spec.name)) findings.push(at(['name'], `'${spec.name}' is the name of a built-in decoder; choose another`));
  const decoder = compileDecoder(spec, (path, message) => findings.push(at(path, message)));
  if (!decoder) return { findings };
  findings.push(...runTests(spec, decoder, at));
  return findings.some((f) => f.severity === 'error') ? { findings } : { decoder, findings };
}

export function parseDecoderFile(file: string): { decoder?: Decoder; findings: Finding[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { findings: [{ file, line: 1, col: 1, severity: 'error', message: `cannot read: ${(err as Error).message}` }] };
  }
  return parseDecoderText(text, file);
}

/** The decoder files under the given files and folders (*.yml, *.yaml), in name order. */
export function decoderFiles(paths: readonly string[]): { files: string[]; findings: Finding[] } {
  const files: string[] = [];
  const findings: Finding[] = [];
  for (const p of paths) {
    if (!existsSync(p)) findings.push({ file: p, line: 1, col: 1, severity: 'error', message: 'no such file or folder' });
    else if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) if (/\.ya?ml$/.test(name) && !name.startsWith('.')) files.push(join(p, name));
    } else files.push(p);
  }
  return { files, findings };
}

/** Two files may not claim one name: the first (in name order) keeps it. */
export function withUniqueNames(loaded: LoadedDecoder[]): { decoders: LoadedDecoder[]; findings: Finding[] } {
  const seen = new Map<string, string>();
  const decoders: LoadedDecoder[] = [];
  const findings: Finding[] = [];
  for (const l of loaded) {
    const first = seen.get(l.decoder.name);
    if (first !== undefined) {
      findings.push({ file: l.file, line: 1, col: 1, severity: 'error', message: `decoder name '${l.decoder.name}' is already taken by ${first}` });
      continue;
    }
    seen.set(l.decoder.name, l.file);
    decoders.push(l);
  }
  return { decoders, findings };
}

/** Loads every decoder file under the paths: the good ones, and every finding with its position. */
export function loadDecoders(paths: readonly string[]): { decoders: LoadedDecoder[]; findings: Finding[]; files: number } {
  const { files, findings } = decoderFiles(paths);
  const loaded: LoadedDecoder[] = [];
  for (const file of files) {
    const r = parseDecoderFile(file);
    findings.push(...r.findings);
    if (r.decoder) loaded.push({ file, decoder: r.decoder });
  }
  const unique = withUniqueNames(loaded);
  return { decoders: unique.decoders, findings: [...findings, ...unique.findings], files: files.length };
}
