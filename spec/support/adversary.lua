-- A hostile loopback HTTP server in a child process: every connection gets
-- the same script of raw bytes and pauses, so a spec can stall or drip a
-- response at any phase (silence after accept, mid status line, mid
-- headers, endless 1xx heads, mid body, mid chunk-size line, mid event).
-- Connections are served side by side (a select loop), so a stalled one
-- does not hold up the next. The child exits by itself after `lifetime`
-- seconds (default 30).
--
--   local srv = adversary.start{ "HTTP/1.1 2", { drip = "00 OK\r\n", every = 0.5 }, { stall = true } }
--   srv.url; srv:stop()
--
-- Steps: a string is written at once; { pause = s }; { drip = bytes, every = s }
-- writes one byte each `every` seconds; { ["repeat"] = bytes, every = s } writes
-- bytes again and again; { stall = true } keeps the connection open, silent.
local child = require "spec.support.child_server"

local M = {}

local CHILD = [==[
s:settimeout(0)
local conns = {}
-- A connection: its socket, the request read so far, the step it is at,
-- the byte within a drip, and when it may act next.
while socket.gettime() < stop_at do
  local c = s:accept()
  if c then
    c:settimeout(0)
    conns[#conns + 1] = { sock = c, req = "", step = 0, at = 0, byte = 1 }
  end
  local now = socket.gettime()
  for i = #conns, 1, -1 do
    local k = conns[i]
    if k.step == 0 then
      local data, _, part = k.sock:receive(4096)
      k.req = k.req .. (data or part or "")
      if k.req:find("\r\n\r\n", 1, true) then k.step = 1 end
    elseif k.at <= now then
      local st = cfg.steps[k.step]
      if st == nil then
        k.sock:close()
        table.remove(conns, i)
      elseif type(st) == "string" then
        k.sock:send(st)
        k.step = k.step + 1
      elseif st.pause then
        k.at, k.step = now + st.pause, k.step + 1
      elseif st.drip then
        k.sock:send(st.drip:sub(k.byte, k.byte))
        k.byte, k.at = k.byte + 1, now + st.every
        if k.byte > #st.drip then k.byte, k.step = 1, k.step + 1 end
      elseif st["repeat"] then
        local ok = k.sock:send(st["repeat"])
        k.at = now + st.every
        if not ok then k.sock:close(); table.remove(conns, i) end
      end
    end
  end
  socket.sleep(0.005)
end
]==]

function M.start(steps, opts)
  return child.start("adversary", CHILD, { steps = steps, lifetime = (opts and opts.lifetime) or 30 })
end

-- The phases, each a script.
local SSE_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
M.PHASES = {
  ["silence after accept"] = { { stall = true } },
  ["drip mid status line"] = { "HTTP/1.1 2", { drip = "00 OK\r\nContent-Length: 2\r\n\r\n{}", every = 0.5 } },
  ["drip mid headers"] = { "HTTP/1.1 200 OK\r\nContent-Ty", { drip = "pe: application/json\r\n\r\n{}", every = 0.5 } },
  ["endless 1xx heads"] = { { ["repeat"] = "HTTP/1.1 100 Continue\r\n\r\n", every = 0.01 } },
  ["stall mid body"] = { "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"items\":", { stall = true } },
  ["stall mid chunk-size line"] = { "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1", { stall = true } },
  ["stall mid event"] = { SSE_HEAD, "id: 1\ndata: {\"a\":1}\n\ndata: par", { stall = true } },
}

return M
