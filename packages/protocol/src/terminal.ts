import { z } from "zod";

/** Terminal sizes a client may ask for; anything larger is a mistake or an attempt to make the PTY huge. */
export const TERMINAL_MAX_COLS = 1000;
export const TERMINAL_MAX_ROWS = 500;
/** Largest `input` payload in one message (characters); a paste larger than this is split by the client. */
export const TERMINAL_MAX_INPUT = 64 * 1024;
/** Largest WebSocket message the server accepts (bytes); larger ones close the socket with 1009. */
export const TERMINAL_MAX_MESSAGE_BYTES = 128 * 1024;

const Cols = z.number().int().min(1).max(TERMINAL_MAX_COLS);
const Rows = z.number().int().min(1).max(TERMINAL_MAX_ROWS);

export const TerminalId = z.uuid().describe("A terminal session's id");

export const CreateTerminalBody = z
  .strictObject({
    cols: Cols.optional().describe("Initial width in columns (default 80)"),
    rows: Rows.optional().describe("Initial height in rows (default 24)"),
  })
  .meta({ id: "CreateTerminalBody" });
export type CreateTerminalBody = z.infer<typeof CreateTerminalBody>;

export const Terminal = z
  .object({
    id: TerminalId,
    createdAt: z.iso.datetime(),
    createdBy: z.string().describe("The user who opened it"),
    cols: z.number().int(),
    rows: z.number().int(),
    attached: z.number().int().describe("WebSocket connections currently attached"),
  })
  .meta({ id: "Terminal" });
export type Terminal = z.infer<typeof Terminal>;

/** Client → server, one JSON object per WebSocket text message. */
export const TerminalClientMessage = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("input"), data: z.string().max(TERMINAL_MAX_INPUT) }),
  z.strictObject({ type: z.literal("resize"), cols: Cols, rows: Rows }),
]);
export type TerminalClientMessage = z.infer<typeof TerminalClientMessage>;

/** Server → client. `output` is the shell's bytes decoded as UTF-8; `exit` is sent once, then the socket closes. */
export const TerminalServerMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("output"), data: z.string() }),
  z.object({ type: z.literal("exit"), code: z.number().int().nullable() }),
]);
export type TerminalServerMessage = z.infer<typeof TerminalServerMessage>;

/**
 * WebSocket close codes the terminal socket uses (4000–4999 are the application's own range, RFC 6455 §7.4.2).
 * 1009 (message too big) comes from the WebSocket layer itself.
 */
export const TERMINAL_CLOSE = {
  /** The shell exited (after an `exit` message) or the session was killed. */
  ended: 4000,
  /** A message was not JSON, not a known type, or out of bounds. */
  invalidMessage: 4400,
  /** The client left too much output unread, or typed into a shell that stopped reading; reconnect. */
  tooSlow: 1013,
  /** The server is shutting down. */
  shutdown: 1001,
} as const;
