/** A container's combined stdout and stderr, readable so far or followed live. */
export class PodLog {
  private readonly chunks: Buffer[] = [];
  private readonly followers = new Set<{ data: (chunk: Buffer) => void; end: () => void }>();
  private ended = false;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    for (const f of [...this.followers]) f.data(chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const f of [...this.followers]) f.end();
    this.followers.clear();
  }

  get finished(): boolean {
    return this.ended;
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Calls `data` for every later chunk and `end` once the container is gone; returns an unsubscribe. */
  follow(data: (chunk: Buffer) => void, end: () => void): () => void {
    if (this.ended) {
      end();
      return () => {};
    }
    const follower = { data, end };
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }
}

/** The last `lines` lines (a final unterminated line counts as one), as kubelet's tailLines. */
export function tail(contents: Buffer, lines: number): Buffer {
  if (lines <= 0) return Buffer.alloc(0);
  let end = contents.length;
  if (end > 0 && contents[end - 1] === 0x0a) end -= 1; // the trailing newline ends the last line
  let start = end;
  for (let seen = 0; start > 0; start--) {
    if (contents[start - 1] === 0x0a && ++seen === lines) break;
  }
  return contents.subarray(start);
}
