// One interface for every upstream transport (STYLE.md: the SDK's Transport): the session never
// knows whether it talks to a child process over stdio or to a server over HTTP.

export interface Upstream {
  readonly server: string;
  /** Resolves when the upstream can take messages; rejects with a reason a person understands. */
  start(): Promise<void>;
  /** Send one JSON-RPC message (a line without its newline). */
  send(line: Buffer): void;
  /** Stop the upstream; resolves when it is gone. */
  close(): Promise<void>;
  /** Set by the session: each message from the upstream. */
  onLine: (line: Buffer) => void;
  /** Set by the session: the upstream went away (crash, exit, connection lost). */
  onClose: (reason: string) => void;
  /**
   * Back-pressure: stop reading the upstream's messages (its client is not keeping up, or its
   * session is over its share) and go on. A paused upstream is left to block on its own writes.
   */
  pause(): void;
  resume(): void;
  /** Bytes sent that the upstream has not taken yet. */
  readonly backlog: number;
  /** Set by the session: the upstream took what was sent (the backlog drained). */
  onDrain: () => void;
}
