/** A member someone can @mention: by their email's local part or their name without spaces. */
export interface Mentionable {
  userId: string;
  name: string;
  email: string;
}

const MENTION = /(?:^|[^\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})/g;

/** The `@handles` in `text`, lowercased, without trailing dots (end of a sentence). */
export function mentionHandles(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(MENTION)) out.add(m[1]!.replace(/[.]+$/, "").toLowerCase());
  return [...out];
}

/**
 * The members `text` mentions. A handle names a member when it is their email's local part, their whole name
 * without spaces, or their first name when no other member shares it (a shared first name mentions nobody).
 */
export function resolveMentions(text: string, members: Mentionable[]): string[] {
  const handles = mentionHandles(text);
  if (handles.length === 0) return [];
  const firstNames = new Map<string, string[]>();
  for (const m of members) {
    const first = m.name.trim().split(/\s+/)[0]?.toLowerCase();
    if (first) firstNames.set(first, [...(firstNames.get(first) ?? []), m.userId]);
  }
  const found = new Set<string>();
  for (const h of handles) {
    for (const m of members) {
      const local = m.email.slice(0, m.email.lastIndexOf("@")).toLowerCase();
      if (h === local || h === m.name.replace(/\s+/g, "").toLowerCase()) found.add(m.userId);
    }
    const byFirst = firstNames.get(h);
    if (byFirst?.length === 1) found.add(byFirst[0]!);
  }
  return [...found];
}
