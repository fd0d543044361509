-- A loopback TLS proxy in a child process that passes bytes both ways
-- unchanged, except that on each connection the server's first record of
-- application data (TLS 1.2: the first after the handshake, such as h2's
-- SETTINGS) and all after it are held `delay` seconds, once. It plays a
-- server that is slow to speak once the handshake is done.
--
--   local proxy = delay_proxy.start{ port = server.port, delay = 0.3 }
--   proxy.port; proxy:stop()
local child = require "spec.support.child_server"

local M = {}

local CHILD = [==[
local conns, socks = {}, { s }  -- conns[sock] = the connection's state
local function send_all(sock, data)
  local i = 1
  while i <= #data do
    local n, err, last = sock:send(data, i)
    if n then return true end
    if err ~= "timeout" then return false end
    i = last + 1
    socket.select(nil, { sock }, 1)
  end
  return true
end
local function drop(c)
  for _, x in ipairs({ c.client, c.server }) do
    conns[x] = nil
    for i = #socks, 1, -1 do if socks[i] == x then table.remove(socks, i) end end
    x:close()
  end
end
local function accept()
  local client = s:accept()
  if not client then return end
  local server = socket.tcp()
  server:settimeout(5)
  if not server:connect("127.0.0.1", math.floor(cfg.port)) then client:close() return end
  client:settimeout(0)
  server:settimeout(0)
  local c = { client = client, server = server, buf = "" }
  conns[client], conns[server] = c, c
  socks[#socks + 1], socks[#socks + 2] = client, server
end
while socket.gettime() < stop_at do
  local readable = socket.select(socks, nil, 0.01)
  for _, x in ipairs(readable) do
    if x == s then accept()
    elseif conns[x] then
      local c = conns[x]
      local data, err, partial = x:receive(65536)
      data = data or partial
      if data and #data > 0 then
        local to = x == c.client and c.server or c.passed and c.client
        if to then
          if not send_all(to, data) then drop(c) end
        elseif c.held then c.held[#c.held + 1] = data
        else
          -- Whole records pass until one of application data (type 23).
          c.buf = c.buf .. data
          while #c.buf >= 5 do
            if c.buf:byte(1) == 23 then
              c.release_at, c.held, c.buf = socket.gettime() + cfg.delay, { c.buf }, ""
              break
            end
            local size = 5 + c.buf:byte(4) * 256 + c.buf:byte(5)
            if #c.buf < size then break end
            if not send_all(c.client, c.buf:sub(1, size)) then drop(c) break end
            c.buf = c.buf:sub(size + 1)
          end
        end
      end
      if err == "closed" and conns[x] then drop(c) end
    end
  end
  local now = socket.gettime()
  for x, c in pairs(conns) do
    if x == c.server and c.held and now >= c.release_at then
      local held = table.concat(c.held)
      c.held, c.passed = nil, true
      if not send_all(c.client, held) then drop(c) end
    end
  end
end
]==]

function M.start(opts)
  return child.start("delay", CHILD, { port = opts.port, delay = opts.delay or 0.3, lifetime = opts.lifetime or 60 })
end

return M
