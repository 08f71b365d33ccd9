import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTools, javaMajor } from './fetch.ts';

describe('the tools the services need', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  /** A PATH holding only a fake `java` that reports `version` (no Maven, no apt-get: nothing gets installed). */
  function pathWithJava(version: string | undefined): string {
    const dir = mkdtempSync(join(tmpdir(), 'canhgac-tools-'));
    if (version) {
      writeFileSync(join(dir, 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2025-04-15' >&2\n`);
      chmodSync(join(dir, 'java'), 0o755);
    }
    return dir;
  }

  it('reads the Java major version of old and new version strings', () => {
    expect(javaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajor('java version "1.8.0_402"')).toBe(8);
    expect(javaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajor('bash: java: command not found')).toBeUndefined();
  });

  it('says in one line what to install when Java is too old and Maven is missing', () => {
    process.env.PATH = pathWithJava('11.0.2');
    expect(() => ensureTools(true)).toThrow(
      /^Java 17 or later \(found 11\) and Maven needed: install them \(Debian: apt-get install openjdk-17-jdk-headless maven\)$/,
    );
  });

  it('needs no Maven when nothing is to be fetched, and Java always', () => {
    process.env.PATH = pathWithJava('17.0.15');
    expect(() => ensureTools(false)).not.toThrow();
    process.env.PATH = pathWithJava(undefined);
    expect(() => ensureTools(false)).toThrow(/^Java 17 or later needed: install it \(Debian: apt-get install openjdk-17-jdk-headless\)$/);
  });
});
