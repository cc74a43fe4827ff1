"""Socket.IO fan-out clients: `python -m bench.fanout URL ROOM TOKENS_FILE`.

Connects one python-socketio AsyncClient per token in the file (WebSocket transport), subscribes
each to ROOM, prints READY, records for every push to ROOM how long after its `ts` it arrived,
and when a line comes on stdin prints the delays (ms) as one JSON line and disconnects.
Many clients share one process and one event loop, so a few processes carry a thousand sockets.
"""
import asyncio
import json
import sys
from datetime import UTC, datetime

import socketio

CONNECTS_AT_ONCE = 50  # a gentle ramp: the server handles connects one by one anyway


async def _connect(url: str, room: str, token: str, delays: list, gate: asyncio.Semaphore):
    client = socketio.AsyncClient(reconnection=False)

    @client.on("*")
    async def _pushed(event, data):
        if isinstance(data, dict) and data.get("room") == room:
            delay = datetime.now(UTC) - datetime.fromisoformat(data["ts"])
            delays.append(delay.total_seconds() * 1000)

    async with gate:
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        ack = await client.call("subscribe", {"room": room}, timeout=60)
    if ack != {"ok": True}:
        raise SystemExit(f"subscribing to {room} answered {ack}")
    return client


async def main(url: str, room: str, tokens: list[str]) -> None:
    delays: list[float] = []
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    clients = await asyncio.gather(*(_connect(url, room, token, delays, gate) for token in tokens))
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps(delays), flush=True)
    await asyncio.gather(*(client.disconnect() for client in clients))


if __name__ == "__main__":
    target, room_name, tokens_file = sys.argv[1:4]
    with open(tokens_file) as lines:
        asyncio.run(main(target, room_name, [line.strip() for line in lines if line.strip()]))
