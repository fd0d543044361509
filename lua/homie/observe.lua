-- Observation hooks: the structured records a client's `observe` option
-- receives (doc/observe.md lists every field). Records are for dashboards
-- and traces: they never carry the key, and never message text.
--
-- Every record has `type` ("attempt", "stream", "ask" or "relay") and, when
-- the call had a W3C traceparent, `trace_id`. The hook is called
-- synchronously; when none is set nothing is built (callers test the hook
-- before making a record).
local M = {}

M.TYPES = { attempt = true, stream = true, ask = true, relay = true }

-- Hands `record` to `hook`. A hook that raises never breaks the call: the
-- failure goes to `log` (a printf-style function, may be nil) and is
-- otherwise dropped.
function M.emit(hook, record, log)
  if not hook then return end
  local ok, err = pcall(hook, record)
  if not ok and log then log("homie: observe hook failed: %s", tostring(err)) end
end

-- The trace id (32 lower-case hex digits) of a traceparent header value,
-- or nil when the value is not a valid version-00 traceparent
-- (W3C Trace Context: version-traceid-parentid-flags, all-zero ids invalid).
function M.trace_id(traceparent)
  if type(traceparent) ~= "string" then return nil end
  local version, trace, parent, flags =
    traceparent:lower():match("^(%x%x)%-(%x+)%-(%x+)%-(%x%x)$")
  if not version or version == "ff" or #trace ~= 32 or #parent ~= 16 or not flags then
    return nil
  end
  if trace:match("^0+$") or parent:match("^0+$") then return nil end
  return trace
end

-- The route template of an API path: ids become `{id}` and the query goes,
-- so a metric has one label per endpoint, not one per chat.
-- "/v1/chats/c_1/messages?limit=5" -> "/v1/chats/{id}/messages"
function M.route(path)
  path = path:gsub("%?.*$", "")
  return (path:gsub("^(/v1/chats/)[^/]+", "%1{id}"))
end

return M
