import {
  TERMINAL_CLOSE,
  TERMINAL_MAX_INPUT,
  type TerminalClientMessage,
  type TerminalServerMessage,
} from "@kiln/protocol";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { toast } from "../../ui/toast.tsx";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "exited" | "failed";

export interface TerminalSink {
  write(data: string): void;
  /** The server replays recent output on every attach, so the screen is cleared first. */
  reset(): void;
  size(): { cols: number; rows: number };
}

const storageKey = (org: string, project: string) => `kiln.terminal.${org}.${project}`;

/**
 * One shell in the project's sandbox, kept across page reloads (its id is kept in sessionStorage) and
 * network drops (reconnects with backoff, then replays the scrollback). A shell that exits stays exited
 * until the user asks for a new one.
 */
export class TerminalConnection {
  readonly #org: string;
  readonly #project: string;
  readonly #sink: TerminalSink;
  readonly #onState: (state: ConnectionState, detail?: string) => void;
  #socket: WebSocket | undefined;
  #id: string | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    org: string,
    project: string,
    sink: TerminalSink,
    onState: (state: ConnectionState, detail?: string) => void,
  ) {
    this.#org = org;
    this.#project = project;
    this.#sink = sink;
    this.#onState = onState;
  }

  async start(fresh = false): Promise<void> {
    this.#onState(this.#attempt === 0 ? "connecting" : "reconnecting");
    try {
      this.#id = fresh ? undefined : await this.#existing();
      if (!this.#id) {
        const created = await api.terminals.create(this.#org, this.#project, this.#sink.size());
        this.#id = created.id;
        sessionStorage.setItem(storageKey(this.#org, this.#project), created.id);
      }
    } catch (err) {
      // A limit (terminals per user or org, the org's memory, the project's disk) does not lift by retrying.
      if (isApiError(err, "limit_exceeded")) return this.#refused(describeError(err));
      return this.#retry(err instanceof Error ? err.message : String(err));
    }
    if (this.#closed) return;
    this.#attach(this.#id);
  }

  /** The shell this tab used before (a reload), if the server still has it. */
  async #existing(): Promise<string | undefined> {
    const remembered = sessionStorage.getItem(storageKey(this.#org, this.#project));
    if (!remembered) return undefined;
    const open = await api.terminals.list(this.#org, this.#project);
    return open.some((t) => t.id === remembered) ? remembered : undefined;
  }

  #attach(id: string): void {
    const socket = new WebSocket(api.terminals.socketUrl(this.#org, this.#project, id));
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.#sink.reset();
      this.#onState("open");
      const { cols, rows } = this.#sink.size();
      this.#send({ type: "resize", cols, rows });
    };
    socket.onmessage = (event) => {
      let message: TerminalServerMessage;
      try {
        message = JSON.parse(String(event.data)) as TerminalServerMessage;
      } catch {
        return;
      }
      if (message.type === "output") this.#sink.write(message.data);
      else if (message.type === "exit") this.#exited(message.code);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket || this.#closed) return;
      this.#socket = undefined;
      if (event.code === TERMINAL_CLOSE.ended) return this.#exited(null);
      // Refused before opening: the shell may be gone, or the session expired (the list call refreshes it).
      this.#retry(opened ? "connection lost" : "could not attach");
    };
  }

  #exited(code: number | null): void {
    if (this.#id) sessionStorage.removeItem(storageKey(this.#org, this.#project));
    this.#id = undefined;
    this.#socket?.close();
    this.#socket = undefined;
    this.#sink.write(
      `\r\n\x1b[2m[shell exited${code !== null ? ` with code ${code}` : ""} — press Enter for a new one]\x1b[0m\r\n`,
    );
    this.#onState("exited");
  }

  #refused(message: string): void {
    this.#sink.write(`\r\n\x1b[31m${message}\x1b[0m\r\n`);
    toast.error(`Could not open a terminal: ${message}`);
    this.#onState("failed", message);
  }

  #retry(detail: string): void {
    if (this.#closed) return;
    this.#attempt++;
    if (this.#attempt > 8) {
      this.#onState("failed", detail);
      return;
    }
    this.#onState("reconnecting", detail);
    const delay = Math.min(10_000, 500 * 2 ** (this.#attempt - 1));
    this.#timer = setTimeout(() => void this.start(), delay);
  }

  #send(message: TerminalClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  input(data: string): void {
    // Large pastes go in pieces the server accepts.
    for (let i = 0; i < data.length; i += TERMINAL_MAX_INPUT) {
      this.#send({ type: "input", data: data.slice(i, i + TERMINAL_MAX_INPUT) });
    }
  }

  resize(cols: number, rows: number): void {
    this.#send({ type: "resize", cols, rows });
  }

  get exited(): boolean {
    return this.#id === undefined && this.#socket === undefined;
  }

  /** Starts over after an exit or after giving up. */
  restart(): void {
    this.#attempt = 0;
    clearTimeout(this.#timer);
    void this.start(true);
  }

  /** Detaches (the shell lives on for the next visit, until the server's idle timeout). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket?.close();
    this.#socket = undefined;
  }
}
