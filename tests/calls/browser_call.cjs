// Two headless Chromium pages of /demo/call sign in, join a job, chat (when the server has
// chat), and reach a connected WebRTC call through the server; prints the outcome as JSON.
// Usage: node browser_call.cjs '<json config>'   (PLAYWRIGHT_CORE: path of playwright-core)
"use strict";

const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const config = JSON.parse(process.argv[2]);
const TIMEOUT = 30000;

async function openDemo(browser, who) {
  const context = await browser.newContext();
  await context.grantPermissions(["camera", "microphone"], { origin: config.baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("console", (message) => console.error(`[${who.email}] ${message.text()}`));
  page.on("pageerror", (error) => console.error(`[${who.email}] page error: ${error}`));
  await page.goto(`${config.baseUrl}/demo/call`);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("#login");
  await page.waitForFunction(() => window.demo.socket && window.demo.socket.connected);
  await page.fill("#job", config.jobId);
  await page.click("#join");
  await page.waitForFunction(() => !document.getElementById("call-video").disabled);
  return page;
}

function peerState(page) {
  return page.evaluate(() => ({
    connectionState: window.demo.pc && window.demo.pc.connectionState,
    iceConnectionState: window.demo.pc && window.demo.pc.iceConnectionState,
    callId: window.demo.call && window.demo.call.id,
    status: window.demo.call && window.demo.call.status,
    remoteTracks: window.demo.pc
      ? window.demo.pc.getReceivers().filter((r) => r.track).map((r) => r.track.kind).sort() : [],
    remoteVideoWidth: document.getElementById("remote").videoWidth,
  }));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: config.chromium, headless: true, args: config.args,
  });
  const result = { chat: null };
  try {
    const caller = await openDemo(browser, config.caller);
    const callee = await openDemo(browser, config.callee);
    if (config.expectChat) {
      for (const page of [caller, callee]) await page.waitForFunction(() => window.demo.chatJoined);
      await caller.fill("#chat-text", config.chatText);
      await caller.click("#chat-send");
      await callee.waitForFunction((text) => window.demo.chat.some((m) => m.text === text), config.chatText);
      result.chat = await callee.evaluate(() => window.demo.chat.map((m) => m.text));
    }
    await caller.click("#call-video");
    await callee.waitForSelector("#incoming", { state: "visible" });
    await callee.click("#accept");
    for (const page of [caller, callee]) {
      await page.waitForFunction(() => window.demo.pc && window.demo.pc.connectionState === "connected"
        && ["connected", "completed"].includes(window.demo.pc.iceConnectionState));
      // Frames of the other page's fake camera arrive.
      await page.waitForFunction(() => document.getElementById("remote").videoWidth > 0);
    }
    result.connected = [await peerState(caller), await peerState(callee)];
    await caller.click("#hangup");
    for (const page of [caller, callee]) {
      await page.waitForFunction(() => window.demo.call.status === "ended");
    }
    result.ended = [await peerState(caller), await peerState(callee)];
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
