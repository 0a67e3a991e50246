import type { WebhookEventName } from "@kiln/protocol";

/**
 * What happened in an org, told after it is committed, for whoever listens from outside the domain that
 * made it happen (webhooks today). Told once; a listener that must not lose it records it itself.
 */
export interface OrgEvents {
  emit(orgId: string, event: WebhookEventName, projectId: string | null, data: object): void;
}

export const NO_EVENTS: OrgEvents = { emit() {} };

/** Tells several listeners (webhooks, notifications) of an org's events, each on its own. */
export function allEvents(...listeners: OrgEvents[]): OrgEvents {
  return {
    emit(orgId, event, projectId, data) {
      for (const l of listeners) l.emit(orgId, event, projectId, data);
    },
  };
}
