-- homie.transport.ngx inside a real nginx (Debian's nginx + its Lua module),
-- against the emulator and raw loopback answers. Each location below runs
-- in nginx and answers JSON that the spec checks here.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"

local sh = mock.sh

local PRELUDE = [[
local cjson = require "cjson"
local T = require "spec.support.ngx_t"
local t = T.transport()
]]

local LOCATIONS = {
  -- Every endpoint, as plain exchanges.
  ["/t/endpoints"] = [[
    local id, created = T.create_chat(t)
    local sent = assert(t:request(T.req(t, "POST", "/v1/chats/" .. id .. "/messages",
      { body = cjson.encode({ message = "Does the blue hoodie come in size L?",
        currentUrl = "https://store.com/products/blue-hoodie" }), idempotent = false })))
    local list = assert(t:request(T.req(t, "GET", "/v1/chats/" .. id .. "/messages?page=1&size=20")))
    local missing = assert(t:request(T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")))
    local unauthorized = assert(t:request(T.req(t, "GET", "/v1/chats/" .. id .. "/messages",
      { headers = { ["x-api-key"] = "wrong" } })))
    T.reply({ created = created.status, request_id = created.headers["x-request-id"],
      content_type = created.headers["content-type"], chat = cjson.decode(created.body),
      sent = sent.status, reply = cjson.decode(sent.body),
      list = list.status, items = #cjson.decode(list.body).items,
      missing = missing.status, unauthorized = unauthorized.status,
      name = t.name, version = t.version, now = t:now() })
  ]],

  -- Which emulator connection served each exchange.
  ["/t/keepalive"] = [[
    local function conn(method, path, fields)
      local resp = assert(t:request(T.req(t, method, path, fields)))
      return resp.headers["x-homie-mock-connection"]
    end
    local out = {}
    out.get1 = conn("GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")
    out.get2 = conn("GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")
    -- Not to be sent twice: a fresh connection, even to the URL just pooled.
    out.get_once = conn("GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages", { idempotent = false })
    out.post_once = conn("POST", "/v1/chats", { body = cjson.encode({ chatbotId = T.BOT }), idempotent = false })
    out.post_once2 = conn("POST", "/v1/chats", { body = cjson.encode({ chatbotId = T.BOT }), idempotent = false })
    out.get3 = conn("GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")
    -- A stream closed before its end is never pooled.
    local id = T.create_chat(t)
    local s = assert(t:open(T.req(t, "GET", "/v1/chats/" .. id .. "/messages/events")))
    local status, headers = s:head(t:now() + 5)
    out.stream = headers["x-homie-mock-connection"]
    s:close()
    out.get4 = conn("GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")
    T.reply(out)
  ]],
  ["/t/keepalive_next"] = [[
    local resp = assert(t:request(T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages")))
    T.reply({ conn = resp.headers["x-homie-mock-connection"] })
  ]],

  -- Every kind of failure, as the fail tables say them.
  ["/t/failures"] = [[
    local out = {}
    local function try(name, req)
      local started = t:now()
      local resp, f = t:request(req)
      out[name] = resp and { status = resp.status, body = resp.body } or T.failure(f)
      out[name].took = t:now() - started
    end
    try("refused", T.req(t, "GET", "/v1/chats", { base = "http://127.0.0.1:" .. os.getenv("DEAD_PORT") }))
    try("bad_url", T.req(t, "GET", "/x", { base = "ftp://127.0.0.1" }))
    try("no_resolver", T.req(t, "GET", "/x", { base = "http://homie.invalid" }))  -- no resolver: nothing leaves
    try("ca_file", T.req(t, "GET", "/x", { base = "https://127.0.0.1:1", ca_file = "/etc/ssl/certs/ca-certificates.crt" }))
    local function fault(f)
      assert(t:request(T.req(t, "POST", "/__mock/faults", { body = cjson.encode(f) })))
    end
    fault({ path = "/messages$", fault = { stall = true } })
    local list = "/v1/chats/00000000-0000-0000-0000-000000000000/messages"
    try("deadline", T.req(t, "GET", list, { deadline_at = t:now() + 0.3 }))
    try("max_body", T.req(t, "GET", list, { max_body = 10 }))
    try("max_body_chunked", T.req(t, "GET", "/raw/chunked", { base = "http://127.0.0.1:" .. ngx.var.server_port, max_body = 8 }))
    fault({ path = "/messages$", fault = { reset = "before_headers" } })
    try("reset", T.req(t, "GET", list))
    fault({ path = "/v1/chats$", fault = { reset = "mid_body" } })
    try("mid_body", T.req(t, "POST", "/v1/chats", { body = cjson.encode({ chatbotId = T.BOT }), idempotent = false }))
    fault({ path = "/v1/chats$", fault = { status = 503, headers = { ["Retry-After"] = "1" } } })
    try("status", T.req(t, "POST", "/v1/chats", { body = cjson.encode({ chatbotId = T.BOT }), idempotent = false }))
    try("garbage", T.req(t, "GET", "/raw/garbage", { base = "http://127.0.0.1:" .. ngx.var.server_port }))
    try("xchunked", T.req(t, "GET", "/raw/xchunked", { base = "http://127.0.0.1:" .. ngx.var.server_port }))
    try("switch", T.req(t, "GET", "/raw/switch", { base = "http://127.0.0.1:" .. ngx.var.server_port }))
    t:close()
    t:close()
    local ok, err = pcall(t.request, t, T.req(t, "GET", list))
    out.closed = tostring(err)
    T.reply(out)
  ]],
  -- Chunk extensions, trailers, repeated headers, read-to-close bodies.
  ["/t/framing"] = [[
    local base = "http://127.0.0.1:" .. ngx.var.server_port
    local chunked = assert(t:request(T.req(t, "GET", "/raw/chunked", { base = base })))
    local close = assert(t:request(T.req(t, "GET", "/raw/close", { base = base })))
    T.reply({ chunked = chunked.body, dup = chunked.headers["x-dup"], close = close.body,
              close_status = close.status })
  ]],
  -- A stream read as it arrives: a chunk split across writes, an idle read between.
  ["/t/slow_stream"] = [[
    local base = "http://127.0.0.1:" .. ngx.var.server_port
    local s = assert(t:open(T.req(t, "GET", "/raw/slow", { base = base })))
    local status, headers = s:head(t:now() + 5)
    local out = { status = status, pieces = {} }
    for _ = 1, 10 do
      local data, f = s:read(t:now() + 0.1)
      if data then out.pieces[#out.pieces + 1] = data
      elseif f then out.pieces[#out.pieces + 1] = f.idle and "<idle>" or ("<" .. f.message .. ">")
      else out.pieces[#out.pieces + 1] = "<end>"; break end
    end
    s:close()
    T.reply(out)
  ]],

  -- What one read of a stream hands up when much is already waiting.
  ["/t/burst"] = [[
    local n = tonumber(ngx.var.arg_n)
    local s = assert(t:open(T.req(t, "GET", "/raw/burst?n=" .. n, { base = "http://127.0.0.1:" .. ngx.var.server_port })))
    local status = s:head(t:now() + 5)
    local first = s:read(t:now() + 5)
    local total = #first
    while total < n do
      local more = s:read(t:now() + 5)
      if not more then break end
      total = total + #more
    end
    s:close()
    T.reply({ status = status, first = #first, total = total })
  ]],

  -- Resume data on a stream, then a live stream left idle.
  ["/t/stream"] = [[
    local id = T.create_chat(t)
    assert(t:request(T.req(t, "POST", "/v1/chats/" .. id .. "/messages", { idempotent = false,
      body = cjson.encode({ message = "Does the blue hoodie come in size L?", currentUrl = "https://store.com/p" }) })))
    local req = T.req(t, "GET", "/v1/chats/" .. id .. "/messages/events")
    req.headers["last-event-id"] = "0"
    local s = assert(t:open(req))
    local status, headers = s:head(t:now() + 5)
    local got, ends = {}, t:now() + 5
    while t:now() < ends do
      local data = s:read(ends)
      if not data then break end
      got[#got + 1] = data
      if table.concat(got):find("event: message", 1, true) then break end
    end
    s:close()
    local live = assert(t:open(T.req(t, "GET", "/v1/chats/" .. id .. "/events")))
    local first = live:read(t:now() + 5)
    local _, idle = live:read(t:now() + 0.2)
    live:close()
    local _, after = live:read(t:now() + 0.2)
    T.reply({ status = status, content_type = headers["content-type"], replay = table.concat(got),
              first = first, idle = T.failure(idle), after_close = T.failure(after) })
  ]],
  ["/t/tls_default"] = [[
    local out = {}
    local resp, f = t:request(T.req(t, "POST", "/v1/chats", { base = os.getenv("TLS_URL"), idempotent = false,
      body = cjson.encode({ chatbotId = T.BOT }) }))
    out.default = resp and resp.status or T.failure(f)
    resp, f = t:request(T.req(t, "POST", "/v1/chats", { base = os.getenv("TLS_URL"), idempotent = false,
      insecure = true, body = cjson.encode({ chatbotId = T.BOT }) }))
    out.insecure = resp and resp.status or T.failure(f)
    T.reply(out)
  ]],
  -- Many refusals in a row: each must come back as a fail, none raise.
  -- (lua-resty-core 0.1.25, Debian 12's, raises "assertion failed!" from
  -- sslhandshake when a handshake that completed at once then fails
  -- verification, which happens now and then on loopback.)
  ["/t/tls_refusals"] = [[
    local out = { kinds = {}, raised = {} }
    for i = 1, 40 do
      local ok, resp, f = pcall(t.request, t, T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages",
        { base = os.getenv("TLS_URL"), idempotent = false }))  -- a fresh connection: a handshake each time
      if not ok then out.raised[#out.raised + 1] = tostring(resp)
      else
        local key = resp and tostring(resp.status) or (f.kind .. (f.retryable and " retryable" or " final")
          .. (f.message:find("lua_ssl_trusted_certificate", 1, true) and " named" or ""))
        out.kinds[key] = (out.kinds[key] or 0) + 1
      end
    end
    T.reply(out)
  ]],
  ["/t/tls_trusted"] = {
    conf = "lua_ssl_trusted_certificate " .. "@CERT@;",
    lua = [[
      local resp, f = t:request(T.req(t, "POST", "/v1/chats", { base = os.getenv("TLS_URL"), idempotent = false,
        body = cjson.encode({ chatbotId = T.BOT }) }))
      local again = assert(t:request(T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages",
        { base = os.getenv("TLS_URL") })))
      local third = assert(t:request(T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages",
        { base = os.getenv("TLS_URL") })))
      T.reply({ status = resp and resp.status or T.failure(f),
        reused = again.headers["x-homie-mock-connection"] == third.headers["x-homie-mock-connection"] })
    ]],
  },
  -- Tasks at once; one raising stops the rest.
  ["/t/gather"] = [[
    local order = {}
    local results = t:gather({
      function() t:sleep(0.2); order[#order + 1] = 1; return "a", 2 end,
      function() t:sleep(0.05); order[#order + 1] = 2; return "b" end,
      function() return assert(t:request(T.req(t, "GET", "/v1/chats/00000000-0000-0000-0000-000000000000/messages"))).status end,
      function() t:sleep(0); return nil, nil end,
    })
    local function plain(r) return { n = r.n, values = { unpack(r, 1, r.n) } } end
    T.reply({ order = order, r1 = plain(results[1]), r2 = plain(results[2]), r3 = plain(results[3]), r4n = results[4].n })
  ]],
  ["/t/gather_raise"] = [[
    local id = T.create_chat(t)
    local finished = false
    local started = t:now()
    -- No collection meanwhile: a collected socket closes itself, and the
    -- spec must see the transport close it.
    collectgarbage("stop")
    local ok, err = pcall(t.gather, t, {
      function()
        local s = assert(t:open(T.req(t, "GET", "/v1/chats/" .. id .. "/messages/events")))
        s:head(t:now() + 5)
        local ends = t:now() + 10
        while t:now() < ends do s:read(ends) end
        finished = true
      end,
      function() t:sleep(0.3); error("boom") end,
      function()  -- holds a stream while it waits on something else
        local s = assert(t:open(T.req(t, "GET", "/v1/chats/" .. id .. "/messages/events")))
        s:head(t:now() + 5)
        t:sleep(10)
        finished = true
      end,
    })
    local took = t:now() - started
    local open = -1
    for _ = 1, 40 do
      local stats = cjson.decode(assert(t:request(T.req(t, "GET", "/__mock/stats"))).body)
      open = stats.streams_open
      if open == 0 then break end
      t:sleep(0.05)
    end
    collectgarbage("restart")
    T.reply({ ok = ok, err = tostring(err), took = took, finished = finished, streams_open = open })
  ]],
  -- A call against a server that misbehaves (spec/support/raw_server.lua):
  -- its error and how long it took.
  ["/t/adversary"] = [[
    local homie = require "homie"
    local client = homie.new{ transport = "ngx", base_url = ngx.var.arg_url, api_key = T.KEY,
      timeout = 2, deadline = 3, max_retries = 0 }
    local started = t:now()
    local page, err = client:list_messages("00000000-0000-0000-0000-000000000000")
    T.reply({ ok = page ~= nil, kind = err and err.kind, message = err and err.message, took = t:now() - started })
  ]],
  ["/t/phases"] = [[
    local d = ngx.shared.phases
    local wait_until = t:now() + 5
    while not d:get("timer") and t:now() < wait_until do t:sleep(0.02) end
    T.reply({ init_worker = d:get("init_worker"), init_worker_available = d:get("init_worker_available"),
              timer = d:get("timer"), log = d:get("log"), content_available = require("homie.transport.ngx").available() })
  ]],
}
local RAW = {
  ["/raw/chunked"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Dup: a\r\nx-dup: b\r\n\r\n"
      .. "5;ext=1\r\nhello\r\n6;a=\"b;c\"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
  ]],
  ["/raw/close"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n\r\nall of it, ")
    ngx.sleep(0.05)
    sock:send("until the close")
  ]],
  ["/raw/slow"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhel")
    ngx.sleep(0.35)
    sock:send("lo\r\n3;x=y\r\n!!!\r\n0\r\n\r\n")
  ]],
  ["/t/log"] = {
    conf = [[log_by_lua_block {
      local t = require("homie.transport.ngx").new()
      local ok, err = pcall(t.sleep, t, 0.01)
      ngx.shared.phases:set("log", tostring(err))
    }]],
    lua = "ngx.say('logged')",
  },
  ["/raw/xchunked"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
  ]],
  ["/raw/switch"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n")
  ]],
  -- n bytes of body (a multiple of 10) in one write: 12,000 is three
  -- cosocket pages and more, 6,000 one page and part of a second.
  ["/raw/burst"] = [[
    local n = tonumber(ngx.var.arg_n)
    local sock = assert(ngx.req.socket(true))
    sock:send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " .. n .. "\r\n\r\n"
      .. ("data: xx\n\n"):rep(n / 10))
    ngx.sleep(0.2)
  ]],
  ["/raw/garbage"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("SSH-2.0-OpenSSH\r\n\r\n")
  ]],
}
for path, code in pairs(LOCATIONS) do
  if type(code) == "table" then code.lua = PRELUDE .. code.lua else LOCATIONS[path] = PRELUDE .. code end
end

-- Phase guard: init_worker may not use sockets, but a timer it starts may.
local HTTP = [[
lua_shared_dict phases 1m;
init_worker_by_lua_block {
  local transport = require "homie.transport.ngx"
  local t = transport.new()
  local ok, err = pcall(t.request, t, { method = "GET", url = "http://127.0.0.1:1/", headers = {} })
  ngx.shared.phases:set("init_worker", tostring(err))
  ngx.shared.phases:set("init_worker_available", transport.available())
  ngx.timer.at(0, function()
    local resp, f = t:request({ method = "GET", headers = { ["x-api-key"] = "homie-test-key" },
      url = os.getenv("MOCK_URL") .. "/v1/chats/00000000-0000-0000-0000-000000000000/messages",
      deadline_at = t:now() + 5, connect_timeout = 5 })
    ngx.shared.phases:set("timer", resp and resp.status or f.message)
  end)
}
]]

for path, code in pairs(RAW) do LOCATIONS[path] = code end

describe("ngx transport in nginx", function()
  local server, tls, app, dir

  setup(function()
    dir = sh("mktemp -d /tmp/homie-ngx-tls.XXXXXX")
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      .. "-keyout " .. dir .. "/key.pem -out " .. dir .. "/cert.pem 2>/dev/null")
    LOCATIONS["/t/tls_trusted"].conf = LOCATIONS["/t/tls_trusted"].conf:gsub("@CERT@", dir .. "/cert.pem")
    nginx.build()  -- homie.sse for LuaJIT: the /t/adversary location makes a whole client
    server = mock.start{ chunk_delay_ms = 0 }
    tls = mock.start{ tls_cert = dir .. "/cert.pem", tls_key = dir .. "/key.pem" }
    app = nginx.start{ locations = LOCATIONS, http = HTTP,
      env = { MOCK_URL = server.url, TLS_URL = tls.url, DEAD_PORT = mock.dead_port() } }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
    if tls then tls:stop() end
    if dir then sh("rm -rf " .. dir) end
  end)

  it("talks to every endpoint: statuses, lower-cased headers, bodies", function()
    local r = app:json("/t/endpoints")
    assert.equal(201, r.created)
    assert.is_string(r.request_id)
    assert.truthy(r.content_type:find("application/json", 1, true))
    assert.equal("5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f", r.chat.chatbotId)
    assert.equal(201, r.sent)
    assert.equal("Blue Hoodie", r.reply.products[1].designation)
    assert.equal(200, r.list)
    assert.equal(2, r.items)
    assert.equal(404, r.missing)
    assert.equal(401, r.unauthorized)
    assert.equal("ngx", r.name)
    assert.truthy(r.version:match("^ngx_lua %d+%.%d+%.%d+$"), r.version)
    assert.is_true(math.abs(r.now - socket.gettime()) < 5)
  end)

  it("reuses idle connections, within a request and across requests, but never for a send", function()
    local r = app:json("/t/keepalive")
    assert.equal(r.get1, r.get2)
    assert.are_not.equal(r.get1, r.get_once)
    assert.are_not.equal(r.get1, r.post_once)
    assert.are_not.equal(r.post_once, r.post_once2)  -- a send is never put on a pooled connection
    assert.equal(r.get1, r.get3)
    assert.equal(r.get1, r.stream)                    -- a GET stream may take a pooled one
    assert.are_not.equal(r.stream, r.get4)            -- but, closed half-read, it is not pooled again
    local again = app:json("/t/keepalive_next")
    assert.equal(r.get4, again.conn)
  end)

  it("fails with the kind, sent and retryable the layer above needs", function()
    local r = app:json("/t/failures")
    local function check(name, kind, sent, retryable, text)
      local f = r[name]
      assert.equal(kind, f.kind, name)
      assert.equal(sent, f.sent, name)
      assert.equal(retryable, f.retryable, name)
      if text then assert.truthy(f.message:find(text, 1, true), name .. ": " .. tostring(f.message)) end
    end
    check("refused", "connection", false, true, "cannot connect to 127.0.0.1")
    check("bad_url", "protocol", false, false, "http:// or https://")
    check("no_resolver", "connection", false, false, "add a `resolver` directive")
    check("ca_file", "connection", false, false, "lua_ssl_trusted_certificate")
    check("deadline", "timeout", true, true)
    assert.is_true(r.deadline.took >= 0.25 and r.deadline.took < 2, tostring(r.deadline.took))
    check("max_body", "protocol", true, false, "max_body")
    check("max_body_chunked", "protocol", true, false, "max_body")
    check("reset", "connection", true, true)
    check("mid_body", "connection", true, true, "before the end of the body")
    check("garbage", "protocol", true, true, "malformed status line")
    check("xchunked", "protocol", true, true, "cannot be framed")
    check("switch", "protocol", true, true, "switched protocols (101)")
    assert.equal(503, r.status.status)
    assert.truthy(r.closed:find("homie: attempt to use a closed client", 1, true), r.closed)
  end)

  it("decodes chunked bodies with extensions and trailers, and bodies read to the close", function()
    local r = app:json("/t/framing")
    assert.equal("hello world", r.chunked)
    assert.equal("a, b", r.dup)
    assert.equal(202, r.close_status)
    assert.equal("all of it, until the close", r.close)
  end)

  it("streams bytes as they arrive, an idle read leaving the stream usable", function()
    local r = app:json("/t/slow_stream")
    assert.equal(200, r.status)
    assert.equal("hel", r.pieces[1])
    assert.equal("<idle>", r.pieces[2])
    local rest = {}
    for i = 2, #r.pieces do
      if r.pieces[i] ~= "<idle>" then rest[#rest + 1] = r.pieces[i] end
    end
    assert.same({ "lo", "!!!", "<end>" }, rest)
  end)

  it("hands up what is already waiting in one read, beyond one cosocket page", function()
    for _, n in ipairs({ 12000, 6000 }) do
      local r = app:json("/t/burst?n=" .. n)
      assert.equal(200, r.status)
      assert.equal(n, r.total)
      assert.is_true(r.first > 4096, "first read: " .. r.first .. " bytes")
    end
  end)

  it("reads a stream's resume data, then idles on a live one without losing it", function()
    local r = app:json("/t/stream")
    assert.equal(200, r.status)
    assert.truthy(r.content_type:find("text/event-stream", 1, true))
    for _, want in ipairs({ "retry: 1000", "event: typing", "id: 1\n", "event: chunk", "event: message" }) do
      assert.truthy(r.replay:find(want, 1, true), want)
    end
    assert.truthy(r.first:find("retry: 1000", 1, true), r.first)
    assert.same({ kind = "timeout", idle = true, sent = true, retryable = true, message = r.idle.message }, r.idle)
    assert.equal("connection", r.after_close.kind)
  end)

  it("refuses an unknown certificate, naming lua_ssl_trusted_certificate, and trusts the configured one", function()
    local r = app:json("/t/tls_default")
    assert.equal("connection", r.default.kind)
    assert.is_false(r.default.sent)
    assert.is_false(r.default.retryable)
    assert.truthy(r.default.message:find("lua_ssl_trusted_certificate", 1, true), r.default.message)
    assert.equal(201, r.insecure)
    r = app:json("/t/tls_trusted")
    assert.equal(201, r.status)
    assert.is_true(r.reused)
  end)

  it("refuses an unknown certificate every time, as a failure, never by raising", function()
    local r = app:json("/t/tls_refusals")
    assert.same({}, r.raised)
    assert.same({ ["connection final named"] = 40 }, r.kinds)
  end)

  it("gathers tasks at once and returns what each returned", function()
    local r = app:json("/t/gather")
    assert.same({ 2, 1 }, r.order)
    assert.same({ n = 2, values = { "a", 2 } }, r.r1)
    assert.same({ n = 1, values = { "b" } }, r.r2)
    assert.same({ n = 1, values = { 404 } }, r.r3)
    assert.equal(2, r.r4n)
  end)

  it("stops the other tasks when one raises, closing their streams, and raises", function()
    local r = app:json("/t/gather_raise")
    assert.is_false(r.ok)
    assert.truthy(r.err:find("homie: gather task 2 failed: ", 1, true), r.err)
    assert.truthy(r.err:find("boom", 1, true), r.err)
    assert.is_false(r.finished)
    assert.is_true(r.took < 5, tostring(r.took))
    assert.equal(0, r.streams_open)
  end)

  -- Hang detectors, not timing benchmarks: each call is bounded by
  -- timeout = 2 (deadline = 3); the servers would go on for 20 s.
  describe("bounded by the caller's clock against", function()
    local raw_server = require "spec.support.raw_server"
    local function call(parts, opts)
      local srv = raw_server.start(parts, opts)
      local ok, r = pcall(app.json, app, "/t/adversary?url=" .. srv.url)
      srv:stop()
      assert(ok, r)
      return r
    end

    for _, a in ipairs(raw_server.ADVERSARIES) do
      it(a[1], function() raw_server.assert_bounded(a, call(a[2], a[3])) end)
    end
  end)

  it("refuses phases without sockets, naming the phase and the way out", function()
    assert.equal(200, (app:request("GET", "/t/log")))
    local r
    for _ = 1, 50 do
      r = app:json("/t/phases")
      if r.log then break end
      socket.sleep(0.02)
    end
    for _, phase in ipairs({ "init_worker", "log" }) do
      local msg = r[phase]
      assert.truthy(msg:find("homie: ", 1, true), msg)
      assert.truthy(msg:find("not available in the " .. phase .. " phase", 1, true), msg)
      assert.truthy(msg:find("ngx.timer.at(0, fn)", 1, true), msg)
      assert.truthy(msg:find('transport = "curl"', 1, true), msg)
    end
    assert.is_false(r.init_worker_available)
    assert.is_true(r.content_available)
    assert.equal(404, r.timer)  -- the way out works: a timer may use sockets
  end)
end)
