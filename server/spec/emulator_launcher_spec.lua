-- bin/homie-mock as a process: signals, connection capacity, and the
-- labels of injected bodies.
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local BOT = require("spec.support.fixtures").BOT

local sh, read_file = mock.sh, mock.read_file

local function wait_gone(pid, seconds)
  local deadline = socket.gettime() + seconds
  while mock.alive(pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  return not mock.alive(pid)
end

describe("homie-mock process", function()
  it("removes its prefix when a second signal arrives during shutdown", function()
    for round = 1, 3 do
      local server = mock.start{}
      local prefix = assert(server:prefix())
      local nginx_pid = tonumber(read_file(prefix .. "/nginx.pid"))
      -- An open stream keeps nginx busy for a moment after the first TERM.
      local h = { ["x-api-key"] = server.api_key }
      local id = cjson.decode(select(3, server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), h))).id
      local sock = assert(socket.connect("127.0.0.1", server.port))
      sock:send("GET /v1/chats/" .. id .. "/events HTTP/1.1\r\nHost: x\r\nx-api-key: " .. server.api_key .. "\r\n\r\n")
      sock:settimeout(5)
      assert(sock:receive("*l"))
      os.execute(("kill -TERM %d; sleep 0.0%d; kill -TERM %d"):format(server.pid, round, server.pid))
      assert.is_true(wait_gone(server.pid, 10), "the launcher did not exit")
      sock:close()
      assert.is_true(wait_gone(nginx_pid, 5), "nginx outlived the launcher")
      assert.is_nil(read_file(prefix .. "/nginx.conf"), "round " .. round .. ": the prefix was left behind")
      server:stop()
    end
  end)

  it("sets worker_connections from the open-file limit, at least 10000 when it allows", function()
    local server = mock.start{}
    finally(function() server:stop() end)
    local conf = assert(read_file(server:prefix() .. "/nginx.conf"))
    local wc = tonumber(conf:match("worker_connections%s+(%d+);"))
    local nofile = tonumber(conf:match("worker_rlimit_nofile%s+(%d+);"))
    local hard = sh("ulimit -Hn")
    assert.is_number(wc)
    assert.is_number(nofile)
    assert.is_true(wc < nofile, "each connection needs a descriptor, and nginx some of its own")
    if hard == "unlimited" or tonumber(hard) >= 11000 then
      assert.is_true(wc >= 10000, "worker_connections " .. wc .. " with a hard limit of " .. hard)
    end
  end)

  it("holds 1,100 streams open at once", function()
    local server = mock.start{}
    finally(function() server:stop() end)
    local h = { ["x-api-key"] = server.api_key }
    local id = cjson.decode(select(3, server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), h))).id
    -- A child with the hard open-file limit opens the streams, so this
    -- process's own limit does not matter.
    local script = [[
      local socket = require "socket"
      local port, id, key, n = tonumber(arg[1]), arg[2], arg[3], tonumber(arg[4])
      local socks, ok = {}, 0
      for i = 1, n do
        local s = socket.tcp()
        s:settimeout(5)
        assert(s:connect("127.0.0.1", port))
        s:send("GET /v1/chats/" .. id .. "/events HTTP/1.1\r\nHost: x\r\nx-api-key: " .. key .. "\r\n\r\n")
        socks[i] = s
      end
      for i = 1, n do
        local line = socks[i]:receive("*l")
        if line and line:match("^HTTP/1%.1 200") then ok = ok + 1 end
      end
      io.write(ok, "\n")
      for i = 1, n do socks[i]:close() end
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")) f:write(script) f:close()
    local out = sh(("ulimit -n $(ulimit -Hn) 2>/dev/null; timeout 60 lua5.4 %s %d %s %s 1100 2>&1"):format(
      path, server.port, id, server.api_key))
    os.remove(path)
    if tonumber(sh("ulimit -Hn")) and tonumber(sh("ulimit -Hn")) < 2300 then
      pending("the open-file hard limit is too low for 1,100 streams")
      return
    end
    assert.are.equal("1100", out)
  end)
end)

describe("homie-mock state", function()
  it("when its state is full, forgets the least recently used entries, and never fails with a 500", function()
    local server = mock.start{ state_mb = 1 }
    local homie = require "homie"
    local client = homie.new{ api_key = server.api_key, base_url = server.url, max_retries = 0 }
    local failures, chats = {}, {}
    -- As a load test does it: many chats first, then a message to each.
    for i = 1, 300 do chats[i] = assert(client:create_chat{ chatbotId = BOT }) end
    for i = 1, 300 do
      local reply, err = chats[i]:send("Does the blue hoodie come in size L?", { currentUrl = "https://s/p" })
      -- A forgotten chat is a 404; a state too full even for that says so.
      if not reply and err.status ~= 404 and not (err.status == 507 and err.message:find("--state-mb 1", 1, true)) then
        failures[#failures + 1] = i .. ": " .. tostring(err)
      end
    end
    server:stop()
    assert.are.same({}, failures)
  end)
end)

describe("homie-mock fault bodies", function()
  local server
  setup(function() server = mock.start{} end)
  teardown(function() server:stop() end)

  it("labels a text body text/plain and a table body JSON", function()
    server:fault{ path = "^/v1/chats$", fault = { status = 502, body = "upstream fell over" } }
    local status, headers, body = server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }),
      { ["x-api-key"] = server.api_key })
    assert.are.equal(502, status)
    assert.are.equal("upstream fell over", body)
    assert.matches("^text/plain", headers["content-type"])
    server:fault{ path = "^/v1/chats$", fault = { status = 502, body = { message = "x" } } }
    status, headers = server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }),
      { ["x-api-key"] = server.api_key })
    assert.are.equal(502, status)
    assert.matches("^application/json", headers["content-type"])
    server:fault{ path = "^/v1/chats$", fault = { status = 503, body = "<h1>busy</h1>",
      headers = { ["Content-Type"] = "text/html" } } }
    status, headers = server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }),
      { ["x-api-key"] = server.api_key })
    assert.are.equal(503, status)
    assert.matches("^text/html", headers["content-type"])
  end)
end)
