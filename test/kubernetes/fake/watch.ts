/**
 * Watch streams: one JSON event per line over a chunked 200 response, with the
 * watch cache's semantics for resuming from a resourceVersion (or 410 Expired)
 * and for objects moving in and out of the selection.
 */
import type { ServerResponse } from 'node:http';
import { statusObject } from './status.ts';
import type { PodStore, StoredEvent } from './store.ts';
import { clone, type PodJson } from './types.ts';

export interface WatchRequest {
  matches: (pod: PodJson) => boolean;
  /** undefined or "0": start with the current pods as ADDED. */
  resourceVersion?: string;
  timeoutSeconds?: number;
  bookmarks: boolean;
}

type Line = { type: string; object: unknown };

/**
 * How the cacher shows a change to a watcher with a selector: a pod that
 * stops matching is DELETED (its last matching state at the new version),
 * one that starts matching is ADDED.
 */
function visible(event: StoredEvent, matches: (pod: PodJson) => boolean): Line | undefined {
  const now = matches(event.object);
  switch (event.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: event.object } : undefined;
    case 'DELETED':
      return matches(event.previous ?? event.object) ? { type: 'DELETED', object: event.object } : undefined;
    case 'MODIFIED': {
      const before = event.previous ? matches(event.previous) : false;
      if (before && now) return { type: 'MODIFIED', object: event.object };
      if (now) return { type: 'ADDED', object: event.object };
      if (before) {
        const last = clone(event.previous!);
        last.metadata.resourceVersion = event.object.metadata.resourceVersion;
        return { type: 'DELETED', object: last };
      }
      return undefined;
    }
  }
}

interface OpenWatch {
  res: ServerResponse;
  /** Stops sending events; `abrupt` destroys the connection instead of ending the response. */
  close(abrupt: boolean): void;
}

export class Watches {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: PodStore,
    private readonly bookmarkIntervalMs = 1_000,
  ) {}

  serve(res: ServerResponse, request: WatchRequest): void {
    res.on('error', () => {}); // a client that went away is not the fake's problem
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders(); // the client's watch() resolves once it has the headers
    const write = (line: Line) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(line)}\n`);
    };

    const from = request.resourceVersion;
    let backlog: Line[];
    if (from === undefined || from === '' || from === '0') {
      backlog = this.store.list(request.matches).map((object) => ({ type: 'ADDED', object }));
    } else {
      const resume = this.store.since(Number(from));
      if ('expired' in resume) {
        write({ type: 'ERROR', object: statusObject(410, 'Expired', `too old resource version: ${from} (${resume.oldest})`) });
        res.end();
        return;
      }
      backlog = resume.events.map((e) => visible(e, request.matches)).filter((l) => l !== undefined);
    }

    // Backlog and subscription in the same tick, so no change falls in between.
    const unsubscribe = this.store.subscribe((event) => {
      const line = visible(event, request.matches);
      if (line) write(line);
    });
    for (const line of backlog) write(line);

    const timers: NodeJS.Timeout[] = [];
    const watch: OpenWatch = {
      res,
      close: (abrupt) => {
        if (!this.open.delete(watch)) return;
        unsubscribe();
        timers.forEach(clearTimeout);
        if (abrupt) res.socket?.destroy();
        else res.end();
      },
    };
    this.open.add(watch);
    if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
      timers.push(setTimeout(() => watch.close(false), request.timeoutSeconds * 1000));
    }
    if (request.bookmarks) {
      const bookmark = () =>
        write({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.store.resourceVersion) } } });
      timers.push(setInterval(bookmark, this.bookmarkIntervalMs));
    }
    res.on('close', () => watch.close(false));
  }

  /** Kills every watch connection mid-stream, as a restarting API server or a load balancer would. */
  drop(): void {
    for (const watch of [...this.open]) watch.close(true);
  }

  /** Ends every watch cleanly. */
  close(): void {
    for (const watch of [...this.open]) watch.close(false);
  }
}
