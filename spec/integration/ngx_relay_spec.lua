-- homie.ngx.relay_events and chat_token in a real nginx: the browser's side
-- is a LuaSocket connection here, reading the relay as an EventSource would.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"
local cjson = require "cjson"
local fx = require "spec.support.fixtures"
local browser_sse = require "spec.support.browser_sse"

local SECRET = "shop-secret-0123456789abcdef-0123456789"

local RELAY = [[
  local homie = require "homie"
  local T = require "spec.support.ngx_t"
  local client = homie.new{ api_key = T.KEY, base_url = T.mock_url() }
  local args = ngx.req.get_uri_args()
  local opts = { heartbeat = tonumber(args.heartbeat), max_seconds = tonumber(args.max_seconds),
                 max_bytes = tonumber(args.max_bytes) }
  if args.mode == "secret" then opts.secret, opts.token = os.getenv("SHOP_SECRET"), args.token
  elseif args.mode == "public" then opts.public = true
  elseif args.mode == "authorize" then opts.authorize = function(id) return id == args.allow end
  elseif args.mode == "filter" then
    opts.public = true
    opts.filter = function(ev)
      if ev.type == "chunk" then return nil end
      if ev.type == "typing" then return { type = "typing", id = ev.id, data = { typing = ev.data.typing, relayed = true } } end
      return ev
    end
  end
  local reason, why = require("homie.ngx").relay_events(client, args.chat, opts)
  ngx.shared.relay:set(args.chat, tostring(reason or why))
]]

local LOCATIONS = {
  ["/relay"] = RELAY,
  ["/relay_noabort"] = { conf = "lua_check_client_abort off;", lua = RELAY },
  ["/mint"] = [[
    local args = ngx.req.get_uri_args()
    ngx.print(require("homie.ngx").chat_token(args.chat, os.getenv("SHOP_SECRET"), args.purpose or "events",
      tonumber(args.ttl)))
  ]],
  ["/check"] = [[
    local args = ngx.req.get_uri_args()
    ngx.print(tostring(require("homie.ngx").check_token(args.chat, os.getenv("SHOP_SECRET"), args.token,
      args.purpose or "events")))
  ]],
  ["/ended"] = [[ ngx.print(ngx.shared.relay:get(ngx.var.arg_chat) or "") ]],
}

local sh = mock.sh

-- The token chat_token documents, computed with openssl: an independent check.
local function openssl_token(chat, expires, purpose)
  purpose = purpose or "events"
  local mac = sh(("printf 'homie-token/v1\\n%%s\\n%%s\\n%%s' %s %s %d | openssl dgst -sha1 -hmac %s -binary | base64")
    :format(purpose, chat, expires, SECRET))
  return "v1." .. purpose .. "." .. expires .. "." .. mac:gsub("[+/=]", { ["+"] = "-", ["/"] = "_", ["="] = "" })
end

