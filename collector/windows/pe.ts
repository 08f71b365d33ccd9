/**
 * Just enough of the PE/COFF format (Microsoft's "PE Format" specification) to check what
 * build:windows made: the DOS and PE headers, the machine, the sections, and a named RT_RCDATA
 * resource (postject stores the SEA blob as one, NODE_SEA_BLOB, in .rsrc).
 */
export interface PeSection {
  name: string;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
}

export interface PeImage {
  machine: number;
  /** IMAGE_SUBSYSTEM_WINDOWS_CUI (3) for a console program. */
  subsystem: number;
  sections: PeSection[];
  /** Names of the RT_RCDATA resources, with their data size. */
  rcdata: Map<string, number>;
}

export const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
const RT_RCDATA = 10;

export function readPe(b: Buffer): PeImage {
  if (b.length < 0x40 || b.toString('latin1', 0, 2) !== 'MZ') throw new Error('no MZ (DOS) header');
  const pe = b.readUInt32LE(0x3c);
  if (pe + 24 > b.length || b.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error(`no PE signature at offset ${pe}`);
  const machine = b.readUInt16LE(pe + 4);
  const count = b.readUInt16LE(pe + 6);
  const optSize = b.readUInt16LE(pe + 20);
  const opt = pe + 24;
  const magic = b.readUInt16LE(opt);
  if (magic !== 0x20b) throw new Error(`optional header magic 0x${magic.toString(16)} is not PE32+`);
  const subsystem = b.readUInt16LE(opt + 68);
  const sections: PeSection[] = [];
  for (let i = 0, s = opt + optSize; i < count; i++, s += 40) {
    sections.push({
      name: b.toString('latin1', s, s + 8).replace(/\0+$/, ''),
      virtualAddress: b.readUInt32LE(s + 12),
      rawSize: b.readUInt32LE(s + 16),
      rawOffset: b.readUInt32LE(s + 20),
    });
  }
  // Data directory 2 is the resource table: its RVA, mapped to the file through the section holding it.
  const resourceRva = b.readUInt32LE(opt + 112 + 2 * 8);
  const rcdata = new Map<string, number>();
  const rsrc = sections.find((s) => resourceRva >= s.virtualAddress && resourceRva < s.virtualAddress + s.rawSize);
  if (rsrc) {
    const base = rsrc.rawOffset + (resourceRva - rsrc.virtualAddress);
    const entries = (dir: number) => {
      const n = b.readUInt16LE(dir + 12) + b.readUInt16LE(dir + 14);
      return Array.from({ length: n }, (_, i) => ({ name: b.readUInt32LE(dir + 16 + i * 8), target: b.readUInt32LE(dir + 20 + i * 8) }));
    };
    const named = (v: number) => {
      const off = base + (v & 0x7fffffff);
      return b.toString('utf16le', off + 2, off + 2 + b.readUInt16LE(off) * 2);
    };
    for (const type of entries(base)) {
      if (type.name !== RT_RCDATA || !(type.target & 0x80000000)) continue;
      for (const res of entries(base + (type.target & 0x7fffffff))) {
        if (!(res.name & 0x80000000)) continue;
        let target = res.target;
        // Name -> language -> data entry (RVA, size).
        while (target & 0x80000000) target = entries(base + (target & 0x7fffffff))[0]!.target;
        const data = base + target;
        rcdata.set(named(res.name), b.readUInt32LE(data + 4));
      }
    }
  }
  return { machine, subsystem, sections, rcdata };
}
