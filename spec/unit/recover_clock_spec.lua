-- Recovering the reply of a send whose answer was lost on the way back: from
-- ask's event stream, and from the chat's history (send_message with
-- reconcile), on the fake transport with its virtual clock.
local h = require "spec.unit.helpers"
local message = require "homie.message"
local reconcile = require "homie.reconcile"

local RESET = { fail = { kind = "connection", message = "transfer closed with 1606 bytes remaining",
  sent = true, retryable = true } }
local REFUSED = { fail = { kind = "connection", message = "refused", sent = false, retryable = true } }
local ANSWER_ID = "11111111-2222-4333-8444-555555555555"

-- A client whose chat streams one reply (`gap` s apart, the message event
-- at 6 * gap) and whose POST answers `post` after `delay` seconds.
local function asking(post, delay, created_at, opts)
  local client, fake = h.client(opts)
  local reply = h.reply(ANSWER_ID, "Yes, in L.", created_at or h.iso())
  fake:on("GET", h.EVENTS, { status = 200, stream = h.reply_events(1, reply, 0.05) })
  local answer = { delay = delay }
  for k, v in pairs(post) do answer[k] = v end
  fake:on("POST", h.MESSAGES, answer)
  return client:chat(h.CHAT), fake, reply
end

describe("ask recovers a reply from its stream", function()
  it("when the POST breaks after the answer was streamed", function()
    local chat, fake, reply = asking(RESET, 0.35)
    local t0 = fake:now()
    local got, err = chat:ask("L?", { currentUrl = h.PAGE })
    assert.is_nil(err)
    assert.are.equal(reply.id, got.id)
    assert.are.equal(reply.content, got.content)
    assert.is_true(got.recovered)
    assert.are.equal("connection", got.recovered_from.kind)
    assert.is_true(got.recovered_from.maybe_stored)
    assert.are.equal("https://store.com/products/blue-hoodie", got.products[1].url, "normalized like a reply")
    local took = fake:now() - t0
    -- The stream is watched in 0.1 s slices: the failure is seen within one.
    assert.is_true(took >= 0.35 and took <= 0.45 + 1e-9, "returned once the send failed: " .. took)
    assert.are.equal(0, fake.open_now)
  end)

  it("when the POST breaks before the answer is streamed: it keeps watching", function()
    local chat, fake, reply = asking(RESET, 0.1)
    local t0 = fake:now()
    local got = assert(chat:ask("L?", { currentUrl = h.PAGE }))
    assert.are.equal(reply.id, got.id)
    assert.is_true(got.recovered)
    local took = fake:now() - t0
    assert.is_true(took >= 0.3 - 1e-9 and took < 0.45, "until the message event: " .. took)
  end)

  it("when a 2xx body is cut (a protocol error)", function()
    local cut = { status = 201, body = '{"id": "1111', headers = { ["content-type"] = "application/json" } }
    local chat, _, reply = asking(cut, 0.35)
    local got = assert(chat:ask("L?", { currentUrl = h.PAGE }))
    assert.are.equal(reply.id, got.id)
    assert.are.equal("protocol", got.recovered_from.kind)
    assert.are.equal(201, got.recovered_from.status)
  end)

  it("returns the error final_wait after the failure when no answer comes", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 200, stream = { { stall = true } } })
    fake:on("POST", h.MESSAGES, { fail = RESET.fail, delay = 0.2 })
    local t0 = fake:now()
    local none, err = client:chat(h.CHAT):ask("L?", { currentUrl = h.PAGE, final_wait = 3 })
    assert.is_nil(none)
    assert.are.equal("connection", err.kind)
    assert.is_true(err.maybe_stored)
    local took = fake:now() - t0
    assert.is_true(took >= 3.2 - 1e-9 and took < 3.4, "waited final_wait after the failure: " .. took)
  end)

  it("does not wait on a failure that provably never reached the server", function()
    for _, post in ipairs({ REFUSED, { status = 429 }, { status = 503 }, { status = 400, json = { message = "bad" } } }) do
      local chat, fake = asking(post, 0.01)
      local t0 = fake:now()
      local none, err = chat:ask("L?", { currentUrl = h.PAGE, max_retries = 0 })
      assert.is_nil(none)
      assert.is_false(err.maybe_stored)
      assert.is_true(fake:now() - t0 < 0.1, "no wait for the stream's answer")
    end
  end)

  it("does not take an answer stored before the send began (outside the skew window)", function()
    local chat = asking(RESET, 0.35, h.iso(-(message.SKEW + 60)))
    local none, err = chat:ask("L?", { currentUrl = h.PAGE, final_wait = 1 })
    assert.is_nil(none)
    assert.are.equal("connection", err.kind)
  end)
