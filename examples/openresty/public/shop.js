// The storefront's chat widget. The page knows a chat id and a token for it,
// never the API key: the shop's nginx creates the chat (/shop/chat), posts
// the questions (/shop/ask) and relays the chat's events (/shop/chats/ID/events).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const chatBox = $("chat"), log = $("log"), typing = $("typing"), typingText = $("typing-text");
  const form = $("ask"), input = $("text"), status = $("status");
  const chips = $("chips"), problem = $("problem"), problemText = $("problem-text");
  const CONNECT_TIMEOUT_MS = 15000;

  let chat = null;          // { chatId, token } from /shop/chat
  let events = null;        // the EventSource following the chat
  let state = "connecting"; // connecting | ready | failed
  let queued = null;        // a question asked before the widget was ready: sent once it is
  let streaming = null;     // the answer being streamed: its bubble
  const answered = new Set(); // message ids already shown in full

  // ---- formatting --------------------------------------------------------
  const locale = document.documentElement.lang || navigator.language || "en";
  const formats = new Map();
  function money(value, currency) {
    if (typeof value !== "number" || typeof currency !== "string" || currency === "") return "";
    try {
      if (!formats.has(currency)) {
        formats.set(currency, new Intl.NumberFormat(locale, { style: "currency", currency }));
      }
      return formats.get(currency).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + currency;   // an unknown currency code
    }
  }
  // {status: "out_of_stock", quantity: 0} -> "Out of stock"; in_stock 12 -> "In stock · 12 left"
  function stock(availability) {
    if (!availability || typeof availability.status !== "string") return "";
    const words = availability.status.split("_").join(" ").trim();
    let text = words.charAt(0).toUpperCase() + words.slice(1);
    const q = availability.quantity;
    if (typeof q === "number" && q > 0) text += " · " + q + " left";
    return text;
  }
  const list = (v) => (Array.isArray(v) ? v : []);   // an empty JSON array may arrive as {}

  // ---- the conversation --------------------------------------------------
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function scrollDown(force) { if (force || nearBottom()) log.scrollTop = log.scrollHeight; }

  function bubble(who, text) {
    const p = document.createElement("p");
    p.className = "msg " + who;
    p.textContent = text;
    log.appendChild(p);
    scrollDown(true);
    return p;
  }

  function showTyping(on, text) {
    typing.hidden = !on;
    typingText.textContent = text || "Homie is typing…";
    if (on) scrollDown(false);
  }

  function card(p) {
    const a = document.createElement("a");
    a.className = "card";
    const url = typeof p.url === "string" ? p.url : (typeof p.uri === "string" ? p.uri : "#");
    a.href = url;
    if (new URL(url, location.href).origin !== location.origin) { a.target = "_blank"; a.rel = "noopener"; }
    const img = document.createElement("img");
    img.className = "card-image";
    img.src = typeof p.image === "string" ? p.image : "/images/product.svg";
    img.alt = "";
    img.width = 96; img.height = 96;
    img.loading = "lazy";
    const body = document.createElement("span");
    body.className = "card-body";
    const parts = [["card-brand", p.brand], ["card-name", p.designation],
      ["card-price", money(p.price, p.currency)], ["card-stock", stock(p.availability)],
      ["card-view", "View product"]];
    for (const [cls, text] of parts) {
      if (typeof text !== "string" || text === "") continue;
      const s = document.createElement("span");
      s.className = cls;
      s.textContent = text;
      body.appendChild(s);
    }
    if (p.availability && typeof p.availability.status === "string") {
      a.dataset.stock = p.availability.status;
    }
    a.append(img, body);
    return a;
  }

  function cards(products) {
    if (list(products).length === 0) return;
    const box = document.createElement("div");
    box.className = "cards";
    for (const p of list(products)) if (p && typeof p === "object") box.appendChild(card(p));
    log.appendChild(box);
  }

  function suggest(texts) {
    const fresh = list(texts).filter((t) => typeof t === "string" && t !== "");
    if (fresh.length === 0) return;
    chips.replaceChildren(...fresh.map((t) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.textContent = t;
      return b;
    }));
  }

  function answer(m) {
    if (answered.has(m.id)) return;
    answered.add(m.id);
    const el = streaming || bubble("homie", "");
    el.textContent = typeof m.content === "string" ? m.content : "";
    el.classList.remove("streaming");
    el.classList.add("done");
    streaming = null;
    log.removeAttribute("aria-busy");
    showTyping(false);
    cards(m.products);
    suggest(m.suggestions);
    scrollDown(true);
  }

  function onChunk(c) {
    if (typeof c.content !== "string" || answered.has(c.messageId)) return;
    if (!streaming) {
      streaming = bubble("homie streaming", "");
      log.setAttribute("aria-busy", "true");   // read out once complete, not per piece
    }
    showTyping(false);
    streaming.textContent += c.content;
    scrollDown(false);
  }

  // ---- states ------------------------------------------------------------
  function setState(next, text) {
    state = next;
    chatBox.dataset.state = next;
    status.textContent = text;
    problem.hidden = next !== "failed";
  }

  function fail(why) {
    if (events) { events.close(); events = null; }
    showTyping(false);
    problemText.textContent = why;
    setState("failed", "Offline");
  }

  function parse(e) {
    try { return JSON.parse(e.data); } catch (err) { return null; }
  }

  function follow() {
    // The relay follows the chat with the HttpOnly cookie /shop/chat set: no token in the URL (access logs).
    const url = "/shop/chats/" + encodeURIComponent(chat.chatId) + "/events";
    const es = new EventSource(url);
    events = es;
    const timer = setTimeout(() => {
      if (events === es && state === "connecting") fail("Homie is taking too long to answer.");
    }, CONNECT_TIMEOUT_MS);
    // Ready once the relay follows the chat: nothing sent after is missed.
    es.addEventListener("open", () => {
      clearTimeout(timer);
      setState("ready", "Online");
      if (queued !== null) { const q = queued; queued = null; ask(q, true); }
    });
    es.addEventListener("error", () => {
      if (events !== es) return;
      if (es.readyState === EventSource.CLOSED) fail("The connection to Homie was lost.");
      else setState("connecting", "Reconnecting…");
    });
    es.addEventListener("typing", (e) => {
      const t = parse(e);
      if (t && !streaming) showTyping(t.typing === true);
    });
    es.addEventListener("chunk", (e) => { const c = parse(e); if (c) onChunk(c); });
    es.addEventListener("message", (e) => {
      const m = parse(e);
      if (!m) return;
      if (m.type === "answer") answer(m);
      else if (m.toolName && m.status === "inProgress" && !streaming) showTyping(true, "Homie is looking through the shop…");
    });
  }

  async function connect() {
    setState("connecting", "Connecting…");
    if (events) { events.close(); events = null; }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), CONNECT_TIMEOUT_MS);
    try {
      const r = await fetch("/shop/chat", { method: "POST", signal: abort.signal });
      if (!r.ok) throw new Error("HTTP " + r.status);
      chat = await r.json();
      if (!chat || typeof chat.chatId !== "string" || typeof chat.token !== "string") throw new Error("bad answer");
      follow();
    } catch (e) {
      fail("Homie could not be reached (" + (e.name === "AbortError" ? "timed out" : e.message) + ").");
    } finally {
      clearTimeout(timer);
    }
  }

  // Posts a question; the answer arrives over the event stream. `shown`:
  // the shopper's bubble is already on the page.
  async function ask(text, shown) {
    if (!shown) bubble("you", text);
    openSheet(true);
    if (state !== "ready") {
      queued = text;
      if (state === "failed") connect();
      return;
    }
    showTyping(true);
    let why = null;
    try {
      const r = await fetch("/shop/ask", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chatId: chat.chatId, token: chat.token, text, url: location.href }),
      });
      if (!r.ok) why = "HTTP " + r.status;
    } catch (e) {
      why = "network error";
    }
    if (why) {
      showTyping(false);
      const p = bubble("homie error", "Sorry, that did not go through (" + why + "). ");
      const again = document.createElement("button");
      again.type = "button";
      again.className = "again";
      again.textContent = "Try again";
      again.addEventListener("click", () => { p.remove(); ask(text, true); });
      p.appendChild(again);
    }
  }

  // ---- the mobile sheet --------------------------------------------------
  const toggle = $("toggle");
  function openSheet(open) {
    chatBox.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide chat" : "Show chat";
    if (open) scrollDown(true);
  }
  toggle.addEventListener("click", () => openSheet(!chatBox.classList.contains("open")));

  // ---- wiring ------------------------------------------------------------
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (state !== "ready" && queued !== null) return;   // one question waits at a time
    input.value = "";
    ask(text, false);
  });
  chips.addEventListener("click", (e) => {
    const chip = e.target.closest(".chip");
    if (chip) ask(chip.textContent, false);
  });
  $("retry").addEventListener("click", () => connect());

  // The product page around the widget.
  const product = document.querySelector(".product");
  $("product-price").textContent = money(Number(product.dataset.price), product.dataset.currency);
  // The note under the sizes follows the picked size.
  const note = $("size-note");
  document.querySelector(".sizes").addEventListener("change", (e) => {
    note.textContent = e.target.dataset.note || "In stock: ships in 1–2 days";
  });
  const count = $("bag-count");
  $("add").addEventListener("click", () => {
    count.textContent = String(Number(count.textContent) + 1);
    $("add").textContent = "Added to bag";
  });

  window.homieShop = { money, stock };   // for the browser test and the console
  connect();
})();
