-- ask and gather on the fake transport.
local h = require "spec.unit.helpers"

local function ask_setup(reply_delay)
  local client, fake = h.client()
  local reply = h.reply("11111111-2222-4333-8444-555555555555", "Yes, in L.")
  fake:on("GET", h.EVENTS, { status = 200, stream = h.reply_events(1, reply, 0.05) })
  fake:on("POST", h.MESSAGES, { status = 201, json = reply, delay = reply_delay or 0.1 })
  return client, fake, client:chat(h.CHAT), reply
end

describe("ask (fake transport)", function()
  it("returns only once the stream carried the reply's message event", function()
    local _, fake, chat, reply = ask_setup(0.01)
    local t0 = fake:now()
    local got = assert(chat:ask("L?", { currentUrl = h.PAGE }))
    assert.are.equal(reply.id, got.id)
    assert.is_true(fake:now() - t0 >= 0.3 - 1e-9, "waited for the six events")
    assert.is_true(fake:now() - t0 < 1, "and no longer")
  end)

  -- Answers stored now: ask only counts an answer created since it began.
  local function fresh(id, content)
    return h.reply(id, content, os.date("!%Y-%m-%dT%H:%M:%SZ"))
  end

  it("returns when the send returns after the final event, not a read slice later", function()
    local client, fake = h.client()
    local reply = fresh("11111111-2222-4333-8444-555555555555", "Yes, in L.")
    local items = h.reply_events(1, reply, 0.05)  -- the final event at 0.3 s
    items[#items + 1] = { stall = true }
    fake:on("GET", h.EVENTS, { status = 200, stream = items })
    fake:on("POST", h.MESSAGES, { status = 201, json = reply, delay = 0.33 })
    local t0 = fake:now()
    local got = assert(client:chat(h.CHAT):ask("L?", { currentUrl = h.PAGE }))
    assert.are.equal(reply.id, got.id)
    local took = fake:now() - t0
    assert.is_true(took >= 0.33 - 1e-9 and took < 0.35, "ended with the send, at 0.33 s: " .. took)
    assert.are.equal(0, fake.open_now)
  end)

  it("reads on for the reply's own final event when the first answer was another's", function()
    local client, fake = h.client()
    local other = fresh("99999999-2222-4333-8444-555555555555", "Another send's answer.")
    local reply = fresh("11111111-2222-4333-8444-555555555555", "Yes, in L.")
    fake:on("GET", h.EVENTS, { status = 200, stream = {
      { wait = 0.05, data = h.sse(1, "message", other) },  -- before the send returns (0.1 s)
      { wait = 0.15, data = h.sse(2, "message", reply) },  -- after it
      { stall = true } } })
    fake:on("POST", h.MESSAGES, { status = 201, json = reply, delay = 0.1 })
    local seen = {}
    local t0 = fake:now()
    local got = assert(client:chat(h.CHAT):ask("L?", { currentUrl = h.PAGE,
      on_event = function(ev) seen[#seen + 1] = ev.data.id end }))
    assert.are.equal(reply.id, got.id)
    assert.are.same({ other.id, reply.id }, seen)
    assert.is_true(fake:now() - t0 >= 0.2 - 1e-9, "waited for the reply's final event")
    assert.are.equal(0, fake.open_now)
  end)

  it("closes its stream when on_event raises, and re-raises", function()
    local _, fake, chat = ask_setup()
    collectgarbage("stop")  -- the stream must be closed by ask, not by __gc
    local ok, err = pcall(chat.ask, chat, "L?", { currentUrl = h.PAGE,
      on_event = function() error("boom from on_event") end })
    collectgarbage("restart")
    assert.is_false(ok)
    assert.matches("boom from on_event", err)
    assert.are.equal(0, fake.open_now)
  end)

  it("returns the send's error, and gives up waiting final_wait after the send", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 200, stream = { { stall = true } } })
    fake:on("POST", h.MESSAGES, { status = 201, json = h.reply("r1", "ok"), delay = 0.2 })
    local t0 = fake:now()
    assert(client:chat(h.CHAT):ask("L?", { currentUrl = h.PAGE, final_wait = 2 }))
    local took = fake:now() - t0
    assert.is_true(took >= 2.2 and took < 2.4, "final_wait after the POST: " .. took)
    fake:on("POST", h.MESSAGES, { status = 400, json = { message = "bad" } })
    local none, err = client:chat(h.CHAT):ask("L?", { currentUrl = h.PAGE })
    assert.is_nil(none)
    assert.are.equal("invalid_request", err.kind)
    assert.are.equal(0, fake.open_now)
  end)
end)

describe("gather (fake transport)", function()
  it("runs tasks together: the total is the longest, not the sum", function()
    local client, fake = h.client()
    fake:on("GET", h.MESSAGES, { status = 200, json = { items = {} }, delay = 1 })
    local t0 = fake:now()
    local tasks = {}
    for i = 1, 5 do tasks[i] = function() return assert(client:list_messages(h.CHAT)) and i end end
    local r = client:gather(tasks)
    for i = 1, 5 do assert.are.equal(i, r[i][1]) end
    assert.are.equal(1, fake:now() - t0)
  end)

  it("raises when a task raises, naming it", function()
    local client = h.client()
    assert.has_error(function()
      client:gather({ function() return 1 end, function() error("task two broke") end })
    end)
    local ok, err = pcall(client.gather, client, { function() error("task two broke") end })
    assert.is_false(ok)
    assert.matches("gather task 1 failed: .*task two broke", err)
    assert.has_error(function() client:gather({ 1 }) end, "homie: gather task 1 must be a function")
  end)
end)