end)

-- A chat history served page by page from `items` (oldest first).
local function history(fake, items_fn)
  fake:on("GET", h.MESSAGES, function(req)
    local items = items_fn()
    local page = tonumber(req.url:match("[?&]page=(%d+)") or "1")
    local size = tonumber(req.url:match("[?&]size=(%d+)") or "20")
    local pages = math.max(1, math.ceil(#items / size))
    local out = {}
    for i = (page - 1) * size + 1, math.min(page * size, #items) do out[#out + 1] = items[i] end
    return { status = 200, json = { items = out, totalItems = #items, size = size, totalPages = pages,
      currentPage = page, hasNextPage = page < pages, hasPrevPage = page > 1 } }
  end)
end

describe("send_message reconciles from history", function()
  local function sending(opts, post)
    local lines = {}
    opts = opts or {}
    opts.logger = function(l) lines[#lines + 1] = l end
    local client, fake = h.client(opts)
    fake:on("POST", h.MESSAGES, post or RESET)
    return client, fake, lines
  end

  it("returns the stored answer marked recovered, picking the newest identical question", function()
    local client, fake, lines = sending{ reconcile = true }
    local answer = h.reply(ANSWER_ID, "Yes, in L.", h.iso())
    history(fake, function() return {
      h.question("q0", "L?", h.iso(-3600)), h.reply("a0", "old answer", h.iso(-3600)),
      h.question("q1", "L?", h.iso()), answer } end)
    local got, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
    assert.is_nil(err)
    assert.are.equal(ANSWER_ID, got.id)
    assert.is_true(got.recovered)
    assert.are.equal("connection", got.recovered_from.kind)
    assert.are.equal(1, fake:count("^POST"), "never re-sent")
    assert.are.equal(1, fake:count("^GET"))
    assert.matches("failed send was stored", lines[#lines])
  end)

  it("reads the last two pages of a long chat", function()
    local client, fake = sending{ reconcile = true }
    local items = {}
    for i = 1, 120 do items[i] = h.question("x" .. i, "other " .. i, h.iso(-3600)) end
    items[#items + 1] = h.question("q", "L?")  -- 121: page 3 of 50 ...
    items[#items + 1] = h.reply(ANSWER_ID, "Yes", h.iso())
    history(fake, function() return items end)
    local got = assert(client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE }))
    assert.are.equal(ANSWER_ID, got.id)
    assert.are.equal(3, fake:count("^GET"), "page 1 for the count, then pages 2 and 3")
    assert.are.equal(1, fake:count("page=3"))
  end)

  it("waits for an answer whose question is already stored, 0.5 s doubling", function()
    local client, fake = sending{ reconcile = true }
    local reads = 0
    history(fake, function()
      reads = reads + 1
      if reads < 3 then return { h.question("q", "L?") } end
      return { h.question("q", "L?"), h.reply(ANSWER_ID, "Yes", h.iso()) }
    end)
    local t0 = fake:now()
    local got = assert(client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE }))
    assert.are.equal(ANSWER_ID, got.id)
    assert.are.equal(1.5, fake:now() - t0)
    assert.are.equal(0.5, fake.log[3].at - fake.log[2].at)
    assert.are.equal(1, fake.log[4].at - fake.log[3].at)
  end)

  it("gives up ANSWER_WAIT after the question if no answer follows", function()
    local client, fake = sending{ reconcile = true }
    history(fake, function() return { h.question("q", "L?") } end)
    local t0 = fake:now()
    local none, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
    assert.is_nil(none)
    assert.is_true(err.maybe_stored)
    assert.is_true(fake:now() - t0 <= require("homie.policy").DEFAULTS.reconcile_wait)
  end)

  it("returns the original error when the question is not stored, or the history cannot be read", function()
    local client, fake = sending{ reconcile = true }
    history(fake, function() return { h.question("q", "other"), h.reply("a", "x", h.iso()) } end)
    local none, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
    assert.is_nil(none)
    assert.are.equal("connection", err.kind)
    assert.are.equal(1, fake:count("^GET"), "not stored: no waiting")
    fake:on("GET", h.MESSAGES, { status = 500 })
    none, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, max_retries = 0 })
    assert.is_nil(none)
    assert.are.equal("connection", err.kind, "the send's error, not the read's")
  end)

  it("is off unless asked: errors say maybe_stored, and the call can turn it on or off", function()
    local client, fake = sending()
    history(fake, function() return { h.question("q", "L?"), h.reply(ANSWER_ID, "Yes", h.iso()) } end)
    local none, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
    assert.is_nil(none)
    assert.is_true(err.maybe_stored)
    assert.are.equal(0, fake:count("^GET"))
    assert(client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, reconcile = true }).recovered)
    assert.has_error(function() client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, reconcile = "yes" }) end,
      "homie: reconcile must be a boolean, got string")
    assert.has_error(function() h.client{ reconcile = 1 } end, "homie: reconcile must be a boolean, got number")
    local on, fake_on = sending{ reconcile = true }
    history(fake_on, function() return { h.question("q", "L?"), h.reply(ANSWER_ID, "Yes", h.iso()) } end)
    assert.is_nil(on:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, reconcile = false }))
    assert.are.equal(0, fake_on:count("^GET"))
  end)

  it("does not reconcile a failure that provably never reached the server", function()
    for _, post in ipairs({ REFUSED, { status = 429 }, { status = 503 }, { status = 404, json = { message = "no chat" } } }) do
      local client, fake = sending({ reconcile = true }, post)
      history(fake, function() return { h.question("q", "L?"), h.reply(ANSWER_ID, "Yes", h.iso()) } end)
      local none, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, max_retries = 0 })
      assert.is_nil(none)
      assert.is_false(err.maybe_stored)
      assert.are.equal(0, fake:count("^GET"))
    end
  end)

  it("marks 2xx bodies that cannot be read and 500s as maybe stored", function()
    for _, post in ipairs({ { status = 201, body = "not json" }, { status = 500 }, { status = 502 } }) do
      local client = sending({}, post)
      local _, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
      assert.is_true(err.maybe_stored, tostring(post.status))
    end
  end)
