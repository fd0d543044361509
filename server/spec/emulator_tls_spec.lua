-- bin/homie-mock --tls: a self-signed certificate made at start (its path
-- printed), HTTPS with h2 offered by ALPN; --no-http2 keeps HTTP/1.1 only.
-- The SDK's ca_file trusts it unchanged.
local homie = require "homie"
local curl = require "homie.curl"
local mock = require "spec.support.mock"
local BOT = require("spec.support.fixtures").BOT

-- One GET with homie.curl straight, trusting only ca_file: status, the
-- version libcurl negotiated, and the protocol the server saw.
local function get(server, ca_file)
  local m = curl.multi()
  local r = m:request{ url = server.url .. "/v1/chats", ca_file = ca_file, timeout = 10,
    headers = { "x-api-key: " .. server.api_key } }
  while not r:done() do m:step(0.1) end
  local kind, msg = r:error()
  local out = { status = r:status(), version = r:info().http_version, error = kind and (kind .. ": " .. msg),
    protocol = r:headers()["x-homie-mock-protocol"] }
  r:close()
  m:close()
  return out
end

describe("homie-mock --tls", function()
  local server
  setup(function() server = mock.start{ tls = true } end)
  teardown(function() if server then server:stop() end end)

  it("prints the path of the certificate it made, inside its prefix", function()
    assert.matches("^https://127%.0%.0%.1:%d+$", server.url)
    assert.is_string(server.ca_file)
    assert.is_truthy(mock.read_file(server.ca_file):find("BEGIN CERTIFICATE", 1, true))
    assert.are.equal(1, server.ca_file:find(server:prefix(), 1, true))
  end)

  it("answers over h2 to a client trusting that file", function()
    local r = get(server, server.ca_file)
    assert.is_nil(r.error)
    assert.are.equal(405, r.status) -- /v1/chats takes POST only: an answer from the emulator itself
    assert.are.equal("2", r.version)
    assert.are.equal("HTTP/2.0", r.protocol)
  end)

  it("is refused by a client that does not trust it", function()
    local r = get(server, "/dev/null")
    assert.matches("^tls: ", r.error)
  end)

  it("serves the SDK with ca_file, unchanged", function()
    local c = homie.new{ api_key = server.api_key, base_url = server.url, ca_file = server.ca_file, transport = "curl" }
    local chat = assert(c:create_chat{ chatbotId = BOT })
    assert.is_string(chat.id)
    c:close()
  end)
end)

describe("homie-mock --tls --no-http2", function()
  it("answers over HTTP/1.1 only", function()
    local server = mock.start{ tls = true, no_http2 = true }
    local r = get(server, server.ca_file)
    server:stop()
    assert.is_nil(r.error)
    assert.are.equal("1.1", r.version)
    assert.are.equal("HTTP/1.1", r.protocol)
  end)
end)

describe("homie-mock options", function()
  it("refuses --tls together with --tls-cert", function()
    local out = mock.sh(mock.shq(mock.root .. "/bin/homie-mock") .. " --tls --tls-cert /dev/null --tls-key /dev/null 2>&1")
    assert.matches("either %-%-tls or %-%-tls%-cert", out)
  end)
end)
