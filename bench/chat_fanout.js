// The chat_fanout load generator: N official socket.io-client sockets in one job's room and
// one sender, in this Node process. Usage (NODE_PATH must reach socket.io-client):
//   node chat_fanout.js <baseUrl> <jobId> <clients> <seconds> <token> [<token> ...]
// Prints one JSON line {step: "ready"} once every client has joined, waits for a line on
// stdin, sends one message at a time for <seconds>, then prints {step: "done", ...}.
const { io } = require("socket.io-client");
const readline = require("node:readline");

const [base, jobId, clientsArg, secondsArg, ...tokens] = process.argv.slice(2);
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
const CONNECT_BATCH = 25;
const TIMEOUT_MS = 10000;
const say = (what) => process.stdout.write(JSON.stringify(what) + "\n");

const latencies = [];
let sentAt = new Map();
let pending = 0;
let round = [];
let allIn = null;

function connect(token) {
  return new Promise((resolve, reject) => {
    const socket = io(base, { auth: { token }, transports: ["websocket"], reconnection: false });
    socket.on("connect_error", (err) => reject(new Error(`refused: ${err.message}`)));
    socket.on("chat:message", (message) => {
      const sent = sentAt.get(message.clientMessageId);
      if (sent === undefined) return; // a message of an earlier round that timed out
      const latency = performance.now() - sent;
      latencies.push(latency);
      round.push(latency);
      if (--pending === 0 && allIn) allIn();
    });
    socket.on("connect", async () => {
      const joined = await socket.timeout(TIMEOUT_MS).emitWithAck("chat:join", { jobId });
      if (!joined.ok) reject(new Error(`chat:join refused: ${JSON.stringify(joined)}`));
      else resolve(socket);
    });
  });
}

const median = (values) => {
  if (!values.length) return null;
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
};

async function main() {
  const started = performance.now();
  const room = [];
  for (let first = 0; first < clients; first += CONNECT_BATCH) {
    const batch = [];
    for (let i = first; i < Math.min(clients, first + CONNECT_BATCH); i++) {
      batch.push(connect(tokens[i % tokens.length]));
    }
    room.push(...(await Promise.all(batch)));
  }
  const sender = io(base, { auth: { token: tokens[0] }, transports: ["websocket"], reconnection: false });
  await new Promise((resolve) => sender.on("connect", resolve));
  say({ step: "ready", connectSeconds: (performance.now() - started) / 1000 });
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once("line", resolve));

  const acks = [], firsts = [], spreads = [];
  let messages = 0, missing = 0, refused = null;
  const windowStart = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - windowStart < seconds * 1000) {
    const cmid = `bench-${messages}-${Date.now()}`;
    pending = clients;
    round = [];
    const received = new Promise((resolve) => { allIn = resolve; });
    const sent = performance.now();
    sentAt = new Map([[cmid, sent]]);
    const ack = await sender.timeout(TIMEOUT_MS).emitWithAck(
      "chat:send", { jobId, text: `fan-out ${messages}`, clientMessageId: cmid });
    acks.push(performance.now() - sent);
    if (!ack.ok) { refused = ack; break; }
    const timedOut = await Promise.race([
      received.then(() => false),
      new Promise((resolve) => setTimeout(() => resolve(true), TIMEOUT_MS)),
    ]);
    if (timedOut) missing += pending;
    if (round.length) {
      firsts.push(Math.min(...round));
      spreads.push(Math.max(...round) - Math.min(...round));
    }
    messages++;
  }
  const elapsed = (performance.now() - windowStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  sender.disconnect();
  room.forEach((socket) => socket.disconnect());
  // A pipe's write is asynchronous in Node: exit only once the whole line is out.
  process.stdout.write(JSON.stringify({
    step: "done", latenciesMs: latencies.map((ms) => Math.round(ms * 1000) / 1000), messages,
    missing, refused, elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6, ackMs: median(acks), firstMs: median(firsts),
    spreadMs: median(spreads),
  }) + "\n", () => process.exit(0));
}

main().catch((err) => { say({ step: "failed", message: String(err) }); process.exit(2); });
