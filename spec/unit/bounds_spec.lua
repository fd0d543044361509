-- Every wait is bounded by the caller's clock: on the fake transport's
-- virtual clock each bound is asserted exactly, for the cases that once
-- ran far past it (issue: ask{timeout = 2} took 60 s against a stalled
-- stream; next_event(0.5) and open(0.5) waited the client's timeout; a
-- reconciling send with deadline = 1 took 5.2 s).
local h = require "spec.unit.helpers"

local STALL = { status = 200, json = {}, delay = 1e6 }          -- answers after a million seconds
local STALLED_STREAM = { status = 200, delay = 1e6, stream = { "" } }
local BROKEN_SEND = { fail = { kind = "connection", message = "reset", sent = true, retryable = true } }

local function took(fake, fn)
  local t0 = fake:now()
  local a, b = fn()
  return fake:now() - t0, a, b
end

describe("bounds", function()
  it("open(t) and next_event(t) wait t, not the client's timeout, for a stalled connect", function()
    local client, fake = h.client{ timeout = 4 }
    fake:on("GET", h.EVENTS, STALLED_STREAM)
    local stream = client:events(h.CHAT)
    local secs, ok, why = took(fake, function() return stream:open(0.5) end)
    assert.are.equal(0.5, secs)
    assert.is_nil(ok)
    assert.are.equal("timeout", why)
    secs, ok, why = took(fake, function() return stream:next_event(0.5) end)
    assert.are.equal(0.5, secs)
    assert.is_nil(ok)
    assert.are.equal("timeout", why)
    assert.are.equal(1, fake:count("^GET"), "the attempt in flight is resumed, not repeated")
    stream:close()
  end)

  it("the attempt in flight goes on across short reads until its head comes", function()
    local client, fake = h.client{ timeout = 4 }
    fake:on("GET", h.EVENTS, { status = 200, delay = 1.2, stream = { "id: 1\ndata: a\n\n", { stall = true } } })
    local stream = client:events(h.CHAT)
    local t0 = fake:now()
    assert.are.equal("timeout", select(2, stream:open(0.5)))
    assert.are.equal("timeout", select(2, stream:next_event(0.5)))
    local ev = assert(stream:next_event(1))
    assert.are.equal("a", ev.raw)
    assert.is_true(math.abs(fake:now() - t0 - 1.2) < 1e-9, "the head came at 1.2 s on the first attempt")
    assert.are.equal(1, fake:count("^GET"))
    stream:close()
  end)

  it("a stream attempt still ends at its connect_timeout when the caller waits longer", function()
    local client, fake = h.client{ timeout = 60 }
    fake:on("GET", h.EVENTS, STALLED_STREAM)
    local stream = client:events(h.CHAT, { connect_timeout = 2, max_reconnects = 0 })
    local secs, ok, err = took(fake, function() return stream:open(30) end)
    assert.are.equal(2, secs)
    assert.is_false(ok)
    assert.are.equal("timeout", err.kind)
  end)

  it("ask{timeout = 2} with a stream that never answers returns by the send's own bounds", function()
    local client, fake = h.client{ timeout = 60 }
    fake:on("GET", h.EVENTS, STALLED_STREAM)
    fake:on("POST", h.MESSAGES, { status = 201, json = h.reply("r1", "yes"), delay = 0.3 })
    local chat = client:chat(h.CHAT)
    local secs, reply = took(fake, function() return chat:ask("L?", { currentUrl = h.PAGE, timeout = 2 }) end)
    assert.are.equal("r1", reply.id)
    assert.is_true(math.abs(secs - 2.3) < 1e-9, secs)  -- the stream's open (2 s), then the send (0.3 s)
  end)

  it("ask's deadline bounds the whole ask: open, send and final wait", function()
    local client, fake = h.client{ timeout = 60 }
    -- The head at 0.05 s puts the watch's 0.1 s slices off the deadline's grid.
    fake:on("GET", h.EVENTS, { status = 200, delay = 0.05, stream = { { stall = true } } })
    fake:on("POST", h.MESSAGES, { status = 201, json = h.reply("r1", "yes"), delay = 0.5 })
    local chat = client:chat(h.CHAT)
    local secs, reply = took(fake, function()
      return chat:ask("L?", { currentUrl = h.PAGE, deadline = 2, final_wait = 30 })
    end)
    assert.are.equal("r1", reply.id)
    assert.is_true(secs <= 2 + 1e-9, "ask outlived its deadline: " .. secs)
    assert.is_true(secs >= 2 - 0.1 - 1e-9, "the final wait ran to the deadline: " .. secs)
  end)

  it("a reconciling send with timeout = 1, deadline = 1 returns within 1 s", function()
    local client, fake = h.client{ reconcile = true }
    fake:on("POST", h.MESSAGES, STALL)
    fake:on("GET", h.MESSAGES .. "?page=1&size=50", STALL)
    local secs, reply, err = took(fake, function()
      return client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, timeout = 1, deadline = 1 })
    end)
    assert.is_nil(reply)
    assert.are.equal("timeout", err.kind)
    assert.are.equal(1, secs)
  end)

  it("reconcile's reads share the send's deadline", function()
    local client, fake = h.client{ reconcile = true }
    fake:on("POST", h.MESSAGES, BROKEN_SEND)
    fake:on("GET", h.MESSAGES .. "?page=1&size=50", STALL)
    local secs = took(fake, function()
      return client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, timeout = 10, deadline = 3 })
    end)
    assert.are.equal(3, secs)
    assert.are.equal(1, fake:count("^GET"))
  end)

  it("reconcile polls at most the policy's reconcile_wait, per call too", function()
    local client, fake = h.client{ reconcile = true, retry = { reconcile_wait = 2, poll = 0.5 } }
    fake:on("POST", h.MESSAGES, BROKEN_SEND)
    fake:on("GET", h.MESSAGES .. "?page=1&size=50", { status = 200,
      json = { items = { h.question("q", "L?") }, totalPages = 1, hasNextPage = false } })
    local secs = took(fake, function() return client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE }) end)
    assert.are.equal(1.5, secs)  -- reads at 0, 0.5, 1.5; the next (3.5) is past 2 s
    secs = took(fake, function()
      return client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, retry = { reconcile_wait = 0.2 } })
    end)
    assert.are.equal(0, secs)
  end)

  it("reconcile stops polling when the next poll would end past the deadline", function()
    local client, fake = h.client{ reconcile = true }
    fake:on("POST", h.MESSAGES, BROKEN_SEND)
    fake:on("GET", h.MESSAGES .. "?page=1&size=50", { status = 200,
      json = { items = { h.question("q", "L?") }, totalPages = 1, hasNextPage = false } })
    local secs = took(fake, function()
      return client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE, deadline = 1.2 })
    end)
    assert.are.equal(0.5, secs)  -- reads at 0 and 0.5; the next, at 1.5, would pass 1.2
    assert.are.equal(2, fake:count("^GET"))
  end)

  it("a call's backoff never sleeps past its deadline", function()
    local client, fake = h.client{ max_retries = 10 }
    fake:on("GET", h.MESSAGES, { status = 503, headers = { ["retry-after"] = "5" }, json = {} })
    local secs, _, err = took(fake, function() return client:list_messages(h.CHAT, { deadline = 12 }) end)
    assert.are.equal("server", err.kind)
    assert.are.equal(3, err.attempts)  -- at 0, 5, 10; the next (15) is past 12
    assert.are.equal(10, secs)
  end)
