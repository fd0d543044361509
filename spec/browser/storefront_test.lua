-- The storefront demo in headless Chromium: `make test-browser` (needs
-- Debian's chromium and spec/browser/node_modules; not part of the default
-- spec pattern). Starts scripts/openresty-demo on free ports, runs
-- storefront.mjs against it and checks what the shopper saw at 1200 and
-- 390 px. Screenshots for a person to look at: build/browser/storefront-*.png.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"
local cjson = require "cjson"

local read_file = mock.read_file

describe("the OpenResty storefront in a browser", function()
  local demo, log, port

  setup(function()
    nginx.build()
    port = mock.free_port()
    log = os.tmpname()
    -- The demo stops by itself when this process ($PPID of the shell) ends.
    demo = assert(io.popen("echo $$ >" .. log .. ".pid; HOMIE_DEMO_WATCH_PID=$PPID exec " .. mock.root
      .. "/scripts/openresty-demo --port " .. port .. " >" .. log .. " 2>&1", "r"))
    local deadline = socket.gettime() + 15
    while socket.gettime() < deadline and not (read_file(log) or ""):find("storefront: ", 1, true) do
      socket.sleep(0.05)
    end
    assert((read_file(log) or ""):find("storefront: ", 1, true), read_file(log))
  end)

  teardown(function()
    local pid = tonumber(read_file(log .. ".pid") or "")
    if pid then os.execute("kill -TERM " .. pid .. " 2>/dev/null") end
    if demo then demo:close() end
    os.remove(log)
    os.remove(log .. ".pid")
  end)

  -- What storefront.mjs saw at one width (see there for the shopper's steps).
  local function check(seen, width)
    local function at(what) return what .. " at " .. width .. " px" end
    assert.same({}, seen.refused, at("requests beyond the shop's origin"))
    assert.equal(2, seen.chatRequests, at("/shop/chat calls (one failed, one retried)"))
    -- Connecting: said on screen, the input usable, not silently disabled.
    local c = seen.connecting
    assert.equal("connecting", c.state, at("state"))
    assert.equal("Connecting…", c.status, at("status"))
    assert.is_true(c.statusVisible and c.inputVisible and c.sendVisible, at("connecting widget visible"))
    assert.is_false(c.inputDisabled, at("input disabled while connecting"))
    assert.equal("width=device-width, initial-scale=1", c.viewportMeta)
    -- /shop/chat failed: an error and a retry button, both in view.
    local f = seen.failed
    assert.equal("failed", f.state, at("state"))
    assert.equal("Homie could not be reached (HTTP 502).", f.problem, at("error"))
    assert.is_true(f.retryVisible, at("retry button visible"))
    assert.is_true(f.inputVisible, at("input visible after the error"))
    -- Retried: ready.
    assert.equal("ready", seen.ready.state, at("state after retry"))
    assert.equal(cjson.null, seen.ready.problem, at("error left after retry"))
    -- The product page.
    assert.equal("€59.99", seen.heroPrice)
    assert.equal("/images/blue-hoodie.svg", seen.heroImage.src)
    assert.is_true(seen.heroImage.loaded > 0, at("product image loaded"))
    assert.same({ "S", "M", "L", "XL-" }, seen.sizes)   -- XL sold out
    -- Keyboard: Tab from the input reaches Send; the first question went by Enter.
    assert.equal("send", seen.tabFromInput, at("focus after the input"))
    assert.equal("polite", c.log.live)
    assert.equal("log", c.log.role)
    assert.is_true(#c.chips >= 3, at("suggestion chips before the first question"))

    local first = seen.first
    assert.equal("Does the blue hoodie come in size L?", first.question)
    assert.truthy(first.answer:find("Size L is in stock", 1, true), first.answer)
    assert.is_true(first.typing, at("typing indicator seen"))
    assert.is_false(first.typingNow, at("typing indicator gone after the answer"))
    assert.is_true(first.inputFocused, at("input keeps the focus"))
    -- Streamed: the shopper saw the answer grow, part by part, before it was complete.
    local growing, last = 0, 0
    for _, text in ipairs(first.partials) do
      if #text > last and #text < #first.answer and first.answer:sub(1, #text) == text then growing = growing + 1 end
      last = math.max(last, #text)
    end
    assert.is_true(growing >= 2, at("growing partial answers seen: " .. growing))
    assert.same({ {
      name = "Blue Hoodie", brand = "Homie", price = "€59.99", stock = "In stock · 12 left",
      href = "https://store.com/products/blue-hoodie", image = "/images/blue-hoodie.svg",
      imageLoaded = first.cards[1] and first.cards[1].imageLoaded,
    } }, first.cards)
    assert.is_true(first.cards[1].imageLoaded > 0, at("card image loaded"))
    -- The answer's suggestions replaced the page's; a click sent the first.
    assert.is_true(#first.chips >= 1, at("suggestions after the answer"))
    assert.are_not.same(c.chips, first.chips)
    assert.equal(first.chips[1], seen.chip.sent)
    assert.same({ "Does the blue hoodie come in size L?", first.chips[1] }, seen.chip.questions)
    assert.equal(3, seen.answers, at("answers"))
    -- Every underscore of out_of_stock; the price with its two decimals.
    assert.same({ { name = "Light Wash Straight Jeans", stock = "Out of stock", price = "€74.50" } }, seen.third)
    -- The conversation overflowed its box and the newest answer is in view;
    -- the input stayed in view; nothing is wider than the screen.
    assert.is_true(seen["end"].log.scrolled, at("log overflowing"))
    assert.is_true(seen["end"].log.atBottom, at("log scrolled to the newest answer"))
    assert.is_true(seen.afterFirst.inputVisible and seen["end"].inputVisible, at("input visible"))
    assert.is_true(seen["end"].pageWidth <= width, at("page width " .. seen["end"].pageWidth))
    -- A question whose /shop/ask failed: said in the conversation, asked again by its button.
    assert.equal("Sorry, that did not go through (HTTP 503). Try again", seen.askFailed)
    assert.equal(0, seen.askRetried.errors, at("error left after asking again"))
    assert.equal(4, #seen.askRetried.questions, at("questions shown (asked again, shown once)"))
    assert.equal("Do you have it in size M?", seen.askRetried.questions[4])
  end

  it("serves a shopper at 1200 and at 390 px: connecting, error and retry, streamed answers, cards, chips", function()
    local shots = mock.root .. "/build/browser"
    os.execute("rm -f " .. shots .. "/storefront-*.png")
    local p = assert(io.popen("cd " .. mock.root .. "/spec/browser && node storefront.mjs http://127.0.0.1:" .. port
      .. "/ " .. shots))
    local out = p:read("a")
    p:close()
    local ok, seen = pcall(cjson.decode, out)
    assert(ok and type(seen) == "table", "storefront.mjs said: " .. out)
    assert.is_nil(seen.error, seen.error)
    check(seen["1200"], 1200)
    check(seen["390"], 390)
    for _, name in ipairs({ "storefront-1200.png", "storefront-390.png", "storefront-1200-error.png",
                            "storefront-390-error.png" }) do
      assert.truthy(read_file(shots .. "/" .. name), "screenshot " .. name)
    end
  end)
end)
