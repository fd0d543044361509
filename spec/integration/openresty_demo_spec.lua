-- scripts/openresty-demo refuses what it cannot serve: a port another
-- program already listens on (else its URL would show that program), and a
-- port that is not a number. Both before anything is started.
local mock = require "spec.support.mock"
local socket = require "socket"

local function demo(args)
  local out = os.tmpname()
  local cmd = "cd " .. mock.shq(mock.root) .. " && timeout 20 scripts/openresty-demo " .. args .. " >" .. out .. " 2>&1"
  local ok, _, code = os.execute(cmd)
  local text = mock.read_file(out) or ""
  os.remove(out)
  return (ok == true and 0 or code), text
end

describe("scripts/openresty-demo", function()
  it("refuses a port another program listens on, naming it, with a non-zero exit", function()
    local holder = assert(socket.bind("127.0.0.1", 0))
    local port = select(2, holder:getsockname())
    local code, text = demo("--port " .. port)
    holder:close()
    assert.equal(1, code, text)
    assert.truthy(text:find("cannot listen on 127.0.0.1:" .. port .. ": address already in use", 1, true), text)
    assert.truthy(text:find("pick a free one with --port", 1, true), text)
    assert.falsy(text:find("storefront:", 1, true), text)
  end)

  it("refuses a taken --mock-port the same way", function()
    local holder = assert(socket.bind("127.0.0.1", 0))
    local port = select(2, holder:getsockname())
    local code, text = demo("--port " .. mock.free_port() .. " --mock-port " .. port)
    holder:close()
    assert.equal(1, code, text)
    assert.truthy(text:find("127.0.0.1:" .. port, 1, true), text)
    assert.truthy(text:find("with --mock-port", 1, true), text)
  end)

  it("refuses a port that is not a number", function()
    local code, text = demo("--port 80x")
    assert.equal(2, code, text)
    assert.truthy(text:find("'80x' is not a port number", 1, true), text)
  end)
end)
