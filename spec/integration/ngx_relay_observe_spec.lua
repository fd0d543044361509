-- Observation inside nginx: relay_events' "relay" records (start, end with
-- its reason, events and bytes to the browser, time to the first event)
-- and the incoming request's W3C trace headers forwarded on the client's
-- upstream calls and the relay's upstream stream. The upstream is a
-- location of the same nginx that notes the trace headers it got.
local nginx = require "spec.support.nginx"
local browser_sse = require "spec.support.browser_sse"
local socket = require "socket"
local cjson = require "cjson"

local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
local TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
local TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
local OWN_TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

-- /up/<kind>-<key>/...: answers as <kind> says; notes the trace headers
-- under "hdr:<kind>-<key>".
local UPSTREAM = [[
  local cjson = require "cjson"
  local name = ngx.var.uri:match("^/up/([^/]+)/")
  local kind = name:match("^[^-]+")
  ngx.shared.rec:rpush("hdr:" .. name, cjson.encode({ tp = ngx.var.http_traceparent or false,
    ts = ngx.var.http_tracestate or false }))
  local function sse(s)
    ngx.print(s)
    ngx.flush(true)
  end
  if kind == "api" then
    ngx.header["Content-Type"] = "application/json"
    ngx.print(cjson.encode({ id = "]] .. CHAT .. [[", chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f" }))
  elseif kind == "s204" then ngx.exit(204)
  elseif kind == "s401" or kind == "s404" or kind == "s503" then
    ngx.status = tonumber(kind:sub(2))
    ngx.header["Content-Type"] = "application/json"
    ngx.print(cjson.encode({ statusCode = ngx.status, message = "no" }))
  elseif kind == "sse" or kind == "oversize" then
    ngx.header["Content-Type"] = "text/event-stream"
    sse("id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\nevent: chunk\ndata: c\n\n")
    if kind == "oversize" then sse("data: " .. string.rep("x", 1100000)) end
    ngx.sleep(0.3)
    sse("id: 4\nevent: chunk\ndata: d\n\nid: 5\ndata: e\n\n")
    ngx.sleep(5)
  end
]]

-- The hook notes every record under "rec:<key>".
local PRELUDE = [[
  local homie = require "homie"
  local cjson = require "cjson"
  local args = ngx.req.get_uri_args()
  local function hook(r)
    if args.raise then error("boom from the hook") end
    ngx.shared.rec:rpush("rec:" .. args.key, cjson.encode(r))
  end
  local base = "http://127.0.0.1:" .. ngx.var.server_port .. "/up/" .. args.up .. "-" .. args.key
  local client = homie.new{ api_key = "homie-test-key", base_url = base,
    observe = args.via == "client" and hook or nil, forward_trace = args.forward ~= "off" }
]]

local RELAY = PRELUDE .. [[
  local opts = { public = true, open_timeout = 0.5, max_seconds = tonumber(args.max_seconds) or 5,
    observe = args.via == "relay" and hook or nil }
  if args.filter then opts.filter = function(ev) if ev.type ~= "chunk" then return ev end end end
  if args.early then
    -- A stream whose reads time out `early` seconds before their bound, as
    -- a timer and nginx's millisecond clock can: the relay must still not
    -- end before max_seconds by the clock its end record reads.
    local real, early = client, tonumber(args.early)
    client = { now = function() return real:now() end, events = function()
      return { _as_wire = function() end, close = function() end, queued = function() return 0 end,
        open = function() return true end, reconnects = 0,
        next_event = function(_, wait) ngx.sleep(math.max(0.001, wait - early)) return nil, "timeout" end }
    end }
  end
  local reason, why = require("homie.ngx").relay_events(client, "]] .. CHAT .. [[", opts)
  ngx.shared.rec:set("result:" .. args.key, tostring(reason) .. "|" .. tostring(why))
]]

local CALL = PRELUDE .. [[
  local o = { chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f", traceparent = args.tp, tracestate = args.ts }
  local function create()
    local chat, err = client:create_chat(o)
    ngx.shared.rec:set("result:" .. args.key, chat and chat.id or tostring(err))
  end
  if args.timer then assert(ngx.timer.at(0, create)) else create() end
]]

-- Pops a list of JSON values.
local LIST = [[
  local d, out = ngx.shared.rec, {}
  while true do
    local v = d:lpop(ngx.var.arg_key)
    if not v then break end
    out[#out + 1] = v
  end
  ngx.print("[" .. table.concat(out, ",") .. "]")
]]

describe("homie.ngx observation in nginx", function()
  local app
  local n = 0

  setup(function()
    nginx.build()
    app = nginx.start{
      locations = { ["/relay"] = RELAY, ["/call"] = CALL, ["/list"] = LIST,
                    ["/result"] = [[ ngx.print(ngx.shared.rec:get("result:" .. ngx.var.arg_key) or "") ]] },
      server = "location /up/ {\n content_by_lua_block {\n" .. UPSTREAM .. "\n }\n}",
      http = "lua_shared_dict rec 4m;\nlua_check_client_abort on;",
    }
  end)
  teardown(function() if app then app:stop() end end)

  local function fresh_key()
    n = n + 1
    return "k" .. n
  end

  local function list(key) return app:json("/list?key=" .. key) end

  local function only(records, type_)
    local out = {}
    for _, r in ipairs(records) do if r.type == type_ then out[#out + 1] = r end end
    return out
  end

  -- The relay records of `key` (and all its records) once the end record
  -- is there (a relay ending because the browser left ends in the background).
  local function relay_records(key)
    local got, deadline = {}, socket.gettime() + 10
    while socket.gettime() < deadline do
      for _, r in ipairs(list("rec:" .. key)) do got[#got + 1] = r end
      local last = got[#got]
      if last and last.type == "relay" and last.phase == "end" then return only(got, "relay"), got end
      socket.sleep(0.05)
    end
    error("no end record for " .. key .. ": " .. cjson.encode(got) .. "\n" .. app:error_log():sub(-2000))
  end

  local function relay(up, query, headers)
    local key = fresh_key()
    local status, _, body = browser_sse.body(app.port, "/relay?up=" .. up .. "&key=" .. key .. (query or ""), headers)
    return key, status, body
  end

  it("records a relay's start and end: reason, events and bytes sent, time to the first event", function()
    local key, status, body = relay("sse", "&via=relay&max_seconds=1", { traceparent = TP })
    assert.equal(200, status)
    local recs = relay_records(key)
    assert.equal(2, #recs, cjson.encode(recs))
    local start, stop = recs[1], recs[2]
    assert.same({ type = "relay", phase = "start", chat_id = CHAT, trace_id = TRACE }, start)
    assert.equal("end", stop.phase)
    assert.equal("max_seconds", stop.reason)
    assert.equal(200, stop.status)
    assert.equal(CHAT, stop.chat_id)
    assert.equal(TRACE, stop.trace_id)
    local events = select(2, body:gsub("\ndata: ", "")) + (body:find("^data: ") and 1 or 0)
    assert.equal(5, events)
    assert.equal(5, stop.events)
    assert.equal(#body, stop.bytes)
    assert.is_number(stop.first_event)
    assert.truthy(stop.first_event >= 0 and stop.first_event <= stop.duration, cjson.encode(stop))
    assert.truthy(stop.duration >= 1 - 1e-6, cjson.encode(stop))  -- max_seconds (1e-6: float sums)
    assert.equal("max_seconds|nil", select(3, app:request("GET", "/result?key=" .. key)))
  end)

  it("a read that times out a little early does not end the relay before max_seconds", function()
    local key, status = relay("sse", "&via=relay&max_seconds=0.3&early=0.002")
    assert.equal(200, status)
    local stop = relay_records(key)[2]
    assert.equal("max_seconds", stop.reason)
    -- 1e-6: clock readings near 1.8e9 s carry float error; a clock
    -- millisecond short is 1000 times that.
    assert.truthy(stop.duration >= 0.3 - 1e-6, cjson.encode(stop))
  end)

  it("counts only the events a filter kept", function()
    local key, _, body = relay("sse", "&via=relay&max_seconds=1&filter=1")
    local stop = relay_records(key)[2]
    assert.equal(3, stop.events)
    assert.equal(#body, stop.bytes)
  end)

  it("a browser that leaves ends the record with browser_gone", function()
    local key = fresh_key()
    local c, status = browser_sse.get(app.port, "/relay?up=sse&via=relay&max_seconds=8&key=" .. key)
    assert.equal(200, status)
    local next_block = browser_sse.reader(c)
    next_block()                            -- the relay's comment
    assert.same({ "id: 1", "data: a" }, next_block())
    c:close()
    local recs = relay_records(key)
    assert.equal("browser_gone", recs[2].reason)
    assert.is_number(recs[2].first_event)
    assert.truthy(recs[2].events >= 3, cjson.encode(recs[2]))
  end)

  for _, case in ipairs({
    { up = "s404", status = 404, reason = "upstream_error:not_found" },
    { up = "s401", status = 502, reason = "upstream_error:authentication" },
    -- Retried until open_timeout: the stream's own records say why.
    { up = "s503", status = 200, reason = "upstream_error:timeout" },
    { up = "s204", status = 204, reason = "upstream_ended" },
  }) do
    it("an upstream that answers " .. case.up .. " ends the record with " .. case.reason, function()
      local key, status = relay(case.up, "&via=relay")
      assert.equal(case.status, status)
      local recs = relay_records(key)
      assert.equal(2, #recs)
      assert.equal("start", recs[1].phase)
      assert.same(case.reason, recs[2].reason)
      assert.equal(case.status, recs[2].status)
      assert.equal(0, recs[2].events)
      assert.is_nil(recs[2].first_event)
    end)
  end

  it("an upstream that fails mid-stream ends the record with upstream_error:<kind>", function()
    local key, _, body = relay("oversize", "&via=relay")
    local stop = relay_records(key)[2]
    assert.truthy(stop.reason:find("^upstream_error:%l"), stop.reason)
    assert.equal(3, stop.events)
    assert.equal(#body, stop.bytes)
  end)

  it("falls back to the client's hook, which also sees the upstream stream and its trace", function()
    local key = relay("sse", "&via=client&max_seconds=0.5", { traceparent = TP, tracestate = "shop=1" })
    local relays, recs = relay_records(key)
    local streams = only(recs, "stream")
    assert.equal(2, #relays)
    assert.truthy(#streams >= 1, cjson.encode(recs))
    assert.equal(TRACE, streams[1].trace_id)
    assert.same({ { tp = TP, ts = "shop=1" } }, list("hdr:sse-" .. key))
  end)

  it("a hook that raises never breaks the relay: logged, the events still go", function()
    local key, status, body = relay("sse", "&via=relay&max_seconds=0.5&raise=1")
    assert.equal(200, status)
    assert.truthy(body:find("data: e", 1, true))
    assert.equal("max_seconds|nil", select(3, app:request("GET", "/result?key=" .. key)))
    assert.truthy(app:error_log():find("observe hook failed: [^\n]*boom from the hook"))
  end)

  describe("forwards the incoming traceparent", function()
    local function call(query, headers)
      local key = fresh_key()
      local status = app:request("GET", "/call?up=api&via=client&key=" .. key .. (query or ""), nil, headers)
      assert.equal(200, status)
      local deadline = socket.gettime() + 5
      while socket.gettime() < deadline do  -- a timer's call ends after the request
        local r = select(3, app:request("GET", "/result?key=" .. key))
        if r ~= "" then
          assert.equal(CHAT, r)
          return list("hdr:api-" .. key), list("rec:" .. key)
        end
        socket.sleep(0.05)
      end
      error("the call did not end: " .. app:error_log():sub(-2000))
    end

    it("on API calls, with its tracestate; records carry the trace id", function()
      local seen, recs = call("", { traceparent = TP, tracestate = "shop=1,other=2" })
      assert.same({ { tp = TP, ts = "shop=1,other=2" } }, seen)
      assert.equal(TRACE, recs[1].trace_id)
    end)

    it("only when valid", function()
      for _, bad in ipairs({ "00-" .. ("0"):rep(32) .. "-00f067aa0ba902b7-01", "garbage",
          "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01" }) do
        local seen, recs = call("", { traceparent = bad, tracestate = "shop=1" })
        assert.same({ { tp = false, ts = false } }, seen)
        assert.is_nil(recs[1].trace_id)
      end
    end)

    it("not with forward_trace = false", function()
      local seen, recs = call("&forward=off", { traceparent = TP })
      assert.same({ { tp = false, ts = false } }, seen)
      assert.is_nil(recs[1].trace_id)
    end)

    it("unless the call names its own, which wins whole", function()
      local seen, recs = call("&tp=" .. OWN_TP, { traceparent = TP, tracestate = "shop=1" })
      assert.same({ { tp = OWN_TP, ts = false } }, seen)
      assert.equal("0af7651916cd43dd8448eb211c80319c", recs[1].trace_id)
    end)

    it("not from a timer, which has no incoming request", function()
      local seen = call("&timer=1", { traceparent = TP })
      assert.same({ { tp = false, ts = false } }, seen)
    end)

    it("without a tracestate over 512 bytes", function()
      local seen = call("", { traceparent = TP, tracestate = "a=" .. ("b"):rep(511) })
      assert.same({ { tp = TP, ts = false } }, seen)
    end)
  end)
end)
