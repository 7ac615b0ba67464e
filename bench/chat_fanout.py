"""`chat_fanout`: N Socket.IO clients in one job's chat room on one API process; one sender
posts a message, and each client's receipt is one unit: its latency is the time from the
send to that client's `chat:message`. The next message is sent once every client has it
(or after 10 s), so one message is in flight at a time.

The clients are the official JavaScript client (npm `socket.io-client` 4, WebSocket transport)
in one Node process (`bench/chat_fanout.js`), the way the apps connect; sender and receivers
share that process's clock. Its CPU is counted as the load generator's.
"""

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.load import Measured, Meter, Outcome, record
from bench.scenarios import Context

BENCH = Path(__file__).resolve().parent
NPM_DIR = BENCH.parent / "var" / "npm-cache" / "socket.io-client-4"
INSTALL_TIMEOUT = 300
READY_TIMEOUT = 120


def socketio_client_modules() -> Path:
    """socket.io-client@4 installed once into var/npm-cache (the same copy the tests use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("chat_fanout needs Node.js and npm on PATH")
    if not (NPM_DIR / "node_modules" / "socket.io-client" / "package.json").exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                        str(NPM_DIR), "socket.io-client@4"],
                       check=True, timeout=INSTALL_TIMEOUT, capture_output=True)
    return NPM_DIR / "node_modules"


async def _line(node: asyncio.subprocess.Process, timeout: float) -> dict:
    assert node.stdout is not None
    line = await asyncio.wait_for(node.stdout.readline(), timeout)
    if not line:
        raise RuntimeError("the Node load generator ended without a word")
    said = json.loads(line)
    if said.get("step") == "failed":
        raise RuntimeError(f"the Node load generator failed: {said.get('message')}")
    return said


async def chat_fanout(ctx: Context, name: str, clients: int) -> Measured:
    buyer, job_id = ctx.seeded.orders[0]
    tokens = [buyer.token, ctx.seeded.admin.token]  # both take part in the order's chat
    measured = Measured(name, clients, ctx.seconds)
    node = await asyncio.create_subprocess_exec(
        "node", str(BENCH / "chat_fanout.js"), ctx.base, job_id, str(clients), str(ctx.seconds),
        *tokens, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**26,
        env={**os.environ, "NODE_PATH": str(socketio_client_modules())})
    try:
        ready = await _line(node, READY_TIMEOUT)
        measured.notes.append(f"{clients} clients connected and joined in "
                              f"{ready['connectSeconds']:.1f} s (Node, socket.io-client 4)")
        meter = Meter(ctx.server)
        meter.start()
        assert node.stdin is not None
        node.stdin.write(b"go\n")
        done = await _line(node, ctx.seconds + READY_TIMEOUT)
        meter.stop(measured)
        # Node measures its own CPU over the window: it may have exited by now.
        measured.client_cpu += done["cpuSeconds"]
        measured.other_cpu = max(0.0, measured.other_cpu - done["cpuSeconds"])
    finally:
        if node.returncode is None:
            node.kill()
        await node.wait()
    measured.elapsed = done["elapsed"]
    measured.latencies = [ms / 1000 for ms in done["latenciesMs"]]
    measured.outcomes["received"] = len(measured.latencies)
    for _ in range(done["missing"]):
        record(measured, Outcome(False, "not received", "a client without the message"))
    if done["refused"]:
        record(measured, Outcome(False, "refused", str(done["refused"])))
    if done["messages"]:
        measured.notes.append(
            f"{done['messages']} messages × {clients} clients; per message, p50: the sender's "
            f"ack {done['ackMs']:.1f} ms, the first receipt {done['firstMs']:.1f} ms, first to "
            f"last receipt {done['spreadMs']:.1f} ms")
    return measured
