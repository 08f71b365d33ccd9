/**
 * Aho–Corasick over UTF-16 code units: one pass over a text finds every pattern it contains. Sigma's
 * `contains` is a plain substring test, so this matches code units, not grapheme clusters (the npm
 * matchers that segment graphemes miss "\n" inside "\r\n" or "e" before a combining accent).
 * Built once per item or index field; patterns are given already folded.
 */
export class AhoCorasick {
  /** Children of state s: chars[first[s] .. first[s + 1]) sorted, with their states in next[]. */
  private readonly first: Int32Array;
  private readonly chars: Uint16Array;
  private readonly next: Int32Array;
  /** Root transitions for ASCII, the commonest step, without a search. */
  private readonly rootAscii: Int32Array;
  private readonly fail: Int32Array;
  /** First pattern ending at a state (-1 none), then the chain through outLink over patterns. */
  private readonly outHead: Int32Array;
  private readonly outLink: Int32Array;
  /** The nearest state on the fail chain (itself excluded) where a pattern ends, or -1. */
  private readonly dictLink: Int32Array;
  readonly size: number;

  constructor(patterns: readonly string[]) {
    this.size = patterns.length;
    const kids: Map<number, number>[] = [new Map()];
    const outHead: number[] = [-1];
    const outLink = new Int32Array(patterns.length).fill(-1);
    patterns.forEach((p, id) => {
      if (p.length === 0) throw new Error('an empty pattern matches everywhere; test it before building the automaton');
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let t = kids[s]!.get(c);
        if (t === undefined) {
          t = kids.length;
          kids.push(new Map());
          outHead.push(-1);
          kids[s]!.set(c, t);
        }
        s = t;
      }
      outLink[id] = outHead[s]!;
      outHead[s] = id;
    });
    const n = kids.length;
    this.first = new Int32Array(n + 1);
    let edges = 0;
    for (let s = 0; s < n; s++) {
      this.first[s] = edges;
      edges += kids[s]!.size;
    }
    this.first[n] = edges;
    this.chars = new Uint16Array(edges);
    this.next = new Int32Array(edges);
    for (let s = 0; s < n; s++) {
      const sorted = [...kids[s]!].sort((a, b) => a[0] - b[0]);
      sorted.forEach(([c, t], k) => {
        this.chars[this.first[s]! + k] = c;
        this.next[this.first[s]! + k] = t;
      });
    }
    this.rootAscii = new Int32Array(128).fill(0);
    for (const [c, t] of kids[0]!) if (c < 128) this.rootAscii[c] = t;
    this.outHead = Int32Array.from(outHead);
    this.outLink = outLink;
    this.fail = new Int32Array(n);
    this.dictLink = new Int32Array(n).fill(-1);
    // Breadth first, so a state's fail target is final before its children need it.
    const queue: number[] = [...kids[0]!.values()];
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      for (const [c, t] of kids[s]!) {
        let f = this.fail[s]!;
        let target = 0;
        for (;;) {
          const via = kids[f]!.get(c);
          if (via !== undefined && via !== t) {
            target = via;
            break;
          }
          if (f === 0) break;
          f = this.fail[f]!;
        }
        this.fail[t] = target;
        this.dictLink[t] = this.outHead[target]! >= 0 ? target : this.dictLink[target]!;
        queue.push(t);
      }
    }
  }

  private step(s: number, c: number): number {
    if (s === 0 && c < 128) return this.rootAscii[c]!;
    let lo = this.first[s]!;
    let hi = this.first[s + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.chars[mid]!;
      if (m === c) return this.next[mid]!;
      if (m < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return s === 0 ? 0 : -1;
  }

  private advance(s: number, c: number): number {
    for (;;) {
      const t = this.step(s, c);
      if (t >= 0) return t;
      s = this.fail[s]!;
    }
  }

  /** Whether the text contains any pattern. */
  test(text: string): boolean {
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = this.advance(s, text.charCodeAt(i));
      if (this.outHead[s]! >= 0 || this.dictLink[s]! >= 0) return true;
    }
    return false;
  }

  /**
   * `collect` over the text lower-cased on the fly, without building the lower-cased copy; false (and
   * `out` untouched) when the text has a non-ASCII character, whose lower case the caller must fold itself.
   */
  collectAsciiFolded(text: string, out: number[]): boolean {
    const mark = out.length;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 128) {
        out.length = mark;
        return false;
      }
      if (c >= 65 && c <= 90) c |= 32;
      s = this.advance(s, c);
      for (let o = this.outHead[s]! >= 0 ? s : this.dictLink[s]!; o >= 0; o = this.dictLink[o]!) {
        for (let p = this.outHead[o]!; p >= 0; p = this.outLink[p]!) out.push(p);
      }
    }
    return true;
  }

  /** Appends to `out` the index of every pattern the text contains (once per occurrence; no closure per call). */
  collect(text: string, out: number[]): void {
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = this.advance(s, text.charCodeAt(i));
      for (let o = this.outHead[s]! >= 0 ? s : this.dictLink[s]!; o >= 0; o = this.dictLink[o]!) {
        for (let p = this.outHead[o]!; p >= 0; p = this.outLink[p]!) out.push(p);
      }
    }
  }
}
