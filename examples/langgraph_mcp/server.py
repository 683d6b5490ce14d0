"""A small MCP server for the example: weather and unit conversion tools, over stdio."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("example-weather")

_WEATHER = {"oslo": 4, "rome": 19, "lima": 23}


@server.tool(description="Today's temperature in a city, in Celsius")
def temperature(city: str) -> int:
    try:
        return _WEATHER[city.lower()]
    except KeyError:
        raise ToolError(f"no weather station in {city}") from None  # the model is told why


@server.tool(description="Convert Celsius to Fahrenheit")
def to_fahrenheit(celsius: float) -> float:
    return round(celsius * 9 / 5 + 32, 1)


if __name__ == "__main__":
    server.run("stdio")
