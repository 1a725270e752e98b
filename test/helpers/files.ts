// Test files with real content.
import { writeFileSync } from "node:fs";

/**
 * Writes `size` bytes of fresh random (incompressible) content and pushes the
 * file out of the page cache, so that reading it hits storage.
 */
export async function writeUncachedRandomFile(path: string, size: number): Promise<void> {
  const chunk = new Uint8Array(1024 * 1024);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < size / chunk.length; i++) {
    for (let o = 0; o < chunk.length; o += 65536) crypto.getRandomValues(chunk.subarray(o, o + 65536));
    parts.push(chunk.slice());
  }
  writeFileSync(path, Buffer.concat(parts));
  await Bun.spawn(["dd", `of=${path}`, "oflag=nocache", "conv=notrunc,fdatasync", "count=0", "status=none"]).exited;
  await Bun.spawn(["dd", `if=${path}`, "iflag=nocache", "count=0", "status=none"]).exited;
}
