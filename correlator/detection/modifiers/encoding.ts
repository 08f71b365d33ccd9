/** Values go through the encoding modifiers as text or, once UTF-16 encoded, as bytes. */
export type EncodedValue = string | Uint8Array;

const BOM_LE = [0xff, 0xfe];

/** utf16le / wide, utf16be and utf16 (a byte order mark, then little-endian). */
export function utf16(value: EncodedValue, variant: 'utf16' | 'utf16le' | 'utf16be' | 'wide'): Uint8Array {
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
  const le = Buffer.from(text, 'utf16le');
  if (variant === 'utf16be') {
    const be = Buffer.from(le);
    be.swap16();
    return be;
  }
  return variant === 'utf16' ? Buffer.concat([Buffer.from(BOM_LE), le]) : le;
}

function bytesOf(value: EncodedValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

export function base64(value: EncodedValue): string {
  return bytesOf(value).toString('base64');
}

/**
 * The three forms a value takes inside a longer base64 text, one for each byte offset. The leading
 * characters that mix in the unknown preceding bytes, and the trailing ones that mix in the unknown
 * following bytes, are cut, so what is left is what appears whatever surrounds the value.
 */
export function base64offset(value: EncodedValue): string[] {
  const bytes = bytesOf(value);
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = [0, 2, 3][shift]!;
    const tail = (bytes.length + shift) % 3;
    const end = encoded.length - (tail === 0 ? 0 : tail === 1 ? 3 : 2);
    if (end > start) out.push(encoded.slice(start, end));
  }
  return out;
}

/** A value that is still bytes at match time (utf16 without base64) is compared as one char per byte. */
export function asText(value: EncodedValue): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
}
