-- The emulator-only control API under /__mock/ (no auth, local only: a
-- loopback Host, and JSON for every POST): fault queue, counters, reset.
-- See server/README.md.
local faults = require "homie_mock.faults"
local http = require "homie_mock.http"
local store = require "homie_mock.store"

local M = {}

local ROUTES = {
  ["/__mock/faults"] = { POST = function()
    local entry, err = faults.validate(http.read_json())
    if not entry then return http.error(400, err) end
    faults.push(entry)
    return http.json(201, { queued = true, faults_pending = faults.pending() })
  end },
  ["/__mock/stats"] = { GET = function()
    return http.json(200, faults.stats(store.streams_open()))
  end },
  ["/__mock/reset"] = { POST = function()
    faults.reset()
    return http.json(200, { reset = true })
  end },
}

-- A Host naming this machine's loopback: a page elsewhere that rebinds its
-- DNS name to 127.0.0.1 still sends its own name, and is refused.
local function loopback_host(host)
  if not host then return false end
  local name = host:match("^%[([^%]]+)%]:?%d*$") or host:match("^([^:]+):?%d*$")
  if not name then return false end
  name = name:lower()
  return name == "localhost" or name == "::1" or name:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

-- A browser can send a cross-site POST without asking first only as a
-- "simple" request (text/plain, form types): requiring JSON stops it.
local function json_type(ctype)
  if not ctype then return false end
  ctype = ctype:lower()
  return ctype:match("^%s*application/json%s*$") ~= nil or ctype:match("^%s*application/json%s*;") ~= nil
end

function M.handle(uri, method)
  if not loopback_host(ngx.var.http_host) then
    return http.error(403, "the control API answers only requests to a loopback Host (127.0.0.1, localhost, [::1])")
  end
  if method == "POST" and not json_type(ngx.var.http_content_type) then
    return http.error(415, "the control API takes only Content-Type: application/json")
  end
  local route = ROUTES[uri]
  if not route then return http.error(404, "Cannot " .. method .. " " .. uri) end
  local h = route[method]
  if not h then
    local allow = next(route)
    return http.error(405, "Method " .. method .. " not allowed on " .. uri, { Allow = allow })
  end
  return h()
end

return M
