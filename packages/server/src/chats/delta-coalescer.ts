import type { AgentEvent } from "@kiln/protocol";

type Delta = Extract<AgentEvent, { type: "text-delta" | "reasoning-delta" }>;

/**
 * Joins the text (or reasoning) deltas a turn produces within one turn of the event loop into one event
 * before they are numbered, shown and stored. A provider's TCP read often holds many tokens, and each
 * event costs a number, a frame on every follower's stream and a stored row: on a fast stream that was
 * most of the turn's CPU (bench/agent.ts, part a: ~90 µs a token). A delta waits at most until the loop
 * moves on (`setImmediate`), which is when the event streams write anyway (they cork until then). Any
 * other event sends the waiting delta first, so the order never changes; joined deltas fold into the
 * same message parts as the separate ones would.
 */
export class DeltaCoalescer {
  readonly #send: (event: AgentEvent) => void;
  #pending: Delta | undefined;
  #scheduled: NodeJS.Immediate | undefined;

  constructor(send: (event: AgentEvent) => void) {
    this.#send = send;
  }

  add(event: AgentEvent): void {
    if (event.type !== "text-delta" && event.type !== "reasoning-delta") {
      this.flush();
      this.#send(event);
      return;
    }
    const pending = this.#pending;
    if (pending && pending.type === event.type && pending.messageId === event.messageId) {
      this.#pending = { ...pending, delta: pending.delta + event.delta };
      return;
    }
    this.flush();
    this.#pending = { ...event };
    this.#scheduled = setImmediate(() => this.flush());
  }

  /** Sends the waiting delta now (before the turn's end, or anything that must follow it). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) this.#send(pending);
  }
}
