-- homie.ngx.relay_events' writer in a real nginx: whatever a filter returns,
-- the browser gets well-formed events (a line break inside data is a new
-- `data:` line, never a new field; ids and types lose their line breaks),
-- and a filter that raises ends the relay with an escaped log line.
local nginx = require "spec.support.nginx"
local browser_sse = require "spec.support.browser_sse"

local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

local UPSTREAM = [[
  local sock = assert(ngx.req.socket(true))
  sock:send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    .. "id: 1\nevent: typing\ndata: { \"typing\": true }\n\n")
  ngx.sleep(3)
]]

local RELAY = [[
  local homie = require "homie"
  local mode = ngx.var.arg_mode
  local FILTERS = {
    cr = function() return { type = "t", data = "a\rdata: injected\revent: evil" } end,
    crlf = function() return { data = "a\r\nb\nc\r" } end,
    fields = function() return { id = "7\r\nevent: evil", type = "x\nretry: 1\0" } end,
    emptytype = function() return { type = "\n", data = "d" } end,
    text = function() return "hello\nworld" end,
    number = function() return 42 end,
    json = function() return { data = { a = "x\ny" } } end,
    drop = function() return false end,
    untouched = function(ev) return ev end,
    read = function(ev) assert(ev.data.typing == true) return ev end,
    edit = function(ev) ev.data.typing = "a\nb" return ev end,
    raise = function() error("bad filter\n2026/12/01 00:00:00 [alert] forged by a filter") end,
  }
  local client = homie.new{ api_key = "homie-test-key", base_url = "http://127.0.0.1:" .. ngx.var.server_port .. "/up" }
  local reason = require("homie.ngx").relay_events(client, ngx.var.arg_chat, { public = true, max_seconds = 0.5,
    filter = FILTERS[mode] })
  ngx.shared.out:set(mode, tostring(reason))
]]

describe("homie.ngx relay writer", function()
  local app

  setup(function()
    nginx.build()
    app = nginx.start{
      locations = { ["/relay"] = RELAY, ["/result"] = [[ ngx.print(ngx.shared.out:get(ngx.var.arg_mode) or "") ]] },
      server = "location /up/ {\n content_by_lua_block {\n" .. UPSTREAM .. "\n }\n}",
      http = "lua_shared_dict out 1m;",
    }
  end)
  teardown(function() if app then app:stop() end end)

  local function events_of(mode)
    local status, _, body = browser_sse.body(app.port, "/relay?chat=" .. CHAT .. "&mode=" .. mode)
    assert.equal(200, status)
    local head = ": homie relay\n\n"
    assert.equal(head, body:sub(1, #head))
    return body:sub(#head + 1), select(3, app:request("GET", "/result?mode=" .. mode))
  end

  local WANT = {
    cr = "event: t\ndata: a\ndata: data: injected\ndata: event: evil\n\n",
    crlf = "data: a\ndata: b\ndata: c\ndata: \n\n",
    fields = "id: 7event: evil\nevent: xretry: 1\ndata: \n\n",
    emptytype = "data: d\n\n",
    text = "data: hello\ndata: world\n\n",
    number = "data: 42\n\n",
    json = 'data: {"a":"x\\ny"}\n\n',
    drop = "",
    -- As it came (no JSON decoding) unless the filter read ev.data.
    untouched = 'id: 1\nevent: typing\ndata: { "typing": true }\n\n',
    read = 'id: 1\nevent: typing\ndata: {"typing":true}\n\n',
    edit = 'id: 1\nevent: typing\ndata: {"typing":"a\\nb"}\n\n',
  }
  for mode, want in pairs(WANT) do
    it("writes well-formed events whatever the filter returns (" .. mode .. ")", function()
      local body, result = events_of(mode)
      assert.equal(want, body)
      assert.equal("max_seconds", result)
    end)
  end

  it("a filter that raises ends the relay, logged on one escaped line", function()
    local body, result = events_of("raise")
    assert.equal("", body)
    assert.equal("filter failed", result)
    local log = app:error_log()
    assert.truthy(log:find("bad filter\\x0a2026/12/01 00:00:00 [alert]", 1, true), log:sub(-1500))
    assert.falsy(log:find("\n2026/12/01 00:00:00 [alert]", 1, true))
  end)
end)
