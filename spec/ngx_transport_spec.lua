-- homie.transport.ngx inside a real nginx (Debian's nginx + its Lua module),
-- against the emulator and raw loopback answers. Each location below runs
-- in nginx and answers JSON that the spec checks here.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"

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
  ["/raw/garbage"] = [[
    local sock = assert(ngx.req.socket(true))
    sock:send("SSH-2.0-OpenSSH\r\n\r\n")
  ]],
}
for path, code in pairs(LOCATIONS) do LOCATIONS[path] = PRELUDE .. code end
for path, code in pairs(RAW) do LOCATIONS[path] = code end

describe("ngx transport in nginx", function()
  local server, app

  setup(function()
    server = mock.start{ chunk_delay_ms = 0 }
    app = nginx.start{ locations = LOCATIONS, env = { MOCK_URL = server.url, DEAD_PORT = mock.free_port() } }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
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
    assert.truthy(r.version:match("^ngx_lua/%d+$"), r.version)
    assert.is_true(math.abs(r.now - socket.gettime()) < 5)
  end)

  it("reuses idle connections, within a request and across requests, but never for a send", function()
    local r = app:json("/t/keepalive")
    assert.equal(r.get1, r.get2)
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
    check("ca_file", "connection", false, false, "lua_ssl_trusted_certificate")
    check("deadline", "timeout", true, true)
    assert.is_true(r.deadline.took >= 0.25 and r.deadline.took < 2, tostring(r.deadline.took))
    check("max_body", "protocol", true, false, "max_body")
    check("max_body_chunked", "protocol", true, false, "max_body")
    check("reset", "connection", true, true)
    check("mid_body", "connection", true, true, "before the end of the body")
    check("garbage", "protocol", true, true, "malformed status line")
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
end)
