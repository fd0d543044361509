-- The emulator-only control API under /__mock/ (no auth): fault queue,
-- counters, reset. See server/README.md.
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

function M.handle(uri, method)
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
