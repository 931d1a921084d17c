"""A stdio MCP server (official Python SDK) reporting the names of its environment variables:
the gateway must start it with PATH and its configured `env` only."""

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("env-report")


@server.tool(name="environment", description="The names of this process's environment variables")
def environment() -> str:
    return ",".join(sorted(os.environ))


server.run("stdio")
