-- The emulator's control API (/__mock/) is local only: a cross-site
-- text/plain POST is refused (it queues nothing), a Host that is not
-- loopback is refused (DNS rebinding), and bin/homie-mock warns loudly
-- when told to listen on an address that is not loopback.
local mock = require "spec.support.mock"
local socket = require "socket"

describe("the emulator's control API", function()
  local server

  setup(function() server = mock.start{} end)
  teardown(function() if server then server:stop() end end)

  local FAULT = '{"fault":{"status":503}}'

  -- The status of one request written by hand (mock.request would add its
  -- own Host and Content-Type).
  local function raw(method, path, host, ctype, body)
    local c = assert(socket.connect("127.0.0.1", server.port))
    c:settimeout(5)
    local lines = { method .. " " .. path .. " HTTP/1.1", "Host: " .. host, "Connection: close",
      "Content-Length: " .. #(body or "") }
    if ctype then lines[#lines + 1] = "Content-Type: " .. ctype end
    assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
    local line = c:receive("*l")
    c:close()
    return tonumber(line and line:match("^HTTP/1%.1 (%d+)"))
  end
  local function raw_post(path, ctype) return raw("POST", path, "127.0.0.1:" .. server.port, ctype, FAULT) end

  it("takes a POST only as JSON: a simple cross-site POST queues nothing", function()
    server:reset()
    for _, ctype in ipairs({ "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                             "application/jsonp", "text/plain; a=application/json", false }) do
      assert.equal(415, raw_post("/__mock/faults", ctype or nil), tostring(ctype))
      assert.equal(415, raw_post("/__mock/reset", ctype or nil), tostring(ctype))
    end
    assert.equal(0, server:stats().faults_pending)
    assert.equal(201, raw_post("/__mock/faults", "Application/JSON; charset=utf-8"))
    assert.equal(1, server:stats().faults_pending)
    server:reset()
  end)

  it("answers only a loopback Host", function()
    for _, host in ipairs({ "evil.example", "evil.example:" .. server.port, "127.0.0.1.evil.example",
                            "10.0.0.1:" .. server.port, "[::2]:" .. server.port }) do
      assert.equal(403, raw("GET", "/__mock/stats", host), host)
    end
    for _, host in ipairs({ "127.0.0.1:" .. server.port, "localhost:" .. server.port, "LOCALHOST",
                            "[::1]:" .. server.port, "127.1.2.3" }) do
      assert.equal(200, raw("GET", "/__mock/stats", host), host)
    end
  end)

  it("homie-mock warns loudly when its address is not loopback", function()
    -- 192.0.2.1 (TEST-NET-1) is on no interface: the bind fails, nothing
    -- ever listens beyond loopback, and the warning comes before it.
    local out = mock.sh(mock.shq(mock.root .. "/bin/homie-mock") .. " --host 192.0.2.1 --port "
      .. mock.free_port() .. " 2>&1 </dev/null; echo rc=$?")
    assert.truthy(out:find("WARNING: --host 192.0.2.1 is not a loopback address", 1, true), out)
    assert.truthy(out:find("/__mock/ control API", 1, true), out)
    assert.falsy(out:find("rc=0$"), out)
    local log = mock.read_file(server.log) or ""
    assert.truthy(log:find("listening on", 1, true), log)
    assert.falsy(log:find("WARNING", 1, true), log)
  end)
end)
