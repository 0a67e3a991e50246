import { expect, it } from "vitest";
import { ApiError, describeError } from "./errors.ts";
import { errorsFromApi, issuesToErrors } from "./form-errors.ts";

it("puts zod issues under their first path segment, the first message winning", () => {
  expect(
    issuesToErrors([
      { path: ["labels", 2], message: "no commas" },
      { path: ["labels", 3], message: "too long" },
      { path: [], message: "nothing to update" },
      { path: ["title"], message: "too short" },
    ]),
  ).toEqual({ fields: { labels: "no commas", title: "too short" }, form: "nothing to update" });
});

it("reads the server's validation issues (JSON pointers) by field", () => {
  const err = new ApiError(400, "validation_failed", "invalid body", {
    issues: [{ in: "body", path: "/title", message: "Too big" }],
  });
  expect(errorsFromApi(err)).toEqual({ fields: { title: "Too big" } });
});

it("keeps deeper paths apart when asked to", () => {
  const issues = [
    { path: ["actions", 1, "text"], message: "must not be empty" },
    { path: "/actions/0/statusId", message: "Invalid UUID" },
    { path: ["name"], message: "too short" },
  ];
  expect(issuesToErrors(issues, 2).fields).toEqual({
    "actions.1": "must not be empty",
    "actions.0": "Invalid UUID",
    name: "too short",
  });
});

it("says any other failure for the whole form", () => {
  const err = new ApiError(409, "review_not_ready", "no finished agent work to review on this task");
  expect(errorsFromApi(err)).toEqual({ fields: {}, form: "no finished agent work to review on this task" });
  expect(errorsFromApi(new ApiError(400, "validation_failed", "invalid body", { issues: "junk" }))).toEqual({
    fields: {},
    form: "invalid body",
  });
});

it("names the field in a one-line description of the server's validation failure", () => {
  const err = new ApiError(400, "validation_failed", "invalid body", {
    issues: [{ in: "body", path: "/password", message: "at least 8 characters" }],
  });
  expect(describeError(err)).toBe("password: at least 8 characters");
});
