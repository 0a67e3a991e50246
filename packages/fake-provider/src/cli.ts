#!/usr/bin/env node
/**
 * `node packages/fake-provider/src/cli.ts --port 4010 --scenario build-counter-app`
 * Runs the fake provider on its own for demos and manual testing.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { scenarios } from "./scenarios.ts";
import { startFakeProvider } from "./server.ts";
import type { Reply } from "./types.ts";

const USAGE = `Usage: node packages/fake-provider/src/cli.ts [options]

  --port <n>          port to listen on (default 4010; 0 picks a free one)
  --host <addr>       address to bind (default 127.0.0.1)
  --scenario <name>   ${Object.keys(scenarios).join(" | ")} (default echo)
  --script <file>     a JSON array of replies to play in order instead of a scenario
  --delay <ms>        pause before each streamed chunk (default 0)
  --model <id>        a model id for GET /v1/models (repeatable; default fake-model)
  --quiet             do not log requests
  -h, --help          this text`;

function fail(message: string): never {
  console.error(`fake-provider: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      port: { type: "string", default: "4010" },
      host: { type: "string", default: "127.0.0.1" },
      scenario: { type: "string" },
      script: { type: "string" },
      delay: { type: "string", default: "0" },
      model: { type: "string", multiple: true },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }).values;
}
try {
  args = parse();
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const port = Number(args.port);
const delay = Number(args.delay);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad --port ${args.port}`);
if (!Number.isFinite(delay) || delay < 0) fail(`bad --delay ${args.delay}`);
if (args.scenario && args.script) fail("give either --scenario or --script, not both");

let replies: Reply[] | undefined;
if (args.script) {
  try {
    replies = JSON.parse(readFileSync(args.script, "utf8")) as Reply[];
  } catch (error) {
    fail(`cannot read --script ${args.script}: ${(error as Error).message}`);
  }
  if (!Array.isArray(replies)) fail("--script must hold a JSON array of replies");
}
const scenarioName = args.script ? undefined : (args.scenario ?? "echo");
const makeResponder = scenarioName === undefined ? undefined : scenarios[scenarioName];
if (scenarioName !== undefined && !makeResponder) fail(`unknown scenario ${scenarioName}`);

const fake = await startFakeProvider({
  port,
  host: args.host,
  models: args.model,
  defaultChunkDelayMs: delay,
  ...(replies ? { replies } : {}),
  ...(makeResponder ? { responder: makeResponder() } : {}),
}).catch((error: Error) => fail(error.message));

const model = args.model?.[0] ?? "fake-model";
console.log(`fake-provider listening on ${fake.url} (${scenarioName ? `scenario ${scenarioName}` : args.script})

  OpenAI base URL:     ${fake.url}/v1      (openai SDK, createOpenAICompatible, createOpenAI(...).chat)
  Anthropic base URL:  ${fake.url}         (@anthropic-ai/sdk; the AI SDK's createAnthropic takes ${fake.url}/v1)
  Any API key works.

Point Kiln at it:
  OPENAI_BASE_URL=${fake.url}/v1 OPENAI_API_KEY=fake KILN_MODEL=openai/${model} npm start
`);

if (!args.quiet) {
  // Polling the recorded list keeps the library free of logging hooks.
  let logged = 0;
  setInterval(() => {
    for (; logged < fake.requests.length; logged++) {
      const r = fake.requests[logged]!;
      console.log(`${new Date(r.at).toISOString()} ${r.method} ${r.path} (${r.api})`);
    }
  }, 200).unref();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: shutting down`);
    fake.close().then(() => process.exit(0));
  });
}
