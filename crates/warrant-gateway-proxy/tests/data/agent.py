"""An agent driven by the official MCP Python SDK, through the Warrant gateway.

Usage: agent.py URL TOKEN ERA TOOL ARGS_JSON [TOOL ARGS_JSON ...]
ERA is `handshake` (2025-11-25 `initialize`) or `modern` (2026-07-28 `server/discover`).
Prints one JSON document: the protocol version, the tools listed and, per call, its text or
its error.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


async def main() -> None:
    url, token, era, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    calls = list(zip(rest[0::2], rest[1::2]))
    out = {"tools": [], "calls": []}
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                if era == "modern":
                    await session.discover()
                else:
                    await session.initialize()
                out["protocol_version"] = session.protocol_version
                listed = await session.list_tools()
                out["tools"] = sorted(t.name for t in listed.tools)
                for tool, args in calls:
                    try:
                        result = await session.call_tool(tool, json.loads(args))
                        texts = [c.text for c in result.content if getattr(c, "text", None) is not None]
                        out["calls"].append({"tool": tool, "text": texts, "is_error": bool(result.is_error)})
                    except MCPError as error:
                        out["calls"].append({"tool": tool, "error": {"code": error.error.code, "message": error.error.message}})
    print(json.dumps(out))


asyncio.run(main())
