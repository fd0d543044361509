// Headless Chromium through the storefront demo, as a shopper on a desktop
// (1200 px) and on a phone (390 px): the first /shop/chat is held, then
// fails (connecting, error, retry states); then three questions (typed with
// Enter, a suggestion chip, typed again) with the answers streaming in, and
// a fourth whose /shop/ask fails once and is asked again by its retry button.
// Usage: node storefront.mjs URL OUTDIR -> one JSON line of what it saw per
// width ({"1200": {...}, "390": {...}}); screenshots go to OUTDIR.
// Only the demo's loopback origin is reachable: every other request is
// refused by the resolver rule and by request interception.
import puppeteer from "puppeteer-core";
import { mkdirSync } from "node:fs";

const [url, outdir] = process.argv.slice(2);
const origin = new URL(url).origin;
const out = {};
mkdirSync(outdir, { recursive: true });
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
});
const timer = setTimeout(() => { console.log(JSON.stringify({ error: "timed out", ...out })); process.exit(2); }, 150000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What the page shows right now: the widget's parts, as the test reads them.
function snapshot() {
  const visible = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none" &&
      r.top >= 0 && r.bottom <= innerHeight + 0.5 && r.left >= 0 && r.right <= innerWidth + 0.5;
  };
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };
  const log = document.getElementById("log");
  return {
    state: document.getElementById("chat").dataset.state,
    status: text("#status"),
    statusVisible: visible(document.getElementById("status")),
    inputVisible: visible(document.getElementById("text")),
    inputDisabled: document.getElementById("text").disabled,
    sendVisible: visible(document.getElementById("send")),
    problem: document.getElementById("problem").hidden ? null : text("#problem-text"),
    retryVisible: visible(document.getElementById("retry")),
    chips: [...document.querySelectorAll("#chips .chip")].map((c) => c.textContent),
    log: { live: log.getAttribute("aria-live"), role: log.getAttribute("role"),
      scrolled: log.scrollHeight > log.clientHeight,
      atBottom: log.scrollHeight - log.scrollTop - log.clientHeight <= 2 },
    viewportMeta: (document.querySelector('meta[name=viewport]') || {}).content || null,
    pageWidth: document.documentElement.scrollWidth,
  };
}

