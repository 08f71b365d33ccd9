import type { Logger } from '../../shared/log.ts';

/**
 * glibc's malloc_trim(0), reached through koffi (an optional dependency with prebuilt binaries), or
 * undefined where there is no glibc (macOS, Windows, musl) or koffi is not installed.
 *
 * Why: a flood frees most of what it allocated outside V8's heap (compiler zones, JSON buffers, SQLite
 * pages), but the survivors left between the freed blocks keep glibc's heap at its high-water mark, and
 * glibc only ever gives back its top. Measured after two 300k-line floods through `start`: 57 MB free
 * in 3,450 pieces inside a 71 MB heap; malloc_trim(0) returns the free pages inside it too, and the
 * process went from 206 to 154 MB (plateau 150). Node has no call of its own for it.
 */
export async function loadMallocTrim(log: Logger): Promise<(() => boolean) | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const { default: koffi } = await import('koffi');
    const trim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => trim(0) === 1;
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'malloc_trim is not available: freed native memory stays with the allocator');
    return undefined;
  }
}
