"""The official JavaScript client (npm `socket.io-client` 4, run by Node) chats through this
server: it connects with a token, joins a repair job, receives the technician's message and
sends one that the technician's Python client receives. Fails, never skips, without Node
(CI has it)."""

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.chat.factories import chat_client, client_message_id, live_api, ok_data, repair_people
from tests.live import LiveServer
from tests.processes import REPO_ROOT

NPM_DIR = REPO_ROOT / "var" / "npm-cache" / "socket.io-client-4"
INSTALL_TIMEOUT = 300
LINE_TIMEOUT = 20

SCRIPT = r"""
const { io } = require("socket.io-client");
const [url, token, jobId] = process.argv.slice(2);
const say = (what) => process.stdout.write(JSON.stringify(what) + "\n");
const socket = io(url, { auth: { token }, reconnection: false });
socket.on("connect_error", (err) => { say({ step: "refused", message: err.message }); process.exit(2); });
socket.on("connect", async () => {
  const joined = await socket.timeout(10000).emitWithAck("chat:join", { jobId });
  say({ step: "joined", ack: joined });
});
socket.on("chat:message", async (message) => {
  if (message.senderId === JSON.parse(Buffer.from(token.split(".")[1], "base64url")).sub) return;
  const sent = await socket.timeout(10000).emitWithAck(
    "chat:send", { jobId, text: "Sent from Node", clientMessageId: "node-1" });
  say({ step: "done", received: message, ack: sent, transport: socket.io.engine.transport.name });
  socket.disconnect();
});
"""


@pytest.fixture(scope="session")
def socketio_client_package() -> Path:
    """socket.io-client@4 installed once into var/npm-cache (gitignored), reused after."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js (node and npm) is not installed: the official JS client cannot run",
                    pytrace=False)
    if not (NPM_DIR / "node_modules" / "socket.io-client" / "package.json").exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(NPM_DIR),
             "socket.io-client@4"], check=True, timeout=INSTALL_TIMEOUT, capture_output=True)
    return NPM_DIR / "node_modules"


async def read_line(process: asyncio.subprocess.Process) -> dict:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), LINE_TIMEOUT)
    assert line, "node ended without a word"
    return json.loads(line)


async def test_the_official_js_client_joins_receives_and_sends(
    live_server: LiveServer, socketio_client_package: Path, tmp_path: Path, mongo_db
):
    script = tmp_path / "chat.js"
    script.write_text(SCRIPT)
    async with live_api(live_server) as api:
        people = await repair_people(api)
        async with chat_client(live_server, people.technician) as technician:
            ok_data(await technician.join(people.job_id))
            node = await asyncio.create_subprocess_exec(
                "node", str(script), live_server.base_url, people.customer.token, people.job_id,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "NODE_PATH": str(socketio_client_package)})
            try:
                joined = await read_line(node)
                assert joined["step"] == "joined" and joined["ack"]["ok"] is True, joined
                posted = await api.client.post(
                    f"/api/chat/{people.job_id}/messages",
                    json={"text": "Hello from the technician", "clientMessageId": client_message_id()},
                    headers=people.technician.headers)
                assert posted.status_code == 201, posted.text

                done = await read_line(node)
                assert await technician.next() == posted.json()["data"]  # the room has its sender
                from_node = await technician.next()
                assert await asyncio.wait_for(node.wait(), LINE_TIMEOUT) == 0
            finally:
                if node.returncode is None:
                    node.kill()
                    await node.wait()

    assert joined["ack"]["data"]["jobId"] == people.job_id and joined["ack"]["data"]["status"] == "open"
    assert done["transport"] in {"websocket", "polling"}  # the default: polling, then upgraded
    assert done["received"] == posted.json()["data"]
    assert done["ack"]["ok"] is True and done["ack"]["data"] == from_node
    assert from_node["text"] == "Sent from Node" and from_node["senderId"] == people.customer.id
    stored = await mongo_db.chat_messages.find({"job_id": people.job_id}).to_list()
    assert sorted(m["text"] for m in stored) == ["Hello from the technician", "Sent from Node"]