async function shopper(width) {
  const seen = { refused: [], chatRequests: 0 };
  let failAsk = false;
  const page = await browser.newPage();
  await page.setViewport({ width, height: width < 600 ? 844 : 900 });
  await page.setRequestInterception(true);
  // The first /shop/chat waits 800 ms (the page must say it is connecting),
  // then fails as if the shop's server were down.
  page.on("request", async (r) => {
    if (!r.url().startsWith(origin + "/")) { seen.refused.push(r.url()); return r.abort(); }
    const path = new URL(r.url()).pathname;
    if (path === "/shop/chat" && ++seen.chatRequests === 1) {
      await sleep(800);
      return r.respond({ status: 502, contentType: "application/json", body: '{"error":"server"}' });
    }
    // Later, one question is lost on the way (see "A question that fails").
    if (path === "/shop/ask" && failAsk) {
      failAsk = false;
      return r.respond({ status: 503, contentType: "application/json", body: '{"error":"server"}' });
    }
    return r.continue();
  });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  seen.connecting = await page.evaluate(snapshot);
  await page.waitForSelector("#chat[data-state=failed]", { timeout: 10000 });
  seen.failed = await page.evaluate(snapshot);
  await page.screenshot({ path: `${outdir}/storefront-${width}-error.png` });
  await page.click("#retry");
  await page.waitForSelector("#chat[data-state=ready]", { timeout: 15000 });
  seen.ready = await page.evaluate(snapshot);
  seen.heroPrice = await page.$eval("#product-price", (e) => e.textContent);
  seen.heroImage = await page.$eval(".gallery img", (e) => ({ src: e.getAttribute("src"), loaded: e.naturalWidth }));
  seen.sizes = await page.$$eval(".sizes input", (l) => l.map((e) => e.value + (e.disabled ? "-" : "")));

  // Record what the shopper sees while it changes.
  await page.evaluate(() => {
    window.seen = { typing: false, partials: [] };
    new MutationObserver(() => {
      if (!document.getElementById("typing").hidden) window.seen.typing = true;
      const growing = document.querySelector("#log .msg.homie.streaming");
      if (growing) window.seen.partials.push(growing.textContent);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  const answers = () => page.$$eval("#log .msg.homie.done", (l) => l.length);
  const waitAnswers = (n) => page.waitForFunction((k) => document.querySelectorAll("#log .msg.homie.done").length >= k,
    { timeout: 20000 }, n);

  // Keyboard: Tab goes from the input to Send; Enter sends.
  await page.focus("#text");
  await page.keyboard.press("Tab");
  seen.tabFromInput = await page.evaluate(() => document.activeElement.id);
  await page.focus("#text");
  await page.keyboard.type("Does the blue hoodie come in size L?");
  await page.keyboard.press("Enter");
  await waitAnswers(1);
  await page.waitForSelector("#log .cards .card", { timeout: 5000 });
  seen.first = await page.evaluate(() => ({
    question: document.querySelector("#log .msg.you").textContent,
    answer: document.querySelector("#log .msg.homie.done").textContent,
    typing: window.seen.typing,
    typingNow: !document.getElementById("typing").hidden,
    partials: window.seen.partials,
    cards: [...document.querySelectorAll("#log .cards .card")].map((c) => ({
      name: c.querySelector(".card-name")?.textContent, price: c.querySelector(".card-price")?.textContent,
      stock: c.querySelector(".card-stock")?.textContent, brand: c.querySelector(".card-brand")?.textContent,
      href: c.getAttribute("href"), image: c.querySelector("img")?.getAttribute("src"),
      imageLoaded: c.querySelector("img")?.naturalWidth || 0,
    })),
    chips: [...document.querySelectorAll("#chips .chip")].map((c) => c.textContent),
    inputFocused: document.activeElement.id === "text",
  }));
  seen.afterFirst = await page.evaluate(snapshot);

  // A suggestion chip sends its text.
  const chip = seen.first.chips[0];
  await page.click("#chips .chip");
  await waitAnswers(2);
  seen.chip = { sent: chip, questions: await page.$$eval("#log .msg.you", (l) => l.map((e) => e.textContent)) };

  // A product that is out of stock.
  await page.type("#text", "Is the light wash straight jeans in stock?");
  await page.click("#send");
  await waitAnswers(3);
  await sleep(300);   // the cards follow the answer's text in the same event
  seen.third = await page.evaluate(() => [...document.querySelectorAll("#log .cards")].pop()
    .querySelectorAll(".card").length ? [...[...document.querySelectorAll("#log .cards")].pop()
      .querySelectorAll(".card")].map((c) => ({ name: c.querySelector(".card-name").textContent,
      stock: c.querySelector(".card-stock").textContent, price: c.querySelector(".card-price").textContent })) : []);
  seen.answers = await answers();
  seen.end = await page.evaluate(snapshot);

  // A question that fails: an error in the conversation with a retry button
  // that asks it again.
  failAsk = true;
  await page.type("#text", "Do you have it in size M?");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#log .msg.error .again", { timeout: 10000 });
  seen.askFailed = await page.$eval("#log .msg.error", (e) => e.textContent);
  await page.click("#log .msg.error .again");
  await waitAnswers(4);
  seen.askRetried = await page.evaluate(() => ({
    errors: document.querySelectorAll("#log .msg.error").length,
    questions: [...document.querySelectorAll("#log .msg.you")].map((e) => e.textContent),
  }));
  await page.screenshot({ path: `${outdir}/storefront-${width}.png` });
  await page.close();
  return seen;
}

try {
  for (const width of [1200, 390]) out[width] = await shopper(width);
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ error: String(e), ...out }));
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await browser.close();
}
