-- examples/openresty/metrics.lua in a real nginx with two workers beside
-- the emulator: scripted traffic through the API calls, the relay and ask,
-- then /metrics is scraped and its numbers checked against the traffic
-- (requests by status, active relays up and down, histogram buckets
-- against the very records that fed them).
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local browser_sse = require "spec.support.browser_sse"
local socket = require "socket"
local cjson = require "cjson"

-- Every location gets the same client; its hook feeds the metrics and
-- notes what the checks compare with (the worker, the raw timings).
local PRELUDE = [[
  local homie = require "homie"
  local metrics = require "examples.openresty.metrics"
  local T = require "spec.support.ngx_t"
  local seen = ngx.shared.seen
  local function hook(r)
    metrics.observe(r)
    seen:set("worker:" .. ngx.worker.id(), true)
    if r.type == "relay" and r.phase == "end" and r.first_event then seen:rpush("relay_first", r.first_event) end
    if r.type == "ask" and r.first_chunk then seen:rpush("ask_first", r.first_chunk) end
  end
  local client = homie.new{ api_key = T.KEY, base_url = T.mock_url(), observe = hook }
  local args = ngx.req.get_uri_args()
  local TEXT, PAGE = "Does the blue hoodie come in size L?", "https://store.example/products/blue-hoodie"
]]

