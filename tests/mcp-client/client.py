"""An independent MCP client for authcfg's tests: the Python `mcp` package
over stdio (it starts `authcfg mcp`). Reads a JSON spec on stdin
({command, args, env, clientName?, calls: [{name, arguments}]}), prints a
JSON transcript."""
import asyncio
import importlib.metadata
import json
import sys

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client


async def main() -> None:
    spec = json.load(sys.stdin)
    params = StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"])
    version = importlib.metadata.version("mcp")
    info = types.Implementation(name=spec.get("clientName", "py-sdk-test"), version=version)
    results = []
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, client_info=info) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            for call in spec.get("calls", []):
                try:
                    r = await session.call_tool(call["name"], call.get("arguments", {}))
                    results.append(r.model_dump(mode="json", by_alias=True, exclude_none=True))
                except Exception as e:  # a protocol error, kept in the transcript
                    results.append({"protocolError": repr(e)})
    print(json.dumps({
        "sdk": version,
        "server": init.model_dump(mode="json", by_alias=True, exclude_none=True).get("serverInfo"),
        "tools": [t.name for t in tools.tools],
        "results": results,
    }))


asyncio.run(main())
