/** One benchmark figure; ratio = value / baseline, both measured in the same run. */
export interface Figure {
  bench: string;
  unit: string;
  value: number;
  baseline?: number;
  ratio?: number;
  p50?: number;
  p99?: number;
  note?: string;
}

export interface BenchContext {
  /** Present when the suite declared it needs the services; from the environment or `services up`. */
  kafkaBrokers?: string[];
  elasticsearchUrl?: string;
  log(message: string): void;
}

/** A file in test/bench/suites/ exports `suite`. */
export interface BenchSuite {
  name: string;
  needsServices?: boolean;
  run(ctx: BenchContext): Promise<Figure[]>;
}

export function withRatio(f: Omit<Figure, 'ratio'>): Figure {
  return f.baseline ? { ...f, ratio: Math.round((f.value / f.baseline) * 1000) / 1000 } : f;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
