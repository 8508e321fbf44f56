// An independent MCP client for authcfg's tests: the official TypeScript
// SDK, over stdio (it starts `authcfg mcp`) or streamable HTTP (with the
// bearer token). Reads a JSON spec on stdin, prints a JSON transcript.
//
// spec: {transport: "stdio", command, args, env} | {transport: "http", url, token},
//       clientName?, calls: [{name, arguments}],
//       bench?: {call: {name, arguments}, count, direct?: {url, headers}}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { readFileSync } from "node:fs";

const spec = JSON.parse(readFileSync(0, "utf8"));
// Bounded: a server that dies before answering must not hang the test.
const limit = setTimeout(() => {
  process.stderr.write(`client: no end after ${spec.timeoutSeconds ?? 120} s\n`);
  process.exit(3);
}, (spec.timeoutSeconds ?? 120) * 1000);
const sdkVersion = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url), "utf8"),
).version;

const client = new Client({ name: spec.clientName ?? "ts-sdk-test", version: sdkVersion });
let transport;
if (spec.transport === "http") {
  transport = new StreamableHTTPClientTransport(new URL(spec.url), {
    requestInit: { headers: { Authorization: `Bearer ${spec.token}` } },
  });
} else {
  transport = new StdioClientTransport({
    command: spec.command,
    args: spec.args,
    env: spec.env,
    stderr: "pipe",
  });
}
let stderr = "";
await client.connect(transport);
if (transport.stderr) transport.stderr.on("data", (d) => (stderr += d));
const tools = await client.listTools();
const results = [];
for (const c of spec.calls ?? []) {
  try {
    results.push(await client.callTool({ name: c.name, arguments: c.arguments ?? {} }));
  } catch (e) {
    results.push({ protocolError: String(e) });
  }
}
let bench;
if (spec.bench) {
  const times = [];
  for (let i = 0; i < spec.bench.count; i++) {
    const t0 = process.hrtime.bigint();
    const r = await client.callTool(spec.bench.call);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.isError) throw new Error(JSON.stringify(r));
  }
  bench = { mcp: times };
  // The upstream's own time: the same request straight from this process.
  if (spec.bench.direct) {
    const direct = [];
    for (let i = 0; i < spec.bench.count; i++) {
      const t0 = process.hrtime.bigint();
      const r = await fetch(spec.bench.direct.url, { headers: spec.bench.direct.headers });
      await r.text();
      direct.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    bench.direct = direct;
  }
}
const out = {
  sdk: sdkVersion,
  server: client.getServerVersion(),
  tools: tools.tools.map((t) => t.name),
  results,
  bench,
};
await client.close();
out.stderr = stderr;
clearTimeout(limit);
process.stdout.write(JSON.stringify(out) + "\n");
