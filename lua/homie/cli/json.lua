-- JSON output for bin/homie. The SDK hands out plain tables in which an
-- empty array and an empty object look the same; the API's array fields are
-- known, so they are written as [] when empty. Keys are sorted, so output is
-- stable from run to run.
local cjson = require "cjson"

local M = {}

local ARRAYS = { suggestions = true, products = true, items = true, location = true,
  flags = true, gtins = true }

local function is_array(t, key)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return ARRAYS[key] == true end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

local function encode(v, key, out)
  local tv = type(v)
  if tv == "string" then
    -- cjson writes "/" as "\/"; valid, but URLs read better without it.
    -- Safe: after an escaped backslash cjson never leaves a bare "/".
    out[#out + 1] = (cjson.encode(v):gsub("\\/", "/"))
  elseif tv ~= "table" then
    out[#out + 1] = cjson.encode(v)
  elseif is_array(v, key) then
    out[#out + 1] = "["
    for i, x in ipairs(v) do
      if i > 1 then out[#out + 1] = "," end
      encode(x, key, out)
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      out[#out + 1] = cjson.encode(k) .. ":"
      encode(x, k, out)
    end
    out[#out + 1] = "}"
  end
end

-- One line of JSON for v; `key` names the field v is, when v may be an
-- empty array ("items" for a list of messages).
function M.encode(v, key)
  local out = {}
  encode(v, key, out)
  return table.concat(out)
end

return M
