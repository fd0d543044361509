-- The cases of spec/recover_spec.lua, shared by both transports: busted
-- runs them with the curl transport, a location of the spec nginx with the
-- ngx one. Each case takes `env` and returns plain data (JSON-able) for the
-- spec to assert on, so both transports are held to the same assertions.
--   env.client               a homie client on the emulator
--   env.control(method, path, body_or_nil) -> the decoded answer of /__mock/...
-- Runs on Lua 5.1-5.4 and LuaJIT.
local M = {}

M.BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
M.PAGE = "https://store.com/products/blue-hoodie"
M.HOODIE = "Does the blue hoodie come in size L?"

-- The faults that answer after the message is stored, and the kind of
-- error each leaves the send with.
M.AFTER_STORE = {
  { name = "mid_body", fault = { reset = "mid_body" }, kind = "connection" },
  { name = "truncate", fault = { truncate = true }, kind = "protocol" },
  { name = "malformed", fault = { malformed = true }, kind = "protocol" },
}

local function fault_post(env, fault)
  env.control("POST", "/__mock/faults", { method = "POST", path = "^/v1/chats/[^/]+/messages$", fault = fault })
end

local function stats(env) return env.control("GET", "/__mock/stats") end

-- A fresh chat and the counters reset.
local function start(env)
  env.control("POST", "/__mock/reset")
  return assert(env.client:create_chat{ chatbotId = M.BOT })
end

local function err_fields(err)
  if not err then return nil end
  return { kind = err.kind, message = tostring(err), maybe_stored = err.maybe_stored, attempts = err.attempts }
end

-- What the case's send returned, and what the server stored.
local function outcome(env, chat, reply, err, extra)
  local page = assert(chat:list_messages{ size = 100 })
  local items = page.items
  local out = extra or {}
  out.transport = env.client.transport.name
  out.err = err_fields(err)
  out.stored = stats(env).messages_received
  out.pending = stats(env).faults_pending
  out.newest_answer = items[#items] and items[#items].id
  out.newest_question = items[#items - 1] and items[#items - 1].content
  if reply then
    out.reply = { id = reply.id, type = reply.type, content = reply.content, recovered = reply.recovered,
      from = err_fields(reply.recovered_from) }
  end
  return out
end

-- ask, with fault number `i` of AFTER_STORE on its POST.
function M.ask_after(env, i)
  local chat = start(env)
  fault_post(env, M.AFTER_STORE[i].fault)
  local chunks = {}
  local reply, err = chat:ask(M.HOODIE, { currentUrl = M.PAGE, final_wait = 10, on_event = function(ev)
    if ev.type == "chunk" then chunks[#chunks + 1] = ev.data.content end
  end })
  return outcome(env, chat, reply, err, { streamed = table.concat(chunks) })
end

-- send_message{ reconcile = true }, with fault number `i` on its POST,
-- after one answered exchange in the chat.
function M.reconcile_after(env, i)
  local chat = start(env)
  assert(chat:send("Any jeans in 32?", { currentUrl = M.PAGE }))
  fault_post(env, M.AFTER_STORE[i].fault)
  local reply, err = chat:send(M.HOODIE, { currentUrl = M.PAGE, reconcile = true })
  return outcome(env, chat, reply, err)
end

-- Without reconcile: maybe_stored after a reset mid-body (stored) and a 503
-- (not stored).
function M.maybe_stored(env)
  local chat = start(env)
  fault_post(env, { reset = "mid_body" })
  local _, cut = chat:send(M.HOODIE, { currentUrl = M.PAGE })
  fault_post(env, { status = 503 })
  local _, refused = chat:send(M.HOODIE, { currentUrl = M.PAGE, max_retries = 0 })
  return { cut = err_fields(cut), refused = err_fields(refused), stored = stats(env).messages_received }
end

-- Failures that never reached the application (503, 429), after an
-- identical question was answered: neither ask nor reconcile may return
-- that older answer.
function M.not_reached(env)
  local chat = start(env)
  assert(chat:send(M.HOODIE, { currentUrl = M.PAGE }))
  local out = { tries = {} }
  for _, fault in ipairs({ { status = 503 }, { status = 429 } }) do
    fault_post(env, fault)
    local asked, ask_err = chat:ask(M.HOODIE, { currentUrl = M.PAGE, max_retries = 0 })
    fault_post(env, fault)
    local sent, send_err = chat:send(M.HOODIE, { currentUrl = M.PAGE, max_retries = 0, reconcile = true })
    out.tries[#out.tries + 1] = { asked = asked ~= nil, ask_err = err_fields(ask_err),
      sent = sent ~= nil, send_err = err_fields(send_err) }
  end
  out.stored = stats(env).messages_received
  return out
end

return M
