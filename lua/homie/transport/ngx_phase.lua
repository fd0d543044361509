-- Where cosockets work. nginx's Lua module refuses sockets, ngx.sleep and
-- ngx.thread in some request phases; homie checks first so the error names
-- the phase and the way out instead of nginx's "API disabled".
local observe = require "homie.observe"

local M = {}

-- Phases with cosockets, ngx.sleep and ngx.thread (lua-nginx-module docs).
local USABLE = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

local function current()
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return nil end
  local ok, phase = pcall(ngx.get_phase)
  return ok and phase or nil
end

-- Phases handling a request, whose headers ngx.var can read.
local REQUEST = { rewrite = true, server_rewrite = true, access = true, content = true }
local MAX_TRACESTATE = 512  -- W3C: what every vendor should pass on at least

-- The W3C trace headers of the nginx request being handled now: its
-- traceparent when valid (homie.observe.trace_id), and its tracestate
-- beside it (dropped when over 512 bytes). Nil outside a request (a timer,
-- plain Lua) or without a valid traceparent.
function M.incoming_trace()
  if not REQUEST[current()] then return nil end
  local var = rawget(_G, "ngx").var
  local traceparent = var.http_traceparent
  if not observe.trace_id(traceparent) then return nil end
  local tracestate = var.http_tracestate
  if tracestate and (#tracestate > MAX_TRACESTATE or tracestate:find("[%z\1-\31\127]")) then
    tracestate = nil
  end
  return traceparent, tracestate
end

-- True inside nginx's Lua with cosockets usable in the current phase.
function M.available()
  local phase = current()
  return phase ~= nil and USABLE[phase] == true
end

-- Raises unless cosockets work now; `what` names the call.
function M.guard(what, level)
  local phase = current()
  if phase and USABLE[phase] then return end
  if not phase then
    error(("homie: the ngx transport (%s) needs nginx's Lua module; outside nginx use transport = \"curl\"")
      :format(what), (level or 1) + 1)
  end
  error(("homie: %s is not available in the %s phase: nginx allows no sockets there. Run it from a "
    .. "timer, ngx.timer.at(0, fn), or from a rewrite/access/content handler, or use transport = \"curl\" "
    .. "(blocking)"):format(what, phase), (level or 1) + 1)
end

return M
