// Headless Chromium opens Swagger UI at /docs with every request off the server's own
// origin refused (no internet, no CDN), authorizes with a bearer token and executes
// GET /api/users/me; prints what it saw as JSON.
// Usage: node swagger_browser.cjs '<json config>'   (PLAYWRIGHT_CORE: path of playwright-core)
"use strict";

const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const config = JSON.parse(process.argv[2]);
const TIMEOUT = 30000;

async function main() {
  const browser = await chromium.launch({
    executablePath: config.chromium, headless: true, args: config.args,
  });
  const result = { offOrigin: [], consoleErrors: [] };
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const origin = new URL(config.baseUrl).origin;
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
      result.offOrigin.push(url);
      return route.abort();
    });
    page.on("console", (message) => {
      if (message.type() === "error") result.consoleErrors.push(message.text());
    });
    await page.goto(`${config.baseUrl}/docs`);
    await page.click("button.authorize");
    await page.fill(".auth-container input[type=text]", config.token);
    await page.click(".auth-btn-wrapper button.authorize");
    await page.click(".auth-btn-wrapper button.btn-done");
    const operation = page.locator("#operations-Users-me_api_users_me_get");
    await operation.locator(".opblock-summary").click();
    await operation.locator("button.try-out__btn").click();
    await operation.locator("button.execute").click();
    const status = operation.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor();
    result.status = (await status.innerText()).trim();
    result.body = await operation.locator(".live-responses-table .response-col_description pre").first().innerText();
    result.curl = await operation.locator(".curl-command").innerText();
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((error) => { console.error(error); process.exit(1); });
