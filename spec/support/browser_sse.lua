-- Test helper: the browser's side of homie.ngx.relay_events, a LuaSocket
-- connection reading the relay as an EventSource would.
--   local c, status, headers = browser_sse.get(port, path, { ["Last-Event-ID"] = "3" })
--   local next_block = browser_sse.reader(c); next_block(timeout) -> { lines } | nil, err
--   browser_sse.body(port, path) -> status, headers, whole body (until the relay ends)
local socket = require "socket"

local M = {}

-- GET path and read the head. Returns sock, status, headers (lower-case).
function M.get(port, path, headers)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(5)
  local lines = { "GET " .. path .. " HTTP/1.1", "Host: shop", "Accept: text/event-stream" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n"))
  local status = tonumber(assert(c:receive("*l")):match("^HTTP/1%.1 (%d+)"))
  local h = {}
  while true do
    local line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    h[k:lower()] = v
  end
  return c, status, h
end

-- The next SSE block (lines up to a blank line) from a chunked body, as
-- {lines}; nil, err when nothing comes in time or the relay ended.
function M.reader(c)
  local pending = ""
  return function(timeout)
    c:settimeout(timeout or 5)
    while true do
      local i = pending:find("\n\n", 1, true)
      if i then
        local block = pending:sub(1, i - 1)
        pending = pending:sub(i + 2)
        local out = {}
        for line in (block .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
        return out
      end
      local size_line, err = c:receive("*l")
      if not size_line then return nil, err end
      local size = tonumber(size_line:match("^%x+"), 16)
      if not size or size == 0 then return nil, "end" end
      pending = pending .. assert(c:receive(size))
      assert(c:receive("*l"))
    end
  end
end

-- The whole answer of a relay that ends by itself (bounded by `timeout`
-- seconds of silence): status, headers, body (de-chunked).
function M.body(port, path, headers, timeout)
  local c, status, h = M.get(port, path, headers)
  c:settimeout(timeout or 10)
  local parts = {}
  if (h["transfer-encoding"] or ""):find("chunked", 1, true) then
    while true do
      local size_line = c:receive("*l")
      local size = size_line and tonumber(size_line:match("^%x+"), 16)
      if not size or size == 0 then break end
      parts[#parts + 1] = assert(c:receive(size))
      assert(c:receive("*l"))
    end
  elseif h["content-length"] then
    parts[1] = c:receive(tonumber(h["content-length"])) or ""
  end
  c:close()
  return status, h, table.concat(parts)
end

return M
