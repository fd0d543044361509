-- Event streams on the fake transport: scripted cuts, stalls, garbage and
-- resumes, with the exact waits read off the virtual clock.
local h = require "spec.unit.helpers"

local function block(id, data) return ("id: %d\ndata: %s\n\n"):format(id, data) end

local function opens(fake)
  local t = {}
  for _, r in ipairs(fake.log) do
    if r.method == "GET" and r.path:find("events$") then t[#t + 1] = r end
  end
  return t
end

describe("stream (fake transport)", function()
  it("resumes after a cut with Last-Event-ID, waiting the server's retry:", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, {
      { status = 200, stream = { "retry: 2500\n\n", block(1, "a"), block(2, "b"), { fail = { kind = "connection", message = "cut" } } } },
      { status = 200, stream = { block(3, "c"), { stall = true } } },
    })
    local s = client:events(h.CHAT)
    local got = {}
    for _ = 1, 3 do got[#got + 1] = assert(s:next_event(60)).data end
    assert.are.same({ "a", "b", "c" }, got)
    local o = opens(fake)
    assert.are.equal(2, #o)
    assert.are.equal("2", o[2].headers["Last-Event-ID"])
    local gap = o[2].at - o[1].at
    assert.is_true(gap > 2.5 * 0.74 and gap <= 2.5, "reconnect waited the server's retry: " .. gap)
    s:close()
  end)

  it("doubles the wait per consecutive failure and starts over after an event", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, function(_, n)
      if n == 4 then return { status = 200, stream = { block(1, "x"), { fail = { kind = "connection", message = "cut" } } } } end
      if n == 6 then return { status = 200, stream = { block(2, "y"), { stall = true } } } end
      return { fail = { kind = "connection", message = "refused", sent = false } }
    end)
    local s = client:events(h.CHAT)
    assert.are.equal("x", assert(s:next_event(300)).data)
    assert.are.equal("y", assert(s:next_event(300)).data)
    local o = opens(fake)
    local function gap(i) return o[i + 1].at - o[i].at end
    for i, base in ipairs({ 1, 2, 4 }) do
      assert.is_true(gap(i) > base * 0.74 and gap(i) <= base, ("gap %d: %.3f"):format(i, gap(i)))
    end
    -- after the event "x" the failure count starts over: 1 s, then 2 s
    assert.is_true(gap(4) > 0.74 and gap(4) <= 1, "reset after an event: " .. gap(4))
    assert.is_true(gap(5) > 1.48 and gap(5) <= 2, "then doubles again: " .. gap(5))
    s:close()
  end)

  it("does not retry a 401, and its error says how many attempts", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 401, json = { message = "bad key" } })
    local s = client:events(h.CHAT)
    local ok, err = s:next_event(60)
    assert.is_false(ok)
    assert.are.equal("authentication", err.kind)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, #opens(fake))
    assert.is_nil(s:next_event(1), "over after the error")
  end)

  it("retries a 503 after its Retry-After and gives up after max_reconnects, counting attempts", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 503, headers = { ["Retry-After"] = "4" } })
    local s = client:events(h.CHAT, { max_reconnects = 2 })
    local ok, err = s:next_event(100)
    assert.is_false(ok)
    assert.are.equal("server", err.kind)
    assert.are.equal(3, err.attempts)
    local o = opens(fake)
    assert.are.equal(3, #o)
    assert.are.equal(4, o[2].at - o[1].at)
    assert.are.equal(4, o[3].at - o[2].at)
  end)

  it("hands comments to on_comment in stream order with the events, across chunks", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, {
      { status = 200, stream = { ": one\n" .. block(1, "a") .. ":two\n:thr", "ee\n", block(2, "b"), { stall = true } } },
    })
    local seen = {}
    local s = client:events(h.CHAT, { on_comment = function(text) seen[#seen + 1] = "c:" .. text end })
    for _ = 1, 2 do
      local ev = assert(s:next_event(60))
      seen[#seen + 1] = "e:" .. ev.raw
    end
    assert.are.same({ "c: one", "e:a", "c:two", "c:three", "e:b" }, seen)
    assert.has_error(function() client:events(h.CHAT, { on_comment = "yes" }) end)
    s:close()
  end)

  it("ends at a 204 without retrying it", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 204 })
    local s = client:events(h.CHAT)
    assert.is_nil(s:next_event(10))
    assert.is_nil(s:next_event(10))
    assert.are.equal(1, #opens(fake))
  end)

  it("falls back to the introduction's path on a 404 and later streams remember it", function()
    local client, fake = h.client()
    local intro = "/v1/chats/" .. h.CHAT .. "/events"
    fake:on("GET", h.EVENTS, { status = 404, json = { message = "Cannot GET" } })
    fake:on("GET", intro, { status = 200, stream = { block(1, "a"), { stall = true } } })
    local s = client:events(h.CHAT)
    assert.are.equal("a", assert(s:next_event(5)).data)
    s:close()
    local s2 = client:events(h.CHAT)
    assert.are.equal("a", assert(s2:next_event(5)).data)
    s2:close()
    assert.are.equal(1, fake:count("messages/events$"), "the spec path was tried once only")
    assert.are.equal(2, fake:count("^GET " .. intro:gsub("%-", "%%-") .. "$"))
  end)

  it("next_event(timeout) waits that many seconds, then says timeout and stays usable", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 200, stream = { { wait = 3, data = block(1, "late") }, { stall = true } } })
    local s = client:events(h.CHAT)
    assert.is_true(s:open(5))
    local t0 = fake:now()
    local ev, why = s:next_event(0.5)
    assert.is_nil(ev)
    assert.are.equal("timeout", why)
    assert.are.equal(0.5, fake:now() - t0)
    assert.are.equal("late", assert(s:next_event(10)).data)
    assert.are.equal(1, #opens(fake), "a timeout is not a reconnect")
    s:close()
  end)

  it("reconnects when the stream stays idle past idle_timeout", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { { status = 200, stream = { { stall = true } } },
      { status = 200, stream = { block(5, "after idle"), { stall = true } } } })
    local s = client:events(h.CHAT, { idle_timeout = 7 })
    local t0 = fake:now()
    assert.are.equal("after idle", assert(s:next_event(60)).data)
    local o = opens(fake)
    assert.are.equal(2, #o)
    assert.is_true(o[2].at - t0 >= 7, "waited idle_timeout first")
    s:close()
  end)

  -- nginx's clock ticks in milliseconds: a read bounded by idle_timeout can
  -- time out a hair before it. That is still idleness, not the caller's
  -- deadline (the relay took it for the end of max_seconds and ended).
  it("reconnects at idle_timeout even when the read times out a millisecond early", function()
    local client, fake = h.client()
    fake.early = 0.001
    fake:on("GET", h.EVENTS, { { status = 200, stream = { block(1, "first"), { stall = true } } },
      { status = 200, stream = { block(2, "after idle"), { stall = true } } } })
    local s = client:events(h.CHAT, { idle_timeout = 0.5 })
    assert.are.equal("first", assert(s:next_event(5)).data)
    local ev, why = s:next_event(5)
    assert.are.equal("after idle", ev and ev.data, "not an early timeout: " .. tostring(why))
    assert.are.equal(2, #opens(fake))
    s:close()
  end)

  it("ends at an oversize event: the events before it, then the error, nothing after", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 200, stream = {
      block(1, "small") .. block(2, ("x"):rep(200)) .. block(3, "after"), { stall = true } } })
    local s = client:events(h.CHAT, { max_event_bytes = 64 })
    assert.are.equal("small", assert(s:next_event(5)).data)
    local ok, err = s:next_event(5)
    assert.is_false(ok)
    assert.are.equal("protocol", err.kind)
    assert.is_nil(s:next_event(5))
    assert.are.equal(0, fake.open_now)
  end)

  it("survives a garbled stream: junk lines and a bad retry are ignored, a non-JSON data stays a string", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { { status = 200, stream = {
      "retry: soon\n\n",                       -- not digits: ignored, 1 s stays
      "garbage without a colon\n: a comment\nweird: field\n\n",
      block(1, "{not json"),
      "\255\254junk\r\n\r\n",
      block(2, "{\"ok\":true}"),
      { fail = { kind = "connection", message = "cut" } } } },
      { status = 200, stream = { block(3, "after"), { stall = true } } } })
    local s = client:events(h.CHAT)
    local a = assert(s:next_event(10))
    assert.are.equal("{not json", a.data)
    local b = assert(s:next_event(10))
    assert.are.same({ ok = true }, b.data)
    local t0 = fake:now()
    assert.are.equal("after", assert(s:next_event(10)).data)
    local gap = fake:now() - t0
    assert.is_true(gap > 0.74 and gap <= 1, "the default 1 s, not a garbled retry: " .. gap)
    assert.are.equal("2", opens(fake)[2].headers["Last-Event-ID"])
    s:close()
  end)

  it("raises on a wrong timeout and closes idempotently", function()
    local client = h.client()
    local s = client:events(h.CHAT)
    assert.has_error(function() s:next_event(-1) end)
    assert.has_error(function() s:next_event("1") end)
    s:close(); s:close()
    assert.is_nil(s:next_event(1))
  end)
end)
