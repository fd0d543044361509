-- Observation over real sockets: the same scenario (spec/support/
-- observe_scenario.lua) on the curl transport and inside nginx on the ngx
-- transport, against the emulator; an nginx location echoes request headers
-- so the trace headers are seen on the wire.
local homie = require "homie"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local scenario = require "spec.support.observe_scenario"

local TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
local ECHO = "/v1/chats/" .. scenario.ECHO_CHAT .. "/messages"

local LOCATIONS = {
  [ECHO] = [[
    ngx.header["Content-Type"] = "application/json"
    ngx.say(require("cjson").encode({ items = {}, seen = ngx.req.get_headers() }))
  ]],
  [ECHO .. "/events"] = [[
    ngx.header["Content-Type"] = "text/event-stream"
    ngx.print("data: ", require("cjson").encode(ngx.req.get_headers()), "\n\n")
  ]],
  ["/observe"] = [[
    local T = require "spec.support.ngx_t"
    local em = T.emulator(T.mock_url())
    local out = require("spec.support.observe_scenario").run(require "homie", {
      mock_url = T.mock_url(), echo_url = "http://127.0.0.1:" .. ngx.var.server_port,
      fault = function(f) return em.fault(nil, f) end })
    T.reply(out)
  ]],
}

local function where(records, field, value)
  local out = {}
  for _, r in ipairs(records) do if r[field] == value then out[#out + 1] = r end end
  return out
end

local function check(out)
  -- The send retried once: two attempt records.
  local send = out.send
  assert.equal(2, #send)
  assert.same({ "attempt", "attempt" }, { send[1].type, send[2].type })
  assert.same({ 503, 201 }, { send[1].status, send[2].status })
  assert.equal("server", send[1].kind)
  assert.same({ 1, 2 }, { send[1].attempt, send[2].attempt })
  assert.equal(0, send[1].retry_in)
  assert.is_nil(send[2].retry_in)
  for _, r in ipairs(send) do
    assert.equal("POST", r.method)
    assert.equal("/v1/chats/{id}/messages", r.route)
    assert.equal(TRACE, r.trace_id)
    assert.is_true(r.bytes_out > 0 and r.bytes_in > 0)
    assert.is_true(r.duration >= 0)
    assert.equal("string", type(r.request_id))
  end
  -- The stream: open, a dropped connection, open again, the end.
  local phases = {}
  for i, r in ipairs(out.stream) do phases[i] = r.phase end
  assert.same({ "open", "reconnect", "open", "end" }, phases)
  assert.equal("dropped", out.stream[2].reason)
  assert.equal(3, out.stream[2].events)
  assert.equal(1, out.stream[4].reconnects)
  assert.equal("closed", out.stream[4].reason)
  assert.is_true(out.stream[4].events >= 6)
  assert.equal("/v1/chats/{id}/messages/events", out.stream[1].route)
  -- The ask: its send, its stream, and one ask record.
  local ask = where(out.ask, "type", "ask")
  assert.equal(1, #ask)
  assert.equal("ok", ask[1].outcome)
  assert.is_false(ask[1].recovered)
  assert.equal(TRACE, ask[1].trace_id)
  assert.is_true(ask[1].first_chunk > 0 and ask[1].first_chunk <= ask[1].final)
  assert.equal(1, #where(out.ask, "type", "attempt"))
  assert.equal("final", where(out.ask, "phase", "end")[1].reason)
  -- client:with
  assert.equal(1, out.with.derived_attempts)
  assert.equal(1, out.with.derived_records)
  assert.equal(1, out.with.client_records)
  assert.equal(2, #out.with.conns)
  assert.equal(out.with.conns[1], out.with.conns[2], "one pooled connection for both clients")
  -- The trace headers on the wire.
  assert.equal(scenario.TP, out.wire.read.traceparent)
  assert.equal("shop=1", out.wire.read.tracestate)
  assert.same({ scenario.TP, scenario.TP }, out.wire.stream)
end

describe("observe over real sockets", function()
  local server, app

  setup(function()
    server = mock.start{ chunk_delay_ms = 5 }
    nginx.build()
    app = nginx.start{ locations = LOCATIONS, env = { MOCK_URL = server.url } }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
  end)
  before_each(function() server:reset() end)

  it("records a retried send, a reconnected stream, an ask and a derived client (curl)", function()
    local out = scenario.run(homie, { mock_url = server.url, echo_url = app.url,
      fault = function(f) return server:fault(f) end })
    assert.equal("curl", homie.new{ api_key = "k" }.transport.name)
    check(cjson.decode(cjson.encode(out)))  -- as the nginx run hands it over
  end)

  it("records the same inside nginx (ngx transport)", function()
    check(app:json("/observe"))
  end)
end)
