// An HTTP server on 127.0.0.1 that hands the request's `api_key` query
// parameter and Authorization header back encoded by Node's own functions,
// one section per encoder: "NAME\t<<VALUE>>\n". Prints "READY <port>" once
// it listens. For tests/it/redaction.rs.
import http from "node:http";
import querystring from "node:querystring";

function forms(prefix, v) {
  const b = Buffer.from(v, "utf8");
  return [
    [prefix + "JSON_stringify", JSON.stringify(v)],
    [prefix + "JSON_stringify_twice", JSON.stringify(JSON.stringify(v))],
    [prefix + "encodeURIComponent", encodeURIComponent(v)],
    [prefix + "encodeURI", encodeURI(v)],
    [prefix + "escape", escape(v)],
    [prefix + "querystring_escape", querystring.escape(v)],
    [prefix + "URLSearchParams", new URLSearchParams({ k: v }).toString()],
    [prefix + "Buffer_base64", b.toString("base64")],
    [prefix + "Buffer_base64url", b.toString("base64url")],
    [prefix + "Buffer_hex", b.toString("hex")],
    [prefix + "JSON_of_base64", JSON.stringify({ b: b.toString("base64") })],
  ];
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, "http://127.0.0.1");
  const out = [
    ...forms("node_key_", u.searchParams.get("api_key") ?? ""),
    ...forms("node_auth_", req.headers["authorization"] ?? ""),
  ];
  const body = Buffer.from(out.map(([n, v]) => `${n}\t<<${v}>>\n`).join(""), "utf8");
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => {
  console.log(`READY ${server.address().port}`);
});