local LOCATIONS = {
  ["/chat"] = PRELUDE .. [[ ngx.print(assert(client:create_chat{ chatbotId = T.BOT }).id) ]],
  ["/send"] = PRELUDE .. [[
    local reply, err = client:send_message(args.chat, TEXT, { currentUrl = PAGE })
    ngx.print(reply and "ok" or tostring(err.status or err.kind))
  ]],
  ["/ask"] = PRELUDE .. [[
    local reply, err = client:chat(args.chat):ask(TEXT, { currentUrl = PAGE })
    ngx.print(reply and "ok" or tostring(err.status or err.kind))
  ]],
  ["/relay"] = PRELUDE .. [[
    require("homie.ngx").relay_events(client, args.chat, { public = true, max_seconds = tonumber(args.max_seconds) })
  ]],
  ["/metrics"] = [[ require("examples.openresty.metrics").serve() ]],
  ["/seen"] = [[
    local d, out = ngx.shared.seen, {}
    while true do
      local v = d:lpop(ngx.var.arg_key)
      if not v then break end
      out[#out + 1] = v
    end
    ngx.print(require("cjson").encode({ values = out, worker0 = d:get("worker:0") or false,
      worker1 = d:get("worker:1") or false }))
  ]],
}

-- The exposition as { [series] = value }, checking its shape on the way:
-- every sample follows its family's HELP and TYPE lines.
local function parse(text)
  local values, typed, family = {}, {}, nil
  for line in text:gmatch("([^\n]*)\n") do
    local name, kind = line:match("^# TYPE (%S+) (%S+)$")
    if name then
      typed[name], family = kind, name
    elseif not line:match("^# HELP %S+ .+$") then
      local series, value = line:match("^(%S+) (%S+)$")
      assert(series, "not a sample line: " .. line)
      local base = series:match("^[^{]+")
      assert(base == family or base:sub(1, #family + 1) == family .. "_",
        series .. " outside its family (" .. tostring(family) .. ")")
      values[series] = assert(tonumber(value), line)
    end
  end
  return values, typed
end

-- Checks a histogram's buckets against the observed values: each bucket
-- counts the values at or under its bound, +Inf and _count all of them.
local function check_histogram(values, name, observed)
  local bounds = {}
  for series, count in pairs(values) do
    local le = series:match("^" .. name .. '_bucket{le="([^"]+)"}$')
    if le then bounds[#bounds + 1] = { le = le, count = count } end
  end
  assert.truthy(#bounds >= 2, name .. " has no buckets")
  local sum = 0
  for _, v in ipairs(observed) do sum = sum + v end
  for _, b in ipairs(bounds) do
    local want = 0
    for _, v in ipairs(observed) do
      if b.le == "+Inf" or v <= tonumber(b.le) then want = want + 1 end
    end
    assert.equal(want, b.count, name .. ' le="' .. b.le .. '"')
  end
  assert.equal(#observed, values[name .. "_count"])
  assert.near(sum, values[name .. "_sum"], 1e-6)
end

describe("examples/openresty/metrics.lua in nginx with two workers", function()
  local server, app

  setup(function()
    server = mock.start{ chunk_delay_ms = 5 }
    nginx.build()
    app = nginx.start{ locations = LOCATIONS, workers = 2, env = { MOCK_URL = server.url },
      http = "lua_shared_dict homie_metrics 1m;\nlua_shared_dict seen 1m;\nlua_check_client_abort on;" }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
  end)

  local function get(path)
    local status, _, body = app:request("GET", path)
    assert.equal(200, status, path .. ": " .. tostring(body) .. "\n" .. app:error_log():sub(-2000))
    return body
  end

  local function scrape()
    local status, h, body = app:request("GET", "/metrics")
    assert.equal(200, status)
    assert.equal("text/plain; version=0.0.4", h["content-type"])
    return parse(body)
  end

  -- Waits (bounded) until the gauge reads `want`.
  local function active_becomes(want)
    local deadline, v = socket.gettime() + 10, nil
    while socket.gettime() < deadline do
      v = scrape().homie_active_relays
      if v == want then return end
      socket.sleep(0.05)
    end
    error(("homie_active_relays stayed %s, want %d"):format(tostring(v), want))
  end

  -- Reads relay blocks until the answer; returns the events and the bytes read.
  local function read_answer(next_block)
    local events, bytes = 0, 0
    for _ = 1, 200 do
      local b = assert(next_block(10))
      bytes = bytes + #table.concat(b, "\n") + 2
      if b[1]:sub(1, 1) ~= ":" then
        events = events + 1
        if b[#b]:find('"type":"answer"', 1, true) then return events, bytes end
      end
    end
    error("no answer on the relay")
  end

  it("counts requests by status, relays open now, relayed events and bytes, and the latencies", function()
    local before, typed = scrape()
    assert.equal(0, before.homie_active_relays)
    assert.equal("histogram", typed.homie_relay_first_event_seconds)
    assert.equal("gauge", typed.homie_active_relays)
    assert.equal("counter", typed.homie_requests_total)

    local chat1, chat2 = get("/chat"), get("/chat")
    -- Sends until both workers have served some: the counts must add up
    -- across them.
    local sends, workers = 0
    repeat
      assert.equal("ok", get("/send?chat=" .. chat1))
      sends = sends + 1
      workers = cjson.decode(get("/seen?key=none"))
    until (workers.worker0 and workers.worker1) or sends == 40
    assert.truthy(workers.worker0 and workers.worker1, "one worker served all " .. sends .. " sends")
    server:fault({ method = "POST", path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "0" } } })
    assert.equal("ok", get("/send?chat=" .. chat1))                    -- 503, then 201
    server:fault({ method = "POST", path = "/messages$", fault = { status = 400 } })
    assert.equal("400", get("/send?chat=" .. chat1))

    -- Two relays open: the gauge says 2, whichever worker holds them.
    local a = browser_sse.get(app.port, "/relay?chat=" .. chat1)
    local b = browser_sse.get(app.port, "/relay?chat=" .. chat2)
    local next_a, next_b = browser_sse.reader(a), browser_sse.reader(b)
    assert.same({ ": homie relay" }, next_a())
    assert.same({ ": homie relay" }, next_b())
    active_becomes(2)
    socket.sleep(0.3)  -- relay a's first event comes at least this late
    assert.equal("ok", get("/send?chat=" .. chat1))
    local events_a, bytes_a = read_answer(next_a)
    a:close()
    active_becomes(1)
    b:close()
    active_becomes(0)
    -- A replaying relay: its first event comes at once; it ends at max_seconds.
    local status, _, body_d = browser_sse.body(app.port, "/relay?max_seconds=0.5&chat=" .. chat1,
      { ["Last-Event-ID"] = "0" })
    assert.equal(200, status)
    local events_d = 0
    for block in body_d:gmatch("(.-)\n\n") do
      if block:sub(1, 1) ~= ":" then events_d = events_d + 1 end
    end
    assert.truthy(events_d > events_a, "the replay holds every event of the chat")
    assert.equal("ok", get("/ask?chat=" .. chat2))

    local m = scrape()
    local MESSAGES = 'route="/v1/chats/{id}/messages"'
    assert.equal(2, m['homie_requests_total{route="/v1/chats",status="201"}'])
    assert.equal(sends + 3, m["homie_requests_total{" .. MESSAGES .. ',status="201"}'])
    assert.equal(1, m["homie_requests_total{" .. MESSAGES .. ',status="503"}'])
    assert.equal(1, m["homie_requests_total{" .. MESSAGES .. ',status="400"}'])
    assert.equal(sends + 5, m["homie_request_duration_seconds_count{" .. MESSAGES .. "}"])
    assert.equal(sends + 5, m["homie_request_duration_seconds_bucket{" .. MESSAGES .. ',le="+Inf"}'])
    assert.equal(0, m.homie_active_relays)
    assert.equal(2, m['homie_relays_total{reason="browser_gone"}'])
    assert.equal(1, m['homie_relays_total{reason="max_seconds"}'])
    assert.equal(events_a + events_d, m.homie_relay_events_total)
    local comment = #": homie relay\n\n"  -- the first block of a and of b
    assert.equal(comment + bytes_a + comment + #body_d, m.homie_relay_bytes_total)
    assert.equal(1, m['homie_asks_total{outcome="ok"}'])

    local relay_first = cjson.decode(get("/seen?key=relay_first")).values
    assert.equal(2, #relay_first)  -- a and the replay; b never had an event
    check_histogram(m, "homie_relay_first_event_seconds", relay_first)
    assert.truthy(m['homie_relay_first_event_seconds_bucket{le="0.25"}'] <= 1, "relay a waited 0.3 s")
    local ask_first = cjson.decode(get("/seen?key=ask_first")).values
    assert.equal(1, #ask_first)
    check_histogram(m, "homie_ask_first_chunk_seconds", ask_first)
  end)
end)
