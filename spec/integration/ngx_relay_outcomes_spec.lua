-- homie.ngx.relay_events against a hostile upstream, in a real nginx: every
-- answer the API could give (any status, garbage, a cut, a stall) ends in
-- the browser status and relay result doc/openresty.md documents, and
-- upstream text never forges a line of error.log. The hostile upstream is
-- a location of the same nginx writing raw bytes on the request's socket.
local nginx = require "spec.support.nginx"
local mock = require "spec.support.mock"
local browser_sse = require "spec.support.browser_sse"

local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

local UPSTREAM = [[
  local cjson = require "cjson"
  local name = ngx.var.uri:match("^/up/([^/]+)/")
  local d = ngx.shared.up
  local n = d:incr(name, 1, 0)
  d:set(name .. ":last-event-id:" .. n, ngx.var.http_last_event_id or "")
  local sock = assert(ngx.req.socket(true))
  local function answer(status, headers, body)
    local h = { "HTTP/1.1 " .. status .. " X" }
    for _, x in ipairs(headers) do h[#h + 1] = x end
    if body then h[#h + 1] = "Content-Length: " .. #body end
    h[#h + 1] = "Connection: close"
    sock:send(table.concat(h, "\r\n") .. "\r\n\r\n" .. (body or ""))
  end
  local function json_error(status, message)
    answer(status, { "Content-Type: application/json" }, cjson.encode({ statusCode = status, message = message }))
  end
  local SSE = { "Content-Type: text/event-stream" }
  local status = tonumber(name:match("^s(%d+)$"))
  if name == "s204" then answer(204, {})
  -- A redirect the stream cannot follow (no Location): streams follow the others.
  elseif name == "s301" then answer(301, {}, "")
  elseif name == "s401" then
    json_error(401, "bad key\n2026/12/01 00:00:00 [alert] 1#1: forged by upstream")
  elseif status then json_error(status, "status " .. status)
  elseif name == "garbage" then sock:send("\0\1\2 this is not HTTP\r\n\r\n")
  elseif name == "json200" then answer(200, { "Content-Type: application/json" }, "{}")
  elseif name == "stall_head" then ngx.sleep(4)
  -- Slower than the relay's heartbeat before answering at all.
  elseif name == "slow_open" then
    ngx.sleep(3.5)
    answer(200, SSE)
    sock:send("id: 1\ndata: event 1\n\n")
    ngx.sleep(2)
  elseif name == "slow_404" then
    ngx.sleep(1.5)
    json_error(404, "no such chat")
  elseif name == "cut" or name == "stall_mid" or name == "stall_beat" then
    answer(200, SSE)
    sock:send("id: " .. n .. "\ndata: event " .. n .. "\n\n")
    if n == 1 and name == "cut" then return end
    ngx.sleep(n == 1 and 4 or 2)
  elseif name == "oversize" then
    answer(200, SSE)
    sock:send("id: 1\ndata: fine\n\n")
    sock:send("data: " .. string.rep("x", 1100000))
    ngx.sleep(2)
  end
]]

local RELAY = [[
  local homie = require "homie"
  local args = ngx.req.get_uri_args()
  local base = args.up == "dead" and "http://127.0.0.1:" .. os.getenv("DEAD_PORT")
    or "http://127.0.0.1:" .. ngx.var.server_port .. "/up/" .. args.up
  local client = homie.new{ api_key = "homie-test-key", base_url = base }
  local reason, why = require("homie.ngx").relay_events(client, args.chat, { public = true,
    open_timeout = tonumber(args.open) or 0.5, idle_timeout = tonumber(args.idle), max_seconds = 6,
    heartbeat = tonumber(args.hb) })
  ngx.shared.up:set("result:" .. args.up, tostring(reason) .. "|" .. tostring(why))
]]

describe("homie.ngx relay against a hostile upstream", function()
  local app

  setup(function()
    nginx.build()
    app = nginx.start{
      locations = { ["/relay"] = RELAY,
                    ["/result"] = [[ ngx.print(ngx.shared.up:get("result:" .. ngx.var.arg_up) or "") ]],
                    ["/lei"] = [[ ngx.print(ngx.shared.up:get(ngx.var.arg_key) or "") ]] },
      server = "location /up/ {\n content_by_lua_block {\n" .. UPSTREAM .. "\n }\n}",
      http = "lua_shared_dict up 1m;\nlua_check_client_abort on;",
      env = { DEAD_PORT = tostring(mock.dead_port()) },
    }
  end)
  teardown(function() if app then app:stop() end end)

  local function relay(up, extra)
    local status, h, body = browser_sse.body(app.port, "/relay?chat=" .. CHAT .. "&up=" .. up .. (extra or ""))
    local _, _, result = app:request("GET", "/result?up=" .. up)
    return status, h, body, result
  end

  it("a 204 ends the page's EventSource with a 204", function()
    local status, _, body, result = relay("s204")
    assert.equal(204, status)
    assert.equal("", body)
    assert.equal("upstream ended|nil", result)
  end)

  it("a chat the API does not know is the shopper's 404", function()
    local status, _, _, result = relay("s404")
    assert.equal(404, status)
    assert.equal("nil|no such chat", result)
  end)

  for _, up in ipairs({ "s301", "s400", "s401", "s403", "s418", "json200" }) do
    it("an answer that will not change (" .. up .. ") is a 502, never the API's own answer", function()
      local status, h, body, result = relay(up)
      assert.equal(502, status)
      assert.equal("text/plain", h["content-type"])
      assert.equal("homie: event stream unavailable\n", body)
      assert.equal("nil|event stream unavailable", result)
    end)
  end

  for _, up in ipairs({ "s429", "s500", "s503", "stall_head", "dead", "garbage" }) do
    it("a failure that may pass (" .. up .. ") tells the EventSource to retry later", function()
      local status, h, body, result = relay(up)
      assert.equal(200, status)
      assert.equal("text/event-stream", h["content-type"])
      assert.equal("retry: 5000\n: upstream unavailable\n\n", body)
      assert.equal("nil|upstream unavailable", result)
    end)
  end

  for _, up in ipairs({ "cut", "stall_mid" }) do
    it("a stream that is " .. up .. " resumes upstream with Last-Event-ID; the page sees every event once", function()
      local c, status = browser_sse.get(app.port, "/relay?chat=" .. CHAT .. "&up=" .. up .. "&idle=0.5")
      assert.equal(200, status)
      local next_block = browser_sse.reader(c)
      assert.same({ ": homie relay" }, next_block())
      assert.same({ "id: 1", "data: event 1" }, next_block())
      local block, err = next_block(5)
      assert.same({ "id: 2", "data: event 2" }, block, "the page's next read: " .. tostring(err))
      c:close()
      assert.equal("1", select(3, app:request("GET", "/lei?key=" .. up .. ":last-event-id:2")))
    end)
  end

  it("heartbeats reach the page while upstream is slower than a heartbeat to answer", function()
    local c, status = browser_sse.get(app.port, "/relay?chat=" .. CHAT .. "&up=slow_open&hb=1&open=8")
    assert.equal(200, status)
    local next_block = browser_sse.reader(c)
    assert.same({ ": homie relay" }, next_block(5))
    local beats, block = 0
    repeat
      block = next_block(5)
      if block and block[1] == ": keep-alive" then beats = beats + 1 end
    until not block or block[1] ~= ": keep-alive"
    c:close()
    assert.same({ "id: 1", "data: event 1" }, block)
    assert.is_true(beats >= 1, "no heartbeat before upstream answered")
  end)

  it("heartbeats go on while upstream stalls mid-stream", function()
    local c = browser_sse.get(app.port, "/relay?chat=" .. CHAT .. "&up=stall_beat&hb=1&idle=10")
    local next_block = browser_sse.reader(c)
    assert.same({ ": homie relay" }, next_block(5))
    assert.same({ "id: 1", "data: event 1" }, next_block(5))
    assert.same({ ": keep-alive" }, next_block(5))
    assert.same({ ": keep-alive" }, next_block(5))
    c:close()
  end)

  it("a refusal after heartbeats began ends the 200 stream with why and retry", function()
    local status, h, body, result = relay("slow_404", "&hb=1&open=8")
    assert.equal(200, status)
    assert.equal("text/event-stream", h["content-type"])
    -- (both event paths answer 404, each after 1.5 s: heartbeats in between)
    local beats = body:match("^: homie relay\n\n(.-)retry: 5000\n: no such chat\n\n$")
    assert.is_string(beats, body)
    assert.equal("", (beats:gsub(": keep%-alive\n\n", "")))
    assert.equal("nil|no such chat", result)
  end)

  it("an event over max_event_bytes ends the relay after the events before it", function()
    local status, _, body, result = relay("oversize")
    assert.equal(200, status)
    assert.equal(": homie relay\n\nid: 1\ndata: fine\n\n", body)
    assert.equal("upstream failed|nil", result)
  end)

  it("upstream text in error.log is escaped: no forged lines", function()
    relay("s401")
    local log = app:error_log()
    assert.truthy(log:find("bad key\\x0a2026/12/01 00:00:00 [alert]", 1, true), log:sub(-1500))
    assert.falsy(log:find("\n2026/12/01 00:00:00 [alert]", 1, true))
  end)
end)
