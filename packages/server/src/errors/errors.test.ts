import { ERROR_CODES, ERROR_STATUS, ErrorEnvelope } from "@kiln/protocol";
import Fastify from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { installErrorHandler } from "../http/error-handler.ts";
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  KilnError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "./errors.ts";

describe("KilnError's status", () => {
  it("is the protocol table's status for every code", () => {
    for (const code of ERROR_CODES) expect(new KilnError(code, "x").status, code).toBe(ERROR_STATUS[code]);
  });

  it("is the one its subclass names, which the table agrees with", () => {
    expect(new ValidationError("x").status).toBe(400);
    expect(new BadRequestError("slug_reserved", "x").status).toBe(400);
    expect(new UnauthenticatedError().status).toBe(401);
    expect(new UnauthenticatedError("token_expired").status).toBe(401);
    expect(new ForbiddenError("csrf_failed").status).toBe(403);
    expect(new NotFoundError("project_not_found").status).toBe(404);
    expect(new ConflictError("slug_taken").status).toBe(409);
    expect(new RateLimitedError(3).status).toBe(429);
  });

  it("takes an explicit status only when one is given", () => {
    expect(new KilnError("status_not_found", "x", { status: 400 }).status).toBe(400);
    expect(new KilnError("status_not_found", "x").status).toBe(404);
  });
});

describe("the server's error answers", () => {
  const app = Fastify();

  beforeAll(async () => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandler(app);
    app.get<{ Params: { code: string } }>("/throw/:code", async (request) => {
      throw new KilnError(request.params.code as (typeof ERROR_CODES)[number], "thrown");
    });
    app
      .withTypeProvider<ZodTypeProvider>()
      .post("/validate", { schema: { body: z.strictObject({ n: z.number() }) } }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(() => app.close());

  it("answer each code thrown as a KilnError with the table's status", async () => {
    for (const code of ERROR_CODES) {
      const res = await app.inject({ method: "GET", url: `/throw/${code}` });
      expect(res.statusCode, code).toBe(ERROR_STATUS[code]);
      expect(ErrorEnvelope.parse(res.json()).error.code).toBe(code);
    }
  });

  it("answer what the handler names itself with the table's status too", async () => {
    const missing = await app.inject({ method: "GET", url: "/nowhere" });
    expect(missing.statusCode).toBe(ERROR_STATUS.route_not_found);
    expect(missing.json().error.code).toBe("route_not_found");
    const invalid = await app.inject({ method: "POST", url: "/validate", payload: { n: "one" } });
    expect(invalid.statusCode).toBe(ERROR_STATUS.validation_failed);
    expect(invalid.json().error.code).toBe("validation_failed");
  });
});
