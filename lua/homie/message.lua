-- Message tables (MessageDto) as the SDK hands them out: the one place that
-- shapes a reply, marks a recovered one, and reads a message's time.
local util = require "homie.util"

local M = {}

-- A product that only has the introduction's `uri` also gets `url`.
function M.normalize(m)
  if type(m) == "table" and type(m.products) == "table" then
    for _, p in ipairs(m.products) do
      if type(p) == "table" and p.url == nil and p.uri ~= nil then p.url = p.uri end
    end
  end
  return m
end

-- A reply the server stored although the send that asked for it failed:
-- `err` is that failure, kept for the caller's logs.
function M.recovered(m, err)
  m = M.normalize(m)
  m.recovered = true
  m.recovered_from = err
  return m
end

function M.is_answer(m)
  return type(m) == "table" and m.type == "answer" and type(m.id) == "string"
end

-- Seconds since the epoch of an ISO-8601 time ("2025-07-08T16:32:11Z",
-- fractions and "+02:00" offsets allowed), or nil when it is not one.
function M.epoch(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  rest = rest:gsub("^%.%d+", "")
  local offset = 0
  if rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return util.utc_seconds(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
    - offset
end

-- Seconds a server's clock may differ from ours when a message's createdAt
-- is compared with the moment a send began (README, "Recovered replies").
M.SKEW = 120

-- True when `m` may have been stored by a send that began at `since`
-- (os.time seconds): createdAt no earlier than since - SKEW and no later
-- than now + SKEW. A message without a readable createdAt passes: the
-- window can only rule out what it can read.
function M.stored_since(m, since, now)
  local at = M.epoch(m.createdAt)
  if not at then return true end
  return at >= since - M.SKEW and at <= (now or os.time()) + M.SKEW
end

return M
