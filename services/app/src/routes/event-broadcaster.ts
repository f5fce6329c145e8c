// One producer for every open /cluster/events stream: a single timer and a single topology
// subscription while anyone listens (none when nobody does), each frame built once and written to
// all. Before this, every connection had its own timer and Redis reads, so idle strangers holding
// streams open multiplied the instance's work; the caps bound how many may hold one at all.
import type { Response } from 'express';

export type Admission = { ok: true } | { ok: false; status: 429 | 503; retryAfterSeconds: number };

export interface BroadcasterOptions {
  /** Builds the next frame (already in event-stream form). */
  frame: () => Promise<string>;
  intervalMs: number;
  /** Called on topology changes; the broadcaster adds one listener while it runs. */
  onTopologyChange: Set<() => void>;
  maxConnections: number;
  maxPerIp: number;
  /** A frame could not be built (Redis down, say): that frame is skipped, the next tick retries. */
  onError: (err: unknown) => void;
}

interface Listener {
  ip: string;
  /** The socket's buffer is full: frames are skipped until it drains, not queued in memory. */
  congested: boolean;
}

export class EventBroadcaster {
  private readonly listeners = new Map<Response, Listener>();
  private readonly perIp = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private building = false;
  /** A change arrived while a frame was being built: build another right after. */
  private again = false;
  private last: string | undefined;
  private readonly onTopology = (): void => void this.broadcast();

  constructor(private readonly o: BroadcasterOptions) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Whether one more stream from `ip` may open (pure of side effects). */
  admit(ip: string): Admission {
    if (this.listeners.size >= this.o.maxConnections) return { ok: false, status: 503, retryAfterSeconds: 10 };
    if ((this.perIp.get(ip) ?? 0) >= this.o.maxPerIp) return { ok: false, status: 429, retryAfterSeconds: 10 };
    return { ok: true };
  }

  /** Adds an admitted stream; it gets the latest frame at once and every later one. */
  add(res: Response, ip: string): void {
    const l: Listener = { ip, congested: false };
    this.listeners.set(res, l);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    res.on('drain', () => (l.congested = false));
    if (this.listeners.size === 1) {
      this.timer = setInterval(() => void this.broadcast(), this.o.intervalMs);
      this.o.onTopologyChange.add(this.onTopology);
    }
    if (this.last !== undefined && this.listeners.size > 1) this.write(res, l, this.last);
    else void this.broadcast();
  }

  remove(res: Response): void {
    const l = this.listeners.get(res);
    if (!l) return;
    this.listeners.delete(res);
    const n = (this.perIp.get(l.ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(l.ip, n);
    else this.perIp.delete(l.ip);
    if (this.listeners.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.o.onTopologyChange.delete(this.onTopology);
      this.last = undefined; // a later first listener gets a fresh frame, not a stale one
      this.again = false;
    }
  }

  private write(res: Response, l: Listener, text: string): void {
    if (l.congested || res.writableEnded) return;
    if (!res.write(text)) l.congested = true;
  }

  private async broadcast(): Promise<void> {
    if (this.listeners.size === 0) return;
    if (this.building) return void (this.again = true);
    this.building = true;
    try {
      const text = await this.o.frame();
      if (this.listeners.size === 0) return;
      this.last = text;
      for (const [res, l] of this.listeners) this.write(res, l, text);
    } catch (err) {
      this.o.onError(err);
    } finally {
      this.building = false;
    }
    if (this.again) {
      this.again = false;
      void this.broadcast();
    }
  }
}