end)

describe("reconcile.match", function()
  local now = os.time()
  it("pairs the newest question in the window with the first answer after it", function()
    local items = { h.question("q1", "L?"), h.reply("a1", "1", h.iso()), h.question("q2", "L?"), h.reply("a2", "2", h.iso()) }
    local a, q = reconcile.match(items, "L?", now)
    assert.are.equal("a2", a.id)
    assert.are.equal("q2", q.id)
  end)

  it("finds nothing when another question comes before an answer, or outside the window", function()
    local a, q = reconcile.match({ h.question("q1", "L?"), h.question("q2", "M?"), h.reply("a", "x", h.iso()) }, "L?", now)
    assert.is_nil(a)
    assert.are.equal("q1", q.id)
    assert.is_nil(reconcile.match({ h.question("q", "L?", h.iso(-message.SKEW - 5)), h.reply("a", "x") }, "L?", now))
    assert.is_nil(reconcile.match({ h.question("q", "L?", h.iso(message.SKEW + 5)), h.reply("a", "x") }, "L?", now))
    assert.are.equal("a", reconcile.match({ h.question("q", "L?", h.iso(-message.SKEW + 5)), h.reply("a", "x") }, "L?", now).id)
  end)
end)

describe("message.epoch", function()
  it("reads ISO-8601 UTC, fractions and offsets, and nothing else", function()
    assert.are.equal(1751992331, message.epoch("2025-07-08T16:32:11Z"))
    assert.are.equal(1751992331, message.epoch("2025-07-08T16:32:11.250Z"))
    assert.are.equal(1751992331, message.epoch("2025-07-08T18:32:11+02:00"))
    assert.are.equal(951782400, message.epoch("2000-02-29T00:00:00Z"))
    assert.are.equal(0, message.epoch("1970-01-01T00:00:00Z"))
    assert.is_nil(message.epoch("2025-07-08"))
    assert.is_nil(message.epoch("2025-07-08T16:32:11 junk"))
    assert.is_nil(message.epoch(42))
  end)
end)
