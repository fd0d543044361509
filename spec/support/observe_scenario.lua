-- The observation scenario spec/integration/observe_records_spec.lua runs twice: in plain Lua
-- on the curl transport, and inside nginx on the ngx transport (LuaJIT), so
-- both see the same calls. Returns the records each step produced.
--   env: mock_url (the emulator), echo_url (a server echoing request
--   headers, spec/integration/observe_records_spec.lua), fault(t) (queues an emulator fault)
local fx = require "spec.support.fixtures"

local M = {}

M.TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
M.ECHO_CHAT = "0f4b1c2d-3d4e-4f60-b2f2-9f4b1c2d3e4f"

function M.run(homie, env)
  local recs = {}
  local function hook(r) recs[#recs + 1] = r end
  local function take()
    local got = recs
    recs = {}
    return got
  end
  local out = {}
  local client = homie.new{ api_key = "homie-test-key", base_url = env.mock_url, observe = hook }
  local chat = assert(client:create_chat{ chatbotId = fx.BOT })
  take()

  -- A send that is retried once.
  env.fault{ method = "POST", path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
  assert(chat:send(fx.HOODIE, { currentUrl = fx.PAGE, traceparent = M.TP }))
  out.send = take()

  -- A stream cut after three events, which reconnects.
  env.fault{ method = "GET", path = "/events$", fault = { cut_after = 3 } }
  local stream = chat:events()
  assert(stream:open(10))
  assert(chat:send(fx.HOODIE, { currentUrl = fx.PAGE }))
  for _ = 1, 50 do
    local ev = assert(stream:next_event(10))
    if ev.type == "message" and type(ev.data) == "table" and ev.data.type == "answer" then break end
  end
  stream:close()
  out.stream = {}
  for _, r in ipairs(take()) do
    if r.type == "stream" then out.stream[#out.stream + 1] = r end
  end

  -- An ask.
  assert(chat:ask(fx.HOODIE, { currentUrl = fx.PAGE, traceparent = M.TP }))
  out.ask = take()

  -- A derived client: its option applies, the original's stand, one pool.
  local derived_recs = {}
  local derived = client:with{ max_retries = 0, observe = function(r) derived_recs[#derived_recs + 1] = r end }
  local conns = {}
  local function conn(info) conns[#conns + 1] = info.headers["x-homie-mock-connection"] end
  env.fault{ method = "GET", path = "/messages$", times = 1, fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
  local _, derived_err = derived:list_messages(chat.id)
  local derived_records = #derived_recs
  assert(client:list_messages(chat.id, { on_response = conn }))
  assert(derived:list_messages(chat.id, { on_response = conn }))
  out.with = { derived_attempts = derived_err.attempts, derived_records = derived_records,
    client_records = #take(), conns = conns }

  -- The trace headers on the wire, on a read and on a stream's reconnect.
  local echo = homie.new{ api_key = "homie-test-key", base_url = env.echo_url, max_retries = 0 }
  local page = assert(echo:list_messages(M.ECHO_CHAT, { traceparent = M.TP, tracestate = "shop=1" }))
  local es = echo:events(M.ECHO_CHAT, { traceparent = M.TP, reconnect_delay = 0.05 })
  local first, second = assert(es:next_event(10)), assert(es:next_event(10))
  es:close()
  out.wire = { read = page.seen, stream = { first.data.traceparent, second.data.traceparent } }
  client:close()
  echo:close()
  return out
end

return M
