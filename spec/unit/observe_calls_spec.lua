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
