import { describeError, isApiError } from "./errors.ts";

/** Messages per top-level field of a form ("title", "description", …), and one for the whole form. */
export interface FormErrors {
  fields: Record<string, string>;
  form?: string;
}

interface Issue {
  path?: unknown;
  message?: unknown;
}

/**
 * The field an issue names, from zod's `["actions", 0, "text"]` or the server's JSON pointer `/actions/0/text`:
 * its first `depth` segments joined with dots ("actions" at depth 1, "actions.0" at depth 2).
 */
function fieldOf(path: unknown, depth: number): string | undefined {
  const parts = Array.isArray(path)
    ? path.map(String)
    : typeof path === "string"
      ? path.split("/").filter(Boolean)
      : [];
  return parts.length > 0 ? parts.slice(0, depth).join(".") : undefined;
}

/** The first message for each field; issues that name no field go to the form. */
export function issuesToErrors(issues: readonly Issue[], depth = 1): FormErrors {
  const out: FormErrors = { fields: {} };
  for (const issue of issues) {
    const message = typeof issue.message === "string" ? issue.message : "is not valid";
    const field = fieldOf(issue.path, depth);
    if (field === undefined) out.form ??= message;
    else out.fields[field] ??= message;
  }
  return out;
}

/**
 * A failed save as form errors: the server's validation issues (`details.issues`, or a bare list) by field,
 * anything else as one sentence for the form.
 */
export function errorsFromApi(err: unknown, depth = 1): FormErrors {
  if (isApiError(err, "validation_failed")) {
    const details = err.details as { issues?: unknown } | unknown[] | undefined;
    const issues = Array.isArray(details) ? details : (details as { issues?: unknown })?.issues;
    if (Array.isArray(issues) && issues.length > 0) {
      const errors = issuesToErrors(issues as Issue[], depth);
      if (Object.keys(errors.fields).length > 0 || errors.form) return errors;
    }
  }
  return { fields: {}, form: describeError(err) };
}
