-- The observe hook's records (doc/observe.md) on the fake transport: exact
-- fields on a virtual clock, no socket.
local h = require "spec.unit.helpers"

local TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
local TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

local function recorder()
  local got = {}
  return got, function(r) got[#got + 1] = r end
end

local function of_type(records, want)
  local out = {}
  for _, r in ipairs(records) do if r.type == want then out[#out + 1] = r end end
  return out
end

describe("observe: attempt records", function()
  it("records both attempts of a send that retried once, with exact fields", function()
    local got, hook = recorder()
    local client, fake = h.client{ observe = hook }
    local reply = h.reply("r1", "Yes")
    fake:on("POST", h.MESSAGES, {
      { status = 503, headers = { ["Retry-After"] = "2", ["x-request-id"] = "req-1" },
        json = { statusCode = 503, message = "busy" }, delay = 0.25 },
      { status = 201, headers = { ["x-request-id"] = "req-2" }, json = reply, delay = 0.5 } })
    assert(client:send_message(h.CHAT, "Size L?", { currentUrl = h.PAGE }))
    assert.equal(2, #got)
    local a, b = got[1], got[2]
    local body = fake.log[1].body
    assert.same({ type = "attempt", method = "POST", route = "/v1/chats/{id}/messages",
      status = 503, kind = "server", attempt = 1, retry_in = 2, duration = 0.25,
      request_id = "req-1", bytes_in = #'{"statusCode":503,"message":"busy"}', bytes_out = #body }, a)
    assert.equal(201, b.status)
    assert.is_nil(b.kind)
    assert.equal(2, b.attempt)
    assert.is_nil(b.retry_in)
    assert.equal(0.5, b.duration)
    assert.equal("req-2", b.request_id)
    assert.equal(#require("cjson").encode(reply), b.bytes_in)
    assert.is_nil(b.trace_id)
    for _, r in ipairs(got) do
      for _, v in pairs(r) do assert.is_falsy(tostring(v):find("unit-key", 1, true)) end
      for _, v in pairs(r) do assert.is_falsy(tostring(v):find("Size L?", 1, true)) end
    end
  end)

  it("records a failure it gives up on with no retry_in, and a transport failure's kind", function()
    local got, hook = recorder()
    local client, fake = h.client{ observe = hook, max_retries = 0 }
    fake:on("GET", h.MESSAGES, { fail = { kind = "connection", message = "refused", sent = false } })
    assert.is_nil(client:list_messages(h.CHAT))
    assert.equal(1, #got)
    assert.is_nil(got[1].status)
    assert.equal("connection", got[1].kind)
    assert.is_nil(got[1].retry_in)
    assert.equal(0, got[1].bytes_in)
    assert.equal(0, got[1].bytes_out)
    assert.equal("GET", got[1].method)
  end)

  it("a call's own hook replaces the client's, and a traceparent goes out on every attempt", function()
    local client_got, client_hook = recorder()
    local got, hook = recorder()
    local client, fake = h.client{ observe = client_hook }
    fake:on("GET", h.MESSAGES, { { status = 503, headers = { ["Retry-After"] = "0" } },
      { status = 200, json = { items = {} } } })
    assert(client:list_messages(h.CHAT, { observe = hook, traceparent = TP, tracestate = "k=v" }))
    assert.equal(0, #client_got)
    assert.equal(2, #got)
    for i = 1, 2 do
      assert.equal(TRACE, got[i].trace_id)
      assert.equal(TP, fake.log[i].headers["traceparent"])
      assert.equal("k=v", fake.log[i].headers["tracestate"])
    end
    assert(client:list_messages(h.CHAT))
    assert.equal(1, #client_got)
    assert.is_nil(fake.log[3].headers["traceparent"])
  end)

  it("a raising hook never breaks the call; it is logged", function()
    local lines = {}
    local client, fake = h.client{ observe = function() error("hook down") end,
      logger = function(l) lines[#lines + 1] = l end }
    fake:on("GET", h.MESSAGES, { status = 200, json = { items = {} } })
    assert(client:list_messages(h.CHAT))
    assert.matches("observe hook failed: .*hook down", table.concat(lines, "\n"))
  end)

  it("refuses a malformed traceparent, a non-function observe, naming them", function()
    local client = h.client()
    assert.has_error(function() client:list_messages(h.CHAT, { traceparent = "00-abc-def-01" }) end,
      'homie: traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got "00-abc-def-01"')
    assert.error_matches(function() client:list_messages(h.CHAT, { observe = true }) end,
      "observe must be a function")
    assert.error_matches(function() h.client{ observe = "x" } end, "observe must be a function")
  end)

  it("on_response sees each attempt's duration", function()
    local client, fake = h.client()
    fake:on("GET", h.MESSAGES, { { status = 503, headers = { ["Retry-After"] = "1" }, delay = 0.5 },
      { status = 200, json = { items = {} }, delay = 0.25 } })
    local info
    assert(client:list_messages(h.CHAT, { on_response = function(i) info = i end }))
    assert.same({ 0.5, 0.25 }, info.durations)
    assert.equal(1.75, info.seconds)
  end)
end)

describe("observe: stream records", function()
  it("records open, each reconnect with its reason, the reopen and the end", function()
    local got, hook = recorder()
    local client, fake = h.client{ observe = hook }
    fake:on("GET", h.EVENTS, {
      { status = 200, stream = { "id: 1\ndata: a\n\n", "id: 2\ndata: b\n\n",
        { wait = 0.5, fail = { kind = "connection", message = "reset" } } } },
      { status = 503, headers = { ["Retry-After"] = "1" } },
      { status = 200, headers = { ["x-request-id"] = "req-s" }, stream = { "id: 3\ndata: c\n\n" } } })
    local stream = client:events(h.CHAT, { reconnect_delay = 0.25, traceparent = TP })
    for _ = 1, 3 do assert(stream:next_event(10)) end
    stream:close()
    stream:close()  -- recorded once
    local phases, reasons = {}, {}
    for i, r in ipairs(got) do
      assert.equal("stream", r.type)
      assert.equal(h.CHAT, r.chat_id)
      assert.equal("/v1/chats/{id}/messages/events", r.route)
      assert.equal(TRACE, r.trace_id)
      phases[i], reasons[i] = r.phase, r.reason or "-"
    end
    assert.same({ "open", "reconnect", "reconnect", "open", "end" }, phases)
    assert.same({ "-", "dropped", "server", "-", "closed" }, reasons)
    assert.same({ 0, 2, 2, 2, 3 }, { got[1].events, got[2].events, got[3].events, got[4].events, got[5].events })
    assert.same({ 0, 1, 2, 2, 2 }, { got[1].reconnects, got[2].reconnects, got[3].reconnects,
      got[4].reconnects, got[5].reconnects })
    assert.equal(0, got[1].duration)
    assert.equal(0.5, got[2].duration)
    assert.is_true(got[2].retry_in > 0 and got[2].retry_in <= 0.25)  -- reconnect_delay, jittered
    assert.equal(503, got[3].status)
    assert.equal(1, got[3].retry_in)
    assert.equal("req-s", got[4].request_id)
    assert.near(0.5 + got[2].retry_in + 1, got[5].duration, 1e-9)
    for i = 1, 3 do assert.equal(TP, fake.log[i].headers["traceparent"]) end
  end)

  it("ends with \"ended\" on a 204, \"error:<kind>\" on a fatal answer, \"idle\" reconnects", function()
    local got, hook = recorder()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { { status = 200, stream = { "data: a\n\n", { stall = true } } },
      { status = 204 } })
    local stream = client:events(h.CHAT, { observe = hook, idle_timeout = 2, reconnect_delay = 0 })
    assert(stream:next_event(10))
    assert.is_nil(stream:next_event(10))
    assert.equal("idle", got[2].reason)
    assert.equal("end", got[3].phase)
    assert.equal("ended", got[3].reason)
    assert.equal(2, got[3].duration)
    for k in pairs(got) do got[k] = nil end
    fake:on("GET", h.EVENTS, { status = 401, json = { statusCode = 401, message = "no" } })
    local s2 = client:events(h.CHAT, { observe = hook })
    assert.is_false(s2:next_event(10))
    assert.equal(1, #got)
    assert.equal("error:authentication", got[1].reason)
  end)

  it("an unread stream records nothing, and no hook means no record work", function()
    local got, hook = recorder()
    local client = h.client{ observe = hook }
    client:events(h.CHAT):close()
    assert.equal(0, #got)
  end)
end)

describe("observe: ask records", function()
  local function asking(post, delay, opts)
    local client, fake = h.client(opts)
    local reply = h.reply("11111111-2222-4333-8444-555555555555", "Yes, in L.", h.iso())
    fake:on("GET", h.EVENTS, { status = 200, stream = h.reply_events(1, reply, 0.05) })
    local answer = { delay = delay }
    for k, v in pairs(post) do answer[k] = v end
    fake:on("POST", h.MESSAGES, answer)
    return client:chat(h.CHAT), fake, reply
  end

  it("records the time to the first chunk and to the final answer", function()
    local got, hook = recorder()
    local chat, _, reply = asking({ status = 201, json = h.reply("11111111-2222-4333-8444-555555555555",
      "Yes, in L.") }, 0.1)
    assert(chat:ask("L?", { currentUrl = h.PAGE, observe = hook, traceparent = TP }))
    local asks = of_type(got, "ask")
    assert.equal(1, #asks)
    local a = asks[1]
    assert.near(0.15, a.first_chunk, 1e-9)  -- the first chunk is the third event, 0.05 s apart
    assert.near(0.3, a.final, 1e-9)         -- the final message event, the sixth
    assert.is_false(a.recovered)
    assert.equal("ok", a.outcome)
    assert.equal(TRACE, a.trace_id)
    local streams = of_type(got, "stream")
    assert.equal("final", streams[#streams].reason)
    assert.equal(1, #of_type(got, "attempt"))
    assert.is_truthy(reply)
  end)

  it("hands ask's send answer to on_response", function()
    local chat = asking({ status = 201, headers = { ["x-ratelimit-remaining"] = "9" },
      json = h.reply("11111111-2222-4333-8444-555555555555", "Yes, in L.") }, 0.1)
    local info
    assert(chat:ask("L?", { currentUrl = h.PAGE, on_response = function(i) info = i end }))
    assert.equal(201, info.status)
    assert.equal("9", info.headers["x-ratelimit-remaining"])
  end)

  it("records a recovered answer, and a failure's kind as its outcome", function()
    local got, hook = recorder()
    local chat = asking({ fail = { kind = "connection", message = "cut", sent = true, retryable = true } }, 0.35,
      { observe = hook })
    local reply = assert(chat:ask("L?", { currentUrl = h.PAGE }))
    assert.is_true(reply.recovered)
    local a = of_type(got, "ask")[1]
    assert.is_true(a.recovered)
    assert.equal("ok", a.outcome)
    for k in pairs(got) do got[k] = nil end
    local chat2 = asking({ status = 404, json = { statusCode = 404, message = "Chat not found" } }, 0.1,
      { observe = hook })
    assert.is_nil(chat2:ask("L?", { currentUrl = h.PAGE }))
    a = of_type(got, "ask")[1]
    assert.equal("not_found", a.outcome)
    assert.is_nil(a.final)
  end)
end)

describe("client:with", function()
  it("derives a client with changed options, the original untouched, one transport", function()
    local got, hook = recorder()
    local client, fake = h.client{ headers = { ["x-shop"] = "a" } }
    local derived = client:with{ max_retries = 0, timeout = 7, observe = hook,
      headers = { ["x-shop"] = "b", ["x-api-key"] = "stolen" } }
    assert.equal(7, derived.timeout)
    assert.equal(60, client.timeout)
    assert.equal(client.transport, derived.transport)
    fake:on("GET", h.MESSAGES, { status = 503, headers = { ["Retry-After"] = "0" } })
    assert.is_nil(derived:list_messages(h.CHAT))
    assert.equal(1, fake:count("^GET"))
    assert.equal(1, #got)
    assert.equal("b", fake.log[1].headers["x-shop"])
    assert.equal("unit-key", fake.log[1].headers["x-api-key"])
    local _, err = client:list_messages(h.CHAT)
    assert.equal(3, err.attempts)  -- the client's own max_retries (2)
    assert.equal(1, #got)          -- and no hook
    assert.equal("a", fake.log[2].headers["x-shop"])
    assert.is_nil(tostring(derived):find("unit-key", 1, true))
  end)

  it("raises at the caller's line on an unknown or wrong-typed option", function()
    local client = h.client()
    local ok, err = pcall(function() client:with{ timout = 3 } end)
    assert.is_false(ok)
    assert.matches("observe_calls_spec.lua:%d+: homie: .*timout.*timeout", err)
    assert.error_matches(function() client:with{ max_retries = "3" } end, "max_retries must be a number")
    assert.error_matches(function() client:with{ observe = 1 } end, "observe must be a function")
    assert.error_matches(function() client:with{ api_key = "x" } end, "api_key")
    assert.error_matches(function() client:with(5) end, "with options must be a table")
  end)
end)
