// The live stream (/api/v1/stream, docs/api.md): one WebSocket for the whole
// page. It remembers the seq of the last event it handed out and, after a
// drop, reconnects with since=<that seq>, so the server replays exactly what
// was missed before live events resume. A `reset` (too far behind) tells the
// pages to reload their state over REST. The state is shown to the user.

export interface StreamEvent {
  kind: 'event';
  seq: number;
  type: string;
  time?: number;
  actor?: number;
  subjects?: { proposal?: string; agreement?: string; dataset_revision?: string; user?: string };
  payload?: any;
}

export type LiveState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'dropped'; since: number; retryInMs: number }
  | { kind: 'resumed'; missed: number; through: number; reset: boolean };

type EventListener = (e: StreamEvent) => void;

const kBackoffMs = [500, 1000, 2000, 4000, 8000];
const kCatchUpQuietMs = 500;

export class LiveConnection {
  private ws: WebSocket | null = null;
  private lastSeq: number | null = null;
  private attempt = 0;
  private wasDropped = false;
  private replayUntil = 0; // events up to this seq are the catch-up after a resume
  private replayed = 0;
  private timer: number | undefined;
  private eventListeners = new Set<EventListener>();
  private resetListeners = new Set<() => void>();
  private stateListeners = new Set<(s: LiveState) => void>();
  state: LiveState = { kind: 'connecting' };
  private firstHello: Promise<void>;
  private resolveFirstHello!: () => void;

  constructor(private readonly url: () => string) {
    this.firstHello = new Promise((r) => (this.resolveFirstHello = r));
  }

  onEvent(f: EventListener): () => void {
    this.eventListeners.add(f);
    return () => this.eventListeners.delete(f);
  }
  onReset(f: () => void): () => void {
    this.resetListeners.add(f);
    return () => this.resetListeners.delete(f);
  }
  onState(f: (s: LiveState) => void): () => void {
    this.stateListeners.add(f);
    f(this.state);
    return () => this.stateListeners.delete(f);
  }
  // Resolves once the first hello arrived (or after `ms`), so that a page's
  // first REST load starts after the stream's start point: nothing between.
  ready(ms = 3000): Promise<void> {
    return Promise.race([this.firstHello, new Promise<void>((r) => setTimeout(r, ms))]);
  }
  get seq(): number | null {
    return this.lastSeq;
  }

  start(): void {
    const since = this.lastSeq === null ? '' : `&since=${this.lastSeq}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${this.url()}?topics=all${since}`);
    } catch {
      return this.scheduleRetry();
    }
    this.ws = ws;
    ws.onmessage = (m) => this.onMessage(String(m.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleRetry();
    };
  }

  private setState(s: LiveState): void {
    this.state = s;
    this.stateListeners.forEach((f) => f(s));
  }

  private scheduleRetry(): void {
    this.wasDropped = true;
    const delay = kBackoffMs[Math.min(this.attempt, kBackoffMs.length - 1)];
    this.attempt++;
    this.setState({ kind: 'dropped', since: this.lastSeq ?? 0, retryInMs: delay });
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.start(), delay);
  }

  private onMessage(text: string): void {
    let m: any;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.kind === 'hello') {
      this.attempt = 0;
      if (this.lastSeq === null) this.lastSeq = m.seq;
      this.replayUntil = m.seq;
      this.replayed = 0;
      this.resolveFirstHello();
      if (!this.wasDropped) this.setState({ kind: 'live' });
      else if ((this.lastSeq ?? 0) >= this.replayUntil) this.finishResume(false);
      // The backlog follows the hello at once; events this stream does not
      // show (accounts) may end it below the head, so a short quiet ends it too.
      else this.timer = window.setTimeout(() => this.wasDropped && this.finishResume(false), kCatchUpQuietMs);
    } else if (m.kind === 'reset') {
      this.attempt = 0;
      this.lastSeq = m.continue_from ?? m.seq;
      this.replayUntil = this.lastSeq ?? 0;
      this.replayed = 0;
      this.resolveFirstHello();
      this.resetListeners.forEach((f) => f());
      this.finishResume(true);
    } else if (m.kind === 'event') {
      if (this.lastSeq !== null && m.seq <= this.lastSeq) return; // never twice
      this.lastSeq = m.seq;
      if (this.wasDropped) this.replayed++;
      this.eventListeners.forEach((f) => f(m as StreamEvent));
      if (this.wasDropped && m.seq >= this.replayUntil) this.finishResume(false);
    }
  }

  private finishResume(reset: boolean): void {
    clearTimeout(this.timer);
    this.wasDropped = false;
    this.setState({ kind: 'resumed', missed: this.replayed, through: this.replayUntil, reset });
  }
}

export function streamUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api/v1/stream`;
}

export const live = new LiveConnection(streamUrl);
