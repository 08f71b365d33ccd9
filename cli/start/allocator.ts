/**
 * glibc's allocator settings for `canhgac start`. A syslog flood makes Node allocate and free a great
 * deal outside V8's heap (socket reads, strings handed to SQLite, the bus's buffers); glibc keeps what
 * was freed inside its heap for reuse and gives back only the top of it, so without these the RSS
 * after two 300,000-line floods stays far above its plateau although the live heap is back near it.
 * Large blocks mapped on their own are unmapped when freed; fewer arenas leave less to fragment.
 * glibc reads them only when a process starts: `start` re-executes itself once with them.
 */
export const START_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '32768',
  MALLOC_TRIM_THRESHOLD_: '65536',
};

/** Set in the re-executed process: it is not re-executed again. */
export const ALLOCATOR_SET = 'CANHGAC_ALLOCATOR_SET';

/**
 * The environment `start` is to run with, or undefined when it runs as it is: another command, a
 * process already re-executed, or a system other than Linux (where glibc's variables mean nothing).
 * A variable the user set himself wins over ours.
 */
export function allocatorEnv(argv: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform): NodeJS.ProcessEnv | undefined {
  if (argv[0] !== 'start' || env[ALLOCATOR_SET] !== undefined || platform !== 'linux') return undefined;
  return { ...START_ALLOCATOR_ENV, ...env, [ALLOCATOR_SET]: '1' };
}

/**
 * Replaces this process by the same command with the allocator's settings, when `allocatorEnv` asks for
 * it. The replacement keeps the process id, standard streams, signals and exit status: to the shell, a
 * service manager or a test it is the same process. Called before the application is loaded.
 */
export function execWithAllocatorSettings(argv: readonly string[]): void {
  const env = allocatorEnv(argv, process.env, process.platform);
  if (!env) return;
  // Node 24 has process.execve; its typings mark it optional.
  process.execve?.(process.execPath, [process.execPath, ...process.execArgv, process.argv[1]!, ...argv], env);
}