end)

describe("one policy per client", function()
  it("two clients with different retry policies wait differently, side by side", function()
    local slow, fs = h.client{ max_retries = 1, retry = { base = 4, cap = 4 } }
    local quick, fq = h.client{ max_retries = 1, retry = { base = 0.01, cap = 0.01 } }
    fs:on("GET", h.MESSAGES, { status = 500, json = {} })
    fq:on("GET", h.MESSAGES, { status = 500, json = {} })
    local a = took(fs, function() return slow:list_messages(h.CHAT) end)
    local b = took(fq, function() return quick:list_messages(h.CHAT) end)
    assert.is_true(a >= 3 and a <= 4, "slow waited " .. a)
    assert.is_true(b <= 0.01, "quick waited " .. b)
    local c = took(fq, function() return quick:list_messages(h.CHAT, { retry = { base = 2, cap = 2 } }) end)
    assert.is_true(c >= 1.5 and c <= 2, "a per-call policy: " .. c)
    local d = took(fq, function() return quick:list_messages(h.CHAT) end)
    assert.is_true(d <= 0.01, "the per-call policy changed nothing after it: " .. d)
  end)
end)

describe("answers without JSON", function()
  it("a 204 where a JSON object is expected is a protocol error naming it", function()
    local client, fake = h.client()
    fake:on("GET", h.MESSAGES, { status = 204 })
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal("protocol", err.kind)
    assert.are.equal(204, err.status)
    assert.matches("empty answer %(HTTP 204%)", err.message)
  end)

  it("a call that expects nothing takes a 204 as success", function()
    local fake = require("spec.support.fake_transport").new()
    local session = require("homie.session").new{ api_key = "k", base_url = "http://fake.test", transport = fake }
    fake:on("DELETE", "/v1/thing", { status = 204 })
    local ok, resp = session:call("DELETE", "/v1/thing", { idempotent = true, expect = "nothing" })
    assert.is_true(ok)
    assert.are.equal(204, resp.status)
  end)
end)
