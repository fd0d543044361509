// Headless Chromium through the storefront demo: open the page, ask the
// hoodie question, watch the answer stream in and the product card appear.
// Usage: node storefront.mjs URL  -> prints one JSON line of what it saw.
// Only the demo's loopback origin is reachable: every other request is
// refused by the resolver rule and by request interception.
import puppeteer from "puppeteer-core";

const url = process.argv[2];
const origin = new URL(url).origin;
const out = {};
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
});
const timer = setTimeout(() => { console.log(JSON.stringify({ error: "timed out", ...out })); process.exit(2); }, 30000);
try {
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  out.refused = [];
  page.on("request", (r) => {
    if (r.url().startsWith(origin + "/")) r.continue();
    else { out.refused.push(r.url()); r.abort(); }
  });
  await page.goto(url);
  await page.waitForSelector("body[data-ready=yes]", { timeout: 15000 });
  // Record what the shopper sees while it changes.
  await page.evaluate(() => {
    window.seen = { typing: false, partials: [] };
    new MutationObserver(() => {
      if (document.getElementById("typing").textContent.includes("typing")) window.seen.typing = true;
      const reply = document.querySelector("#log .homie");
      if (reply && !reply.classList.contains("done")) window.seen.partials.push(reply.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.type("#text", "Does the blue hoodie come in size L?");
  await page.click("#send");
  await page.waitForSelector("#log .homie.done", { timeout: 15000 });
  await page.waitForSelector(".product .name", { timeout: 5000 });
  Object.assign(out, await page.evaluate(() => ({
    answer: document.querySelector("#log .homie.done").textContent,
    cards: [...document.querySelectorAll(".product .name")].map((e) => e.textContent),
    typing: window.seen.typing,
    partials: window.seen.partials,
    question: document.querySelector("#log .you").textContent,
  })));
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ error: String(e), ...out }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
}
