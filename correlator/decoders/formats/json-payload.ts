import { DecodeError, type DecodeInput } from '../types.ts';

/** Parses the payload as JSON once per line, however many decoders look at it. */
export function parseJsonPayload(input: DecodeInput): unknown {
  if (!input.json) {
    try {
      input.json = { value: JSON.parse(input.payload) };
    } catch (err) {
      const msg = (err as Error).message;
      const at = /position (\d+)/.exec(msg);
      input.json = { error: new DecodeError(`invalid JSON (${msg.split('\n')[0]})`, at ? Number(at[1]) : 0) };
    }
  }
  if ('error' in input.json) throw input.json.error;
  return input.json.value;
}

/** The payload's JSON object, or undefined when it is not one (sniffers must not throw). */
export function jsonObject(input: DecodeInput): Record<string, unknown> | undefined {
  if (input.payload.charCodeAt(0) !== 123) return undefined;
  try {
    const v = parseJsonPayload(input);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
