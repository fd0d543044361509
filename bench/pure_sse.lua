-- The pure-Lua baseline: a plain, correct SSE parser with no tricks, the
-- kind a Lua program would write without homie. Same output shape as
-- homie.sse parser's feed(). No size limit.
local find, sub, byte, concat = string.find, string.sub, string.byte, table.concat

local P = {}
P.__index = P

local function new()
  return setmetatable({ buf = "", started = false, skip_lf = false, type = "" }, P)
end

function P:line(line, events)
  if line == "" then
    self.last_id = self.id_buf
    if self.data then
      events[#events + 1] = { type = self.type ~= "" and self.type or "message",
        data = concat(self.data, "\n"), id = self.last_id }
    end
    self.data, self.type = nil, ""
    return
  end
  local c = find(line, ":", 1, true)
  if c == 1 then return end
  local name, value = line, ""
  if c then
    name, value = sub(line, 1, c - 1), sub(line, c + 1)
    if byte(value, 1) == 32 then value = sub(value, 2) end
  end
  if name == "data" then
    local d = self.data or {}
    d[#d + 1] = value
    self.data = d
  elseif name == "event" then
    self.type = value
  elseif name == "id" then
    if not find(value, "\0", 1, true) then self.id_buf = value ~= "" and value or nil end
  elseif name == "retry" then
    if find(value, "^%d+$") then self.retry = tonumber(value) end
  end
end

function P:feed(chunk)
  local events = {}
  local buf = self.buf .. chunk
  if not self.started then
    if #buf < 3 and sub("\239\187\191", 1, #buf) == buf then self.buf = buf; return events end
    if sub(buf, 1, 3) == "\239\187\191" then buf = sub(buf, 4) end
    self.started = true
  end
  local pos = 1
  if self.skip_lf and #buf > 0 then
    if byte(buf, 1) == 10 then pos = 2 end
    self.skip_lf = false
  end
  while true do
    local s = find(buf, "[\r\n]", pos)
    if not s then break end
    local line = sub(buf, pos, s - 1)
    pos = s + 1
    if byte(buf, s) == 13 then
      if s == #buf then self.skip_lf = true
      elseif byte(buf, s + 1) == 10 then pos = s + 2 end
    end
    self:line(line, events)
  end
  self.buf = sub(buf, pos)
  return events
end

function P:finish()
  self.buf, self.data, self.type, self.started, self.skip_lf = "", nil, "", false, false
  self.id_buf = self.last_id
end

return { new = new }
