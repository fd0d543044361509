-- TLS host name verification on the curl transport (README "TLS and
-- proxies": verification is on). A certificate signed by a trusted CA is
-- still refused when it was issued for another host name. The CA and both
-- server certificates are made here with openssl, for this run only.
local homie = require "homie"
local mock = require "spec.support.mock"
local BOT = require("spec.support.fixtures").BOT

local sh, shq = mock.sh, mock.shq

-- A CA, and a server certificate it signs for `san` (subjectAltName).
local function issue(dir, name, san)
  local key, csr, cert, ext = dir .. "/" .. name .. ".key", dir .. "/" .. name .. ".csr",
    dir .. "/" .. name .. ".pem", dir .. "/" .. name .. ".ext"
  local f = assert(io.open(ext, "wb"))
  f:write("subjectAltName=" .. san .. "\n")
  f:close()
  sh(("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=%s -keyout %s -out %s 2>&1")
    :format(name, shq(key), shq(csr)))
  sh(("openssl x509 -req -days 1 -in %s -CA %s -CAkey %s -CAcreateserial -extfile %s -out %s 2>&1")
    :format(shq(csr), shq(dir .. "/ca.pem"), shq(dir .. "/ca.key"), shq(ext), shq(cert)))
  assert(mock.read_file(cert), "openssl made no certificate for " .. name)
  return cert, key
end

describe("TLS on the curl transport", function()
  local dir, ca, right, wrong

  setup(function()
    dir = sh("mktemp -d /tmp/homie-tls.XXXXXX")
    assert(dir ~= "", "mktemp failed")
    ca = dir .. "/ca.pem"
    sh(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      .. "-subj /CN=homie-test-ca -keyout %s -out %s 2>&1"):format(shq(dir .. "/ca.key"), shq(ca)))
    assert(mock.read_file(ca), "openssl made no CA")
    local cert, key = issue(dir, "loopback", "IP:127.0.0.1")
    right = mock.start{ tls_cert = cert, tls_key = key }
    cert, key = issue(dir, "wrong.example", "DNS:wrong.example")
    wrong = mock.start{ tls_cert = cert, tls_key = key }
  end)

  teardown(function()
    if right then right:stop() end
    if wrong then wrong:stop() end
    if dir and dir ~= "" then sh("rm -rf " .. shq(dir)) end
  end)

  local function client(server, opts)
    local o = { api_key = server.api_key, base_url = server.url, ca_file = ca, transport = "curl" }
    for k, v in pairs(opts or {}) do o[k] = v or nil end -- false: leave it out
    return homie.new(o)
  end

  it("trusts a certificate the CA file signed for the host it connects to", function()
    local c = client(right)
    local chat, err = c:create_chat{ chatbotId = BOT }
    assert.is_nil(err)
    assert.is_string(chat.id)
    c:close()
  end)

  it("refuses the right host's certificate when its CA is not trusted", function()
    local c = client(right, { ca_file = false })
    local chat, err = c:create_chat{ chatbotId = BOT }
    assert.is_nil(chat)
    assert.are.equal("connection", err.kind)
    assert.matches("^TLS: ", err.message)
    c:close()
  end)

  it("trusts a CA found in ca_path (a hashed directory)", function()
    local hashed = dir .. "/hashed"
    sh(("mkdir -p %s && cp %s %s/ && openssl rehash %s 2>&1"):format(shq(hashed), shq(ca), shq(hashed), shq(hashed)))
    local c = client(right, { ca_file = false, ca_path = hashed })
    assert(c:create_chat{ chatbotId = BOT })
    c:close()
  end)

  it("refuses a certificate the same CA signed for another host name, without retrying", function()
    local c = client(wrong)
    local chat, err = c:create_chat{ chatbotId = BOT }
    assert.is_nil(chat)
    assert.are.equal("connection", err.kind)
    assert.matches("^TLS: .*host name", err.message) -- libcurl names the mismatch
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    local page, lerr = c:list_messages("00000000-0000-4000-8000-000000000000")
    assert.is_nil(page)
    assert.are.equal("connection", lerr.kind)
    c:close()
  end)

  it("accepts it only when verification is turned off by name", function()
    local c = client(wrong, { insecure = true })
    assert(c:create_chat{ chatbotId = BOT })
    c:close()
  end)
end)
