import { describe, expect, it } from "vitest";
import { mcpBodyOf, secretLines } from "./mcp-servers.ts";

describe("MCP server form state", () => {
  it("reads headers as `Name: value` or `NAME=value` lines and env as `NAME=value`", () => {
    expect(secretLines("Authorization: Bearer a=b\n\nX-Team=core\n", "http")).toEqual({
      Authorization: "Bearer a=b",
      "X-Team": "core",
    });
    expect(secretLines("TOKEN=x:y\n", "stdio")).toEqual({ TOKEN: "x:y" });
  });

  it("sends a stdio command as argv and an http server without a command", () => {
    expect(
      mcpBodyOf({
        name: " tools ",
        transport: "stdio",
        url: "",
        command: " node  tools/mcp.cjs ",
        secrets: "",
      }),
    ).toEqual({ name: "tools", transport: "stdio", command: ["node", "tools/mcp.cjs"], env: {} });
    expect(
      mcpBodyOf({
        name: "docs",
        transport: "http",
        url: "https://mcp.example.com/mcp ",
        command: "x",
        secrets: "",
      }),
    ).toEqual({ name: "docs", transport: "http", url: "https://mcp.example.com/mcp", headers: {} });
  });
});