describe("homie.ngx relay in nginx", function()
  local server, app

  setup(function()
    server = mock.start{ chunk_delay_ms = 60, heartbeat = 30 }
    nginx.build()
    app = nginx.start{ locations = LOCATIONS, env = { MOCK_URL = server.url, SHOP_SECRET = SECRET },
      http = "lua_shared_dict relay 1m;\nlua_check_client_abort on;" }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
  end)

  local function new_chat()
    local _, _, body = server:request("POST", "/v1/chats", cjson.encode({ chatbotId = fx.BOT }),
      { ["x-api-key"] = server.api_key })
    return cjson.decode(body).id
  end

  -- Sends a message without waiting for the answer; returns the socket.
  local function post_message(chat)
    local c = assert(socket.connect("127.0.0.1", server.port))
    local body = cjson.encode({ message = fx.HOODIE, currentUrl = fx.PAGE })
    assert(c:send(("POST /v1/chats/%s/messages HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\nContent-Type: application/json\r\n"
      .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(chat, server.api_key, #body, body)))
    return c
  end

  local function browse(path, headers) return browser_sse.get(app.port, path, headers) end
  local reader = browser_sse.reader

  local function status_of(path)
    local c, status = browse(path)
    c:close()
    return status
  end

  it("lets a page follow only its own chat, with a valid token", function()
    local chat, other = new_chat(), new_chat()
    local _, _, token = app:request("GET", "/mint?chat=" .. chat)
    assert.equal(200, status_of("/relay?mode=secret&chat=" .. chat .. "&token=" .. token))
    local crafted = openssl_token(chat, os.time() + 600)
    assert.equal(200, status_of("/relay?mode=secret&chat=" .. chat .. "&token=" .. crafted))
    assert.equal(403, status_of("/relay?mode=secret&chat=" .. other .. "&token=" .. token))
    assert.equal(403, status_of("/relay?mode=secret&chat=" .. chat .. "&token=" .. openssl_token(chat, os.time() - 5)))
    local forged = token:gsub("%.([^.]*)$", function(mac) return "." .. (mac:sub(1, 1) == "A" and "B" or "A") .. mac:sub(2) end)
    assert.equal(403, status_of("/relay?mode=secret&chat=" .. chat .. "&token=" .. forged))
    assert.equal("true", select(3, app:request("GET", "/check?chat=" .. chat .. "&token=" .. token)))
    assert.equal("false", select(3, app:request("GET", "/check?chat=" .. other .. "&token=" .. token)))
    assert.equal("false", select(3, app:request("GET", "/check?chat=" .. chat .. "&token=" .. forged)))
    assert.equal(403, status_of("/relay?mode=secret&chat=" .. chat))
    assert.equal(403, status_of("/relay?chat=" .. chat))          -- nothing configured
    assert.equal(200, status_of("/relay?mode=public&chat=" .. chat))
    assert.equal(200, status_of("/relay?mode=authorize&chat=" .. chat .. "&allow=" .. chat))
    assert.equal(403, status_of("/relay?mode=authorize&chat=" .. chat .. "&allow=" .. other))
    assert.equal(400, status_of("/relay?mode=public&chat=not-a-chat"))
    assert.truthy(app:error_log():find("relay_events needs opts.secret", 1, true))
  end)

  it("streams events as they happen, each flushed, with its id and name", function()
    local chat = new_chat()
    local c, status, h = browse("/relay?mode=public&chat=" .. chat)
    assert.equal(200, status)
    assert.equal("text/event-stream", h["content-type"])
    assert.equal("no-cache", h["cache-control"])
    assert.equal("no", h["x-accel-buffering"])
    local next_block = reader(c)
    assert.same({ ": homie relay" }, next_block())
    local poster = post_message(chat)
    local first = assert(next_block())
    assert.same("id: 1", first[1])
    assert.same("event: typing", first[2])
    assert.truthy(first[3]:find('"typing":true', 1, true))
    -- The reply is still being produced: the POST has not been answered.
    poster:settimeout(0)
    local answered, perr = poster:receive(1)
    assert.is_nil(answered)
    assert.equal("timeout", perr)
    local ids, names = { 1 }, {}
    for _ = 1, 40 do
      local b, berr = next_block()
      assert(b, tostring(berr) .. " after " .. cjson.encode(names) .. "\n" .. app:error_log():sub(-2000))
      if b[1]:sub(1, 1) ~= ":" then
        ids[#ids + 1] = tonumber(b[1]:match("^id: (%d+)$"))
        names[#names + 1] = b[2]:match("^event: (.*)$") or "message"
        if b[#b]:find('"type":"answer"', 1, true) then break end
      end
    end
    for i = 2, #ids do assert.equal(ids[i - 1] + 1, ids[i]) end
    assert.equal("message", names[#names])
    assert.truthy(#names >= 6)
    c:close()
    poster:close()
  end)

  it("passes the browser's Last-Event-ID upstream", function()
    local chat = new_chat()
    local poster = post_message(chat)
    poster:settimeout(10)
    assert(poster:receive("*a"))  -- the reply is complete: every event is stored
    poster:close()
    local c, status = browse("/relay?mode=public&chat=" .. chat, { ["Last-Event-ID"] = "3" })
    assert.equal(200, status)
    local next_block = reader(c)
    next_block()  -- the relay's own comment
    local first = assert(next_block())
    assert.equal("id: 4", first[1])
    c:close()
  end)

  it("sends heartbeats, filters events, and ends at max_seconds and max_bytes", function()
    local chat = new_chat()
    local c = browse("/relay?mode=filter&heartbeat=0.1&chat=" .. chat)
    local next_block = reader(c)
    next_block()
    assert.same({ ": keep-alive" }, next_block(2))
    local poster = post_message(chat)
    local seen = {}
    for _ = 1, 60 do
      local b = assert(next_block())
      if b[1]:sub(1, 1) ~= ":" then
        seen[#seen + 1] = b[2]
        if b[2] == "event: typing" then assert.truthy(b[3]:find('"relayed":true', 1, true)) end
        if b[#b]:find('"type":"answer"', 1, true) then break end
      end
    end
    for _, line in ipairs(seen) do assert.are_not.equal("event: chunk", line) end
    c:close()
    poster:close()

    c = browse("/relay?mode=public&max_seconds=0.3&chat=" .. chat)
    next_block = reader(c)
    next_block()
    local _, err = next_block(3)
    assert.equal("end", err)
    c:close()
    c = browse("/relay?mode=public&max_bytes=10&chat=" .. chat, { ["Last-Event-ID"] = "0" })
    next_block = reader(c)
    next_block()
    assert(next_block())        -- one event goes past 10 bytes
    _, err = next_block(3)
    assert.equal("end", err)
    c:close()
    assert.equal("max_bytes", select(3, app:request("GET", "/ended?chat=" .. chat)))
  end)

  -- With lua_check_client_abort on, ngx.on_abort notices at once (the
  -- heartbeat is too slow to matter); off, the next heartbeat's flush fails.
  for path, heartbeat in pairs({ ["/relay"] = 15, ["/relay_noabort"] = 0.2 }) do
    it("closes the upstream stream within a second of the browser leaving (" .. path .. ")", function()
      local chat = new_chat()
      server:reset()
      local c = browse(path .. "?mode=public&heartbeat=" .. heartbeat .. "&chat=" .. chat)
      reader(c)()
      local open
      local deadline = socket.gettime() + 5
      repeat open = server:stats().streams_open; socket.sleep(0.02) until open == 1 or socket.gettime() > deadline
      assert.equal(1, open)
      c:close()
      local left = socket.gettime()
      repeat open = server:stats().streams_open; socket.sleep(0.02) until open == 0 or socket.gettime() > left + 5
      assert.equal(0, open)
      assert.is_true(socket.gettime() - left < 1, "upstream closed after " .. (socket.gettime() - left) .. " s")
    end)
  end
end)
