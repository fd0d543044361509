-- What the SDK puts on the wire, seen by a one-shot loopback server in a
-- child process: it records the request head and sends a canned answer.
local homie = require "homie"

local BOT = require("spec.support.fixtures").BOT

local SERVER = [[
local socket = require "socket"
local dir = arg[1]
local s = assert(socket.bind("127.0.0.1", 0))
local _, port = s:getsockname()
io.write(port, "\n") io.flush()
s:settimeout(10)
local c = assert(s:accept())
c:settimeout(10)
local head = {}
while true do
  local line = assert(c:receive("*l"))
  if line == "" then break end
  head[#head + 1] = line
end
local len = 0
for _, l in ipairs(head) do len = tonumber(l:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")) or len end
local body = len > 0 and c:receive(len) or ""
local f = assert(io.open(dir .. "/request", "wb")) f:write(table.concat(head, "\n"), "\n\n", body) f:close()
local r = assert(io.open(dir .. "/response", "rb")) local resp = r:read("a") r:close()
c:send(resp)
c:close()
]]

local sh = require("spec.support.mock").sh

-- Starts the server answering the bytes `resp` as they are; returns its
-- base URL and a function giving the recorded request (and cleaning up).
local function serve(resp)
  local dir = sh("mktemp -d")
  local f = assert(io.open(dir .. "/response", "wb")) f:write(resp) f:close()
  f = assert(io.open(dir .. "/server.lua", "wb")) f:write(SERVER) f:close()
  local proc = assert(io.popen("lua5.4 " .. dir .. "/server.lua " .. dir))
  local port = assert(proc:read("*l"), "one-shot server did not start")
  return "http://127.0.0.1:" .. port, function()
    proc:close()
    local r = assert(io.open(dir .. "/request", "rb"))
    local s = r:read("a")
    r:close()
    os.execute("rm -rf " .. dir)
    return s
  end
end

-- A 201 with `body` (bytes) and extra response header lines.
local function one_shot(body, headers)
  return serve("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nConnection: close\r\n" .. (headers or "") .. "\r\n" .. body)
end

describe("on the wire", function()
  it("sends the key, JSON, our User-Agent with the caller's suffix, and accepts gzip", function()
    local json = '{"id":"c0ffee00-0000-4000-8000-000000000000","chatbotId":"' .. BOT
      .. '","userId":null,"organizationId":"o","createdAt":"2025-07-08T16:32:11Z"}'
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb")) f:write(json) f:close()
    local p = assert(io.popen("gzip -c " .. tmp))
    local bytes = p:read("a")
    p:close()
    os.remove(tmp)
    assert.are.equal("\31\139", bytes:sub(1, 2))  -- gzip magic: the body really is compressed
    local url, request = one_shot(bytes, "Content-Encoding: gzip\r\n")
    local client = homie.new{ api_key = "wire-key", base_url = url, user_agent = "shop/2.1",
      headers = { ["X-Shop"] = "north" } }
    local chat, err = client:create_chat{ chatbotId = BOT }
    local seen = request()
    assert.is_nil(err)
    assert.are.equal("c0ffee00-0000-4000-8000-000000000000", chat.id)
    assert.is_nil(chat.userId)
    assert.matches("^POST /v1/chats HTTP/1%.1\n", seen)
    assert.matches("\nx%-api%-key: wire%-key\n", seen)
    assert.matches("\nContent%-Type: application/json\n", seen)
    assert.matches("\nAccept%-Encoding: [^\n]*gzip", seen)
    assert.matches("\nUser%-Agent: homie%-lua/[%d.]+ %(Lua 5%.%d; libcurl [%d.]+%) shop/2%.1\n", seen)
    assert.matches("\nX%-Shop: north\n", seen)
    assert.is_nil(seen:find("Expect:", 1, true))
    assert.matches('\n\n{"chatbotId":"' .. BOT:gsub("%-", "%%-") .. '"}$', seen)
  end)

  it("sends a bearer token when asked, and percent-encodes the store", function()
    local url, request = one_shot('{"id":"m","chatId":"c","type":"answer","content":"ok","createdAt":"t"}')
    local client = homie.new{ api_key = "tok-1", base_url = url, auth = "bearer" }
    local reply = assert(client:send_message(BOT, "Größe L?", { currentUrl = "https://s/p?a=1", store = "north & co" }))
    local seen = request()
    assert.are.equal("ok", reply.content)
    assert.matches("^POST /v1/chats/" .. BOT:gsub("%-", "%%-") .. "/messages%?store=north%%20%%26%%20co HTTP/1%.1\n", seen)
    assert.matches("\nAuthorization: Bearer tok%-1\n", seen)
    assert.is_nil(seen:find("x-api-key", 1, true))
    assert.matches('"message":"Größe L%?"', seen)
  end)
end)

describe("reading the wire (homie.curl)", function()
  local curl = require "homie.curl"
  local now = require("homie.sse").now

  -- One transfer against `resp`; returns the finished request and what the
  -- server saw.
  local function fetch(resp, opts)
    local url, request = serve(resp)
    local m = curl.multi()
    local o = { url = url .. "/x" }
    for k, v in pairs(opts or {}) do o[k] = v end
    local r = m:request(o)
    assert.is_nil(r:status()) -- nothing known before the head
    local give_up = now() + 10
    while not r:done() do
      assert(now() < give_up, "the transfer did not finish")
      m:step(0.05)
    end
    return r, request(), m
  end

  it("reports the final response's head only, after informational ones", function()
    local r, _, m = fetch("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      .. "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\nConnection: close\r\n\r\nok")
    assert.are.equal(200, r:status())
    assert.is_true(r:headers_done())
    local h = r:headers()
    assert.are.equal("yes", h["x-final"])
    assert.is_nil(h.link)
    assert.are.equal("ok", r:body())
    m:close()
  end)

  it("lower-cases names, trims values and joins repeated headers with a comma", function()
    -- A name longer than the 64 bytes lower-cased on the stack takes the
    -- other path (lrequest.c): lower-cased all the same.
    local long = "X-" .. ("Long-Name"):rep(10)
    local r, _, m = fetch("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Tag:  a \t\r\nx-tag: b\r\n"
      .. long .. ": v\r\nX-Empty:\r\nno colon here\r\nConnection: close\r\n\r\n")
    local h = r:headers()
    assert.are.equal("v", h[long:lower()])
    assert.are.equal("a, b", h["x-tag"])
    assert.are.equal("", h["x-empty"])
    assert.are.equal("0", h["content-length"])
    for name in pairs(h) do assert.are.equal(name:lower(), name) end
    assert.is_nil(h["no colon here"])
    m:close()
  end)

  it("sends the method, the body with its NUL bytes, the headers and the user agent as given", function()
    local r, seen, m = fetch("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
      { method = "DELETE", body = "a\0b", headers = { "X-One: 1" }, user_agent = "probe/1" })
    assert.are.equal(204, r:status())
    assert.matches("^DELETE /x HTTP/1%.1\n", seen)
    assert.matches("\nX%-One: 1\n", seen)
    assert.matches("\nUser%-Agent: probe/1\n", seen)
    assert.matches("\nContent%-Length: 3\n", seen)
    assert.are.equal("a\0b", seen:match("\n\n(.*)$"))
    m:close()
  end)

  it("asks for compressed answers unless told not to", function()
    local ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    local _, seen, m = fetch(ok)
    assert.matches("\nAccept%-Encoding: [^\n]*gzip", seen)
    m:close()
    _, seen, m = fetch(ok, { accept_encoding = false })
    assert.is_nil(seen:find("Accept-Encoding", 1, true))
    m:close()
  end)
end)
