-- Minimal JSON encoder for the emulator.
-- Debian's lua-cjson 2.1.0 has no empty-array marker, so `{}` would always
-- encode as an object; the API needs `"products": []`. We encode ourselves,
-- using cjson only for strings/numbers (correct escaping) and for decoding.
local cjson = require "cjson.safe"

local M = {}

-- Tables carrying this metatable always encode as JSON arrays, even empty.
M.array_mt = { __name = "json.array" }

function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

-- A value that encodes as JSON null (cjson.null is a lightuserdata).
M.null = cjson.null

local function is_array(t)
  if getmetatable(t) == M.array_mt then return true end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

local function scalar(v)
  -- cjson escapes "/" as "\/": valid but noisy in URLs; every "/" it emits is
  -- preceded by exactly that escape backslash, so dropping it is safe.
  return (cjson.encode(v):gsub("\\/", "/"))
end

local encode

local function encode_table(t, out)
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out)
    end
    out[#out + 1] = "]"
    return
  end
  -- Sorted keys: same input, byte-identical output (tests compare strings).
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = scalar(k)
    out[#out + 1] = ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode(v, out)
  end
  out[#out + 1] = "}"
end

encode = function(v, out)
  local tv = type(v)
  if tv == "table" then
    encode_table(v, out)
  elseif v == nil or v == M.null then
    out[#out + 1] = "null"
  elseif tv == "string" or tv == "number" or tv == "boolean" then
    out[#out + 1] = scalar(v)
  else
    error("cannot encode " .. tv .. " as JSON")
  end
end

function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

-- Returns value or nil, err (never raises on bad input).
function M.decode(s)
  return cjson.decode(s)
end

return M
