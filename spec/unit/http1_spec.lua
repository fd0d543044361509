-- homie.transport.http1: the HTTP/1.1 text the ngx transport speaks, fed
-- bytes in every split a socket could deliver them.
local http1 = require "homie.transport.http1"

-- A fill() over `pieces`; then `tail` ("closed" by default) forever.
local function source(pieces, tail)
  local i = 0
  return function()
    i = i + 1
    if pieces[i] then return pieces[i] end
    return nil, tail or "closed"
  end
end

-- Every way of cutting s into two or three pieces, plus byte by byte.
local function splits(s)
  local out = { { s } }
  for a = 1, #s - 1 do
    out[#out + 1] = { s:sub(1, a), s:sub(a + 1) }
  end
  local bytes = {}
  for i = 1, #s do bytes[i] = s:sub(i, i) end
  out[#out + 1] = bytes
  return out
end

-- Reads a whole response from pieces (or from fill): head, body string,
-- body object, framing, doubtful (framing's third value), the reader.
local function read_all(pieces, method, fill)
  local r = http1.reader(fill or source(pieces))
  local head, err, kind = http1.read_head(r)
  if not head then return nil, err, kind end
  local framing, length, doubtful = http1.framing(method or "GET", head)
  if not framing then return nil, length, "protocol" end
  local body = http1.body(r, framing, length)
  local parts = {}
  while true do
    local data
    data, err, kind = body:next(7)
    if not data then
      if err then return nil, err, kind end
      break
    end
    assert(#data > 0 and #data <= 7)
    parts[#parts + 1] = data
  end
  return head, table.concat(parts), body, framing, doubtful, r
end

describe("http1.parse_url", function()
  it("splits scheme, host, port and target", function()
    local u = assert(http1.parse_url("https://api.example.com/v1/chats?x=1#frag"))
    assert.same({ scheme = "https", host = "api.example.com", port = 443, target = "/v1/chats?x=1",
                  authority = "api.example.com" }, u)
    u = assert(http1.parse_url("http://127.0.0.1:8787"))
    assert.same({ "127.0.0.1", 8787, "/", "127.0.0.1:8787" }, { u.host, u.port, u.target, u.authority })
    u = assert(http1.parse_url("HTTP://[::1]:99?q"))
    assert.same({ "http", "::1", 99, "/?q" }, { u.scheme, u.host, u.port, u.target })
  end)

  it("refuses what it cannot send, saying why", function()
    for url, why in pairs({ ["ftp://x/"] = "http:// or https://", ["http://"] = "no host",
        ["http://u:p@h/"] = "credentials", ["http://h:70000/"] = "port", ["http://h/a b"] = "spaces" }) do
      local u, err = http1.parse_url(url)
      assert.is_nil(u)
      assert.truthy(err:find(why, 1, true), err)
    end
  end)
end)

describe("http1.request_text", function()
  it("writes host, sorted headers and content-length", function()
    local u = assert(http1.parse_url("http://h:81/p?q=1"))
    assert.equal("POST /p?q=1 HTTP/1.1\r\nhost: h:81\r\na: 1\r\nb: 2\r\ncontent-length: 2\r\n\r\n{}",
      http1.request_text("POST", u, { b = "2", a = "1", ["content-length"] = "9" }, "{}"))
    assert.equal("GET /p?q=1 HTTP/1.1\r\nhost: h:81\r\n\r\n", http1.request_text("GET", u, {}))
    assert.equal("POST /p?q=1 HTTP/1.1\r\nhost: h:81\r\ncontent-length: 0\r\n\r\n", http1.request_text("POST", u, {}))
  end)

  -- The text is built in scratch tables shared by every call.
  it("sorts many names, and a shorter request keeps nothing of a longer one", function()
    local u = assert(http1.parse_url("http://h/"))
    local headers, want = {}, { "GET / HTTP/1.1\r\nhost: h\r\n" }
    for i = 1, 12 do
      headers[("x-%02d"):format(13 - i)] = tostring(i)
      want[i + 1] = ("x-%02d: %d\r\n"):format(i, 13 - i)
    end
    headers.Host, headers["Content-Length"] = "other", "3"  -- ours, in any case
    want[#want + 1] = "\r\n"
    assert.equal(table.concat(want), http1.request_text("GET", u, headers))
    assert.equal("GET / HTTP/1.1\r\nhost: h\r\nb: 1\r\n\r\n", http1.request_text("GET", u, { b = "1" }))
  end)

  it("keeps no hold on a body once its text is made", function()
    local u = assert(http1.parse_url("http://h/"))
    local function send() return #http1.request_text("POST", u, {}, string.rep("x", 8 * 1024 * 1024)) end
    -- LuaJIT keeps its string buffer (16 MB after this text) and halves it
    -- at each full collection: eight bring it under the 1 MB allowed.
    local function collect() for _ = 1, 8 do collectgarbage() end end
    collect()
    local before = collectgarbage("count")
    assert.is_true(send() > 8 * 1024 * 1024)
    collect()
    assert.is_true(collectgarbage("count") - before < 1024, "KB kept: " .. (collectgarbage("count") - before))
  end)
end)

describe("http1 responses", function()
  it("reads a Content-Length body in any split, headers lower-cased and joined", function()
    local text = "HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 11\r\nx-a:  2 \r\n\r\nhello world"
    for _, pieces in ipairs(splits(text)) do
      local head, body, b, framing = read_all(pieces)
      assert.equal(201, head.status)
      assert.equal("1, 2", head.headers["x-a"])
      assert.equal("hello world", body)
      assert.equal("length", framing)
      assert.is_true(b:done())
      assert.is_true(http1.keepalive(head, framing))
    end
  end)

  it("decodes chunked bodies with extensions and reads the trailers", function()
    local text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "5;name=value\r\nhello\r\n1 ; a=\"b;c\"\r\n \r\n0A\r\n0123456789\r\n0;last\r\nX-Trailer: yes\r\n\r\n"
    for _, pieces in ipairs(splits(text)) do
      local head, body, b, framing = read_all(pieces)
      assert.equal("chunked", framing)
      assert.equal("hello 0123456789", body)
      assert.same({ ["x-trailer"] = "yes" }, b.trailers)
      assert.is_true(http1.keepalive(head, framing))
    end
  end)

  it("reads to close when the body has no length, and then forbids keep-alive", function()
    local head, body, _, framing = read_all({ "HTTP/1.1 200 OK\r\n\r\nall ", "of it" })
    assert.equal("close", framing)
    assert.equal("all of it", body)
    assert.is_false(http1.keepalive(head, framing))
  end)

  it("skips 1xx answers and knows bodiless answers", function()
    local head, body = read_all({ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" })
    assert.equal(204, head.status)
    assert.equal("", body)
    head, body = read_all({ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" }, "HEAD")
    assert.equal(200, head.status)
    assert.equal("", body)
  end)

  it("honours Connection: close and HTTP/1.0", function()
    local head = read_all({ "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n" })
    assert.is_false(http1.keepalive(head, "length"))
    head = read_all({ "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n" })
    assert.is_false(http1.keepalive(head, "length"))
    head = read_all({ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n" })
    assert.is_true(http1.keepalive(head, "length"))
  end)

  it("names malformed input as a protocol failure", function()
    local cases = {
      { "SSH-2.0-x\r\n\r\n", "malformed status line" },
      { "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line" },
      { "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", "malformed content-length" },
      { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size" },
      { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "longer than its size" },
      { "HTTP/1.1 200 OK\r\nX: " .. ("a"):rep(20000) .. "\r\n\r\n", "line too long" },
    }
    for _, c in ipairs(cases) do
      local head, err, kind = read_all({ c[1] })
      assert.is_true(head == nil, c[2])
      assert.equal("protocol", kind)
      assert.truthy(err:find(c[2], 1, true), err)
    end
  end)

  it("reports a body cut short as the connection's failure", function()
    local head, err, kind = read_all({ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" })
    assert.is_nil(head)
    assert.is_nil(kind)
    assert.truthy(err:find("before the end of the body", 1, true))
    head, err = read_all({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab" })
    assert.is_nil(head)
    assert.truthy(err:find("before the end of the body", 1, true))
  end)

  it("resumes after a timeout in the middle of a line without losing bytes", function()
    local pieces = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1", false, "0\r\n0123", false,
                     "456789abcdef\r\n0\r\n\r\n" }
    local i = 0
    local r = http1.reader(function()
      i = i + 1
      if pieces[i] == false then return nil, "timeout" end
      if pieces[i] then return pieces[i] end
      return nil, "closed"
    end)
    local head = assert(http1.read_head(r))
    local body = http1.body(r, http1.framing("GET", head))
    local got, timeouts = {}, 0
    for _ = 1, 20 do
      local data, err = body:next(100)
      if data then got[#got + 1] = data
      elseif err == "timeout" then timeouts = timeouts + 1
      else assert.is_nil(err); break end
    end
    assert.equal(2, timeouts)
    assert.equal("0123456789abcdef", table.concat(got))
    assert.is_true(body:done())
  end)
end)

-- The vectors of spec/fixtures/http1/responses.lua (converted from llhttp's
-- response tests, plus our own), each fed whole, byte by byte and split at
-- every point (inputs over 4 KiB: at 64 points spread over them, as every
-- point would take minutes).
describe("http1 response vectors", function()
  local vectors = dofile("spec/fixtures/http1/responses.lua")

  -- What reading the whole answer from pieces gives: a table to compare.
  -- keepalive: the server allows it and no byte is left over, received or
  -- still to come (a split may leave the extra bytes unreceived when the
  -- body ends; pooled they would desync the next answer, so the cases that
  -- have them say keepalive = false).
  local function outcome(pieces, method)
    local taken, fill = 0, source(pieces)
    local head, body, b, framing, doubtful, r = read_all(pieces, method, function()
      taken = taken + 1
      return fill()
    end)
    if not head then return { error = body, kind = b } end
    return { status = head.status, headers = head.headers, body = body, trailers = b.trailers,
             keepalive = http1.keepalive(head, framing, doubtful) and r:pending() == 0 and taken >= #pieces }
  end

  local function cuts(s)
    local out = { { s } }
    local bytes = {}
    for i = 1, #s do bytes[i] = s:sub(i, i) end
    out[#out + 1] = bytes
    local step = #s > 4096 and math.floor(#s / 64) or 1
    for a = 1, #s - 1, step do out[#out + 1] = { s:sub(1, a), s:sub(a + 1) } end
    return out
  end

  local function check(v, got, how)
    local where = v.name .. " (" .. how .. ")"
    if v.error then
      assert.is_nil(got.status, where .. ": should fail")
      assert.truthy(got.error and got.error:find(v.error, 1, true), where .. ": " .. tostring(got.error))
      if v.cut then assert.is_nil(got.kind, where) else assert.equal("protocol", got.kind, where) end
      return
    end
    assert.is_nil(got.error, where)
    assert.equal(v.status, got.status, where)
    for name, value in pairs(v.headers or {}) do assert.equal(value, got.headers[name], where .. ": " .. name) end
    assert.equal(v.body, got.body, where)
    if v.trailers then assert.same(v.trailers, got.trailers, where) end
    assert.equal(v.keepalive, got.keepalive, where .. ": keep-alive")
  end

  it("every case is run or says why not, and names where it comes from", function()
    local run, skipped = 0, 0
    for _, v in ipairs(vectors) do
      assert.truthy(v.from or v.own, v.name)
      if v.skip then
        skipped = skipped + 1
        assert.truthy(#v.skip > 20, v.name)
      else
        run = run + 1
        assert.truthy(v.raw and (v.error or v.status), v.name)
      end
    end
    assert.is_true(run >= 90, tostring(run))
  end)

  for _, v in ipairs(vectors) do
    if not v.skip then
      it(v.name, function()
        for n, pieces in ipairs(cuts(v.raw)) do
          check(v, outcome(pieces, v.method), n == 1 and "whole" or n == 2 and "byte by byte" or "split " .. #pieces[1])
        end
      end)
    end
  end
end)

-- homie.transport.h1 over a scripted socket: what it pools, what deadline
-- every receive gets, what it sends.
describe("h1 exchange", function()
  local h1 = require "homie.transport.h1"

  -- A runtime whose one connection answers `pieces` (false: a timeout).
  local function runtime(pieces, opts)
    opts = opts or {}
    local rt = { clock = 100, conns = {}, deadlines = {}, sent = {} }
    function rt.now() return rt.clock end
    function rt.connect(_, u, req, fresh, ends_at)
      rt.connected = { u = u, fresh = fresh, ends_at = ends_at, req = req }
      if opts.refuse then return nil, h1.fail("connection", "refused", false) end
      local i = 0
      local conn = {}
      function conn.send(_, data, deadline_at)
        rt.sent[#rt.sent + 1] = { data = data, deadline_at = deadline_at }
        if opts.send_fails then return nil, "closed" end
        return true
      end
      function conn.receive(_, deadline_at)
        rt.deadlines[#rt.deadlines + 1] = deadline_at
        i = i + 1
        if pieces[i] == false then return nil, "timeout" end
        if pieces[i] then return pieces[i] end
        return nil, "closed"
      end
      function conn.finish(self, reuse)
        if self.done then return end
        self.done, rt.finished = true, reuse
      end
      rt.conns[#rt.conns + 1] = conn
      return conn
    end
    return rt
  end

  local function req(fields)
    local r = { method = "GET", url = "http://h/p", headers = {}, deadline_at = 105, connect_timeout = 2 }
    for k, v in pairs(fields or {}) do r[k] = v end
    return r
  end

  local function request(pieces, fields, opts)
    local rt = runtime(pieces, opts)
    local r = req(fields)
    local u = assert(h1.prepare(r))
    local resp, f = h1.request(rt, u, r)
    return rt, resp, f
  end

  it("pools a connection whose answer was framed and read to its end", function()
    local rt, resp = request({ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
    assert.equal("ok", resp.body)
    assert.is_true(rt.finished)
  end)

  it("never pools with bytes left unread, framing in doubt, or the server's close", function()
    for _, text in ipairs({
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 200 OK\r\n\r\nok",
    }) do
      local rt, resp = request({ text })
      assert.equal("ok", resp.body, text)
      assert.is_false(rt.finished, text)
    end
  end)

  it("closes the connection on a 101 and on an unknown transfer coding", function()
    for _, text in ipairs({ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" }) do
      local rt, resp, f = request({ text })
      assert.is_nil(resp)
      assert.equal("protocol", f.kind)
      assert.is_true(f.sent)
      assert.is_false(rt.finished)
    end
  end)

  it("connects by the earlier of connect_timeout and the deadline, then reads by the deadline", function()
    local rt, resp = request({ "HTTP/1.1 200 OK\r\n", "Content-Length: 2\r\n\r\n", "o", "k" })
    assert.equal("ok", resp.body)  -- a body in pieces is read whole
    assert.equal(102, rt.connected.ends_at)
    assert.equal(105, rt.sent[1].deadline_at)
    assert.same({ 105, 105, 105, 105 }, rt.deadlines)
    rt = request({ "HTTP/1.1 204 No Content\r\n\r\n" }, { deadline_at = 101 })
    assert.equal(101, rt.connected.ends_at)
  end)

  it("raises for a method that is not an upper-case word, before or after a good one", function()
    for _, m in ipairs({ "GET", "get", "GET ", 5, "POST", false }) do
      local r = req()
      r.method = m or nil
      local ok, err = pcall(h1.prepare, r)
      if m == "GET" or m == "POST" then
        assert.is_true(ok, err)
      else
        assert.is_false(ok, tostring(m))
        assert.truthy(tostring(err):find("homie: transport request needs an upper-case method", 1, true), err)
      end
    end
  end)

  it("sends a request that must not go twice on a fresh connection", function()
    local rt = request({ "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n" },
      { method = "POST", body = "{}", idempotent = false })
    assert.is_true(rt.connected.fresh)
    assert.equal("POST /p HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\n{}", rt.sent[1].data)
    rt = request({ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" })
    assert.is_false(rt.connected.fresh)
  end)

  it("says what failed, and whether the request may have been sent", function()
    local _, _, f = request({}, nil, { refuse = true })
    assert.same({ "connection", false }, { f.kind, f.sent })
    _, _, f = request({}, nil, { send_fails = true })
    assert.same({ "connection", true }, { f.kind, f.sent })
    assert.truthy(f.message:find("sending the request", 1, true))
    _, _, f = request({ "HTTP/1.1 200 OK\r\n", false })
    assert.same({ "timeout", true, true }, { f.kind, f.sent, f.retryable })
    _, _, f = request({ "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" }, { max_body = 4 })
    assert.same({ "protocol", false }, { f.kind, f.retryable })
    assert.truthy(f.message:find("max_body", 1, true))
    -- No length to refuse up front: the first piece read is already too much.
    for _, chunks in ipairs({ "9\r\n123456789\r\n0\r\n\r\n", "2\r\n12\r\n7\r\n3456789\r\n0\r\n\r\n" }) do
      _, _, f = request({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. chunks }, { max_body = 4 })
      assert.same({ "protocol", false }, { f.kind, f.retryable })
      assert.truthy(f.message:find("larger than max_body (4 bytes)", 1, true), f.message)
    end
  end)

  it("streams: a read past its deadline is idle and loses nothing", function()
    local rt = runtime({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", false, "c\r\n0\r\n\r\n" })
    local r = req()
    local s = assert(h1.open(rt, assert(h1.prepare(r)), r))
    assert.equal(102, rt.sent[1].deadline_at)  -- a stream's send is bounded like its connect
    assert.equal(200, (s:head(110)))
    assert.equal("ab", s:read(111))
    local data, f = s:read(112)
    assert.is_nil(data)
    assert.is_true(f.idle)
    assert.equal("c", s:read(113))
    assert.is_nil(s:read(114))
    assert.same({ 110, 112, 113 }, rt.deadlines)  -- the socket is asked only when the buffer runs dry
    assert.is_true(rt.finished)
  end)

  it("streams: closed half-read, never pooled, and reads after fail", function()
    local rt = runtime({ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab" })
    local r = req()
    local s = assert(h1.open(rt, assert(h1.prepare(r)), r))
    assert.equal("ab", s:read(110))
    s:close()
    assert.is_false(rt.finished)
    local data, f = s:read(111)
    assert.is_nil(data)
    assert.equal("connection", f.kind)
  end)
end)
