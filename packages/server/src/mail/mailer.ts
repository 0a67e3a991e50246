import type { FastifyBaseLogger } from "fastify";

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * With no SMTP configured, mail goes to the log so a single-machine operator can still copy an
 * invitation link. Every sent mail is also kept in `sent` (bounded) for tests and diagnostics.
 */
export class LogMailer implements Mailer {
  readonly sent: Mail[] = [];
  readonly #log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.#log = log;
  }

  async send(mail: Mail): Promise<void> {
    this.sent.push(mail);
    if (this.sent.length > 100) this.sent.shift();
    this.#log.info(
      { mail: { to: mail.to, subject: mail.subject }, body: mail.text },
      "mail (no SMTP configured)",
    );
  }
}
