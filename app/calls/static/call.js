// The call demo: REST for sign-in and call state, Socket.IO for chat and WebRTC signalling.
"use strict";

const $ = (id) => document.getElementById(id);
const LIVE = new Set(["ringing", "active"]);
const demo = (window.demo = {
  token: null, user: null, socket: null, jobId: null, chatJoined: false, chat: [],
  call: null, role: null, pc: null, stream: null, pendingIce: [], log: [],
});

function log(message) {
  demo.log.push(message);
  $("log").textContent += `${new Date().toISOString().slice(11, 19)} ${message}\n`;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (demo.token) headers.Authorization = `Bearer ${demo.token}`;
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const envelope = await response.json();
  if (!envelope.success) throw new Error(`${response.status} ${envelope.message}`);
  return envelope.data;
}

// An event with an acknowledgement: resolves with `data` of `{ok: true, data}`.
function emit(event, payload, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    demo.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
      if (err) reject(new Error(`${event}: no answer`));
      else if (ack && ack.ok) resolve(ack.data);
      else reject(new Error(`${event}: ${ack.error.code} ${ack.error.message}`));
    });
  });
}

function showCall() {
  const call = demo.call;
  $("call-state").textContent = call
    ? `${call.type} call ${call.status}` + (demo.pc ? ` · ${demo.pc.connectionState}` : "")
    : "no call";
  $("hangup").disabled = !call || !LIVE.has(call.status);
  $("incoming").hidden = !(call && call.status === "ringing" && demo.role === "callee");
}

async function signIn() {
  const data = await api("POST", "/api/auth/login", { email: $("email").value, password: $("password").value });
  demo.token = data.accessToken;
  demo.user = data.user;
  $("who").textContent = `signed in as ${data.user.email} (${data.user.role})`;
  connectSocket();
}

function connectSocket() {
  const socket = (demo.socket = io({ auth: { token: demo.token } }));
  socket.on("connect", () => { log("socket connected"); $("join").disabled = false; });
  socket.on("connect_error", (err) => log(`socket refused: ${err.message}`));
  socket.on("chat:message", (message) => {
    demo.chat.push(message);
    $("chat-log").textContent += `${message.senderId === demo.user.id ? "me" : "them"}: ${message.text ?? "(media)"}\n`;
  });
  socket.on("call:incoming", (call) => {
    if (demo.call && LIVE.has(demo.call.status)) return;
    demo.call = call; demo.role = "callee";
    $("incoming-type").textContent = call.type;
    log(`incoming ${call.type} call ${call.id}`);
    showCall();
  });
  socket.on("call:status", onCallStatus);
  socket.on("call:offer", onOffer);
  socket.on("call:answer", onAnswer);
  socket.on("call:ice", onIce);
}

async function joinJob() {
  demo.jobId = $("job").value.trim();
  $("job-state").textContent = `job ${demo.jobId}`;
  ["call-audio", "call-video"].forEach((id) => ($(id).disabled = false));
  try {
    await emit("chat:join", { jobId: demo.jobId }, 5000);
    demo.chatJoined = true;
    $("chat-send").disabled = false;
    log("joined the job's chat");
  } catch (err) {
    log(`chat unavailable: ${err.message}`);
  }
}

async function sendChat() {
  const text = $("chat-text").value.trim();
  if (!text) return;
  const clientMessageId = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  await emit("chat:send", { jobId: demo.jobId, text, clientMessageId });
  $("chat-text").value = "";
}

async function preparePeer(type) {
  const { iceServers } = await api("GET", "/api/calls/ice-servers");
  const servers = iceServers.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v != null)));
  demo.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: type === "video" });
  $("local").srcObject = demo.stream;
  const pc = (demo.pc = new RTCPeerConnection({ iceServers: servers }));
  demo.stream.getTracks().forEach((track) => pc.addTrack(track, demo.stream));
  pc.onicecandidate = (event) => {
    if (event.candidate) emit("call:ice", { callId: demo.call.id, candidate: event.candidate.toJSON() }).catch((e) => log(e.message));
  };
  pc.ontrack = (event) => { $("remote").srcObject = event.streams[0]; };
  pc.onconnectionstatechange = () => { log(`connection ${pc.connectionState}`); showCall(); };
  pc.oniceconnectionstatechange = () => log(`ice ${pc.iceConnectionState}`);
}

async function startCall(type) {
  demo.pendingIce = [];
  await preparePeer(type);  // before ringing: the callee may accept at once
  const call = await api("POST", "/api/calls", { jobId: demo.jobId, type });
  demo.call = call; demo.role = "caller";
  await emit("call:join", { callId: call.id });
  log(`calling (${call.id})`);
  showCall();
}

async function accept() {
  demo.pendingIce = [];
  await preparePeer(demo.call.type);
  await emit("call:join", { callId: demo.call.id });
  demo.call = await api("PATCH", `/api/calls/${demo.call.id}/status`, { action: "accept" });
  showCall();
}

async function reject() {
  demo.call = await api("PATCH", `/api/calls/${demo.call.id}/status`, { action: "reject" });
  showCall();
}

async function onCallStatus(call) {
  if (!demo.call || call.id !== demo.call.id) return;
  demo.call = call;
  log(`call ${call.status}`);
  if (call.status === "active" && demo.role === "caller" && demo.pc && !demo.pc.localDescription) {
    await demo.pc.setLocalDescription(await demo.pc.createOffer());
    await emit("call:offer", { callId: call.id, sdp: demo.pc.localDescription.sdp });
  }
  if (!LIVE.has(call.status)) teardown();
  showCall();
}

async function flushIce() {
  for (const candidate of demo.pendingIce.splice(0)) await demo.pc.addIceCandidate(candidate);
}

async function onOffer({ callId, sdp }) {
  if (!demo.call || callId !== demo.call.id || !demo.pc) return;
  await demo.pc.setRemoteDescription({ type: "offer", sdp });
  await flushIce();
  await demo.pc.setLocalDescription(await demo.pc.createAnswer());
  await emit("call:answer", { callId, sdp: demo.pc.localDescription.sdp });
}

async function onAnswer({ callId, sdp }) {
  if (!demo.call || callId !== demo.call.id || !demo.pc) return;
  await demo.pc.setRemoteDescription({ type: "answer", sdp });
  await flushIce();
}

async function onIce({ callId, candidate }) {
  if (!demo.call || callId !== demo.call.id || !candidate) return;
  // Events run concurrently on the server: a candidate may overtake its description.
  if (!demo.pc || !demo.pc.remoteDescription) demo.pendingIce.push(candidate);
  else await demo.pc.addIceCandidate(candidate);
}

function teardown() {
  if (demo.pc) demo.pc.close();
  if (demo.stream) demo.stream.getTracks().forEach((track) => track.stop());
  demo.pc = null; demo.stream = null; demo.pendingIce = [];
}

function guarded(action) {
  return () => action().catch((err) => log(`error: ${err.message}`));
}

$("login").onclick = guarded(signIn);
$("join").onclick = guarded(joinJob);
$("chat-send").onclick = guarded(sendChat);
$("call-audio").onclick = guarded(() => startCall("audio"));
$("call-video").onclick = guarded(() => startCall("video"));
$("accept").onclick = guarded(accept);
$("reject").onclick = guarded(reject);
$("hangup").onclick = guarded(() => emit("call:hangup", { callId: demo.call.id }).then((call) => { demo.call = call; teardown(); showCall(); }));
