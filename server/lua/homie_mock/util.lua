-- Small helpers shared by the handlers: ids, timestamps, shapes.
local M = {}

local seeded = false
local function seed()
  if seeded then return end
  seeded = true
  -- Per-worker seed; ids only need to be unique, not secret.
  math.randomseed(math.floor(ngx.now() * 1000) + ngx.worker.pid() * 7919)
end

local function hex(n)
  local t = {}
  for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end

-- Random UUID v4 (version nibble 4, variant 8-b).
function M.uuid4()
  seed()
  local variant = ({ "8", "9", "a", "b" })[math.random(1, 4)]
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" .. variant .. hex(3) .. "-" .. hex(12)
end

-- Deterministic v4-shaped UUID from any string (organizationId from the key).
function M.uuid_from(s)
  local h = ngx.md5(s)
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-4" .. h:sub(14, 16) .. "-a"
    .. h:sub(18, 20) .. "-" .. h:sub(21, 32)
end

-- Any version: the docs' own example ids are not valid v4 (see homie-api.md).
function M.is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

-- ISO-8601 UTC with second precision, like the docs: 2025-07-08T16:32:11Z.
function M.now_iso()
  return (ngx.utctime():gsub(" ", "T")) .. "Z"
end

return M
