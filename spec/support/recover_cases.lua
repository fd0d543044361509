-- Nothing lost between a send and its stream, against the emulator: when
-- the POST's answer is cut after the message was stored (reset mid_body,
-- truncate, malformed), ask returns the streamed answer and
-- send_message{ reconcile = true } the one in the history, both marked
-- recovered, and the message is stored once. Shared by both transports in
-- the shape of spec/support/reliability_cases.lua (env: see there);
-- spec/integration/recover_spec.lua runs them with libcurl and inside nginx.
-- Runs on Lua 5.4 and LuaJIT.
local assert = require "luassert"
local fx = require "spec.support.fixtures"

local BOT, PAGE, HOODIE = fx.BOT, fx.PAGE, fx.HOODIE

-- The faults that answer after the message is stored, and the kind of
-- error each leaves the send with.
local AFTER_STORE = {
  { name = "mid_body", fault = { reset = "mid_body" }, kind = "connection" },
  { name = "truncate", fault = { truncate = true }, kind = "protocol" },
  { name = "malformed", fault = { malformed = true }, kind = "protocol" },
}

local function fault_post(env, fault)
  env.server:fault{ method = "POST", path = "^/v1/chats/[^/]+/messages$", fault = fault }
end

-- A fresh chat, the counters reset, and its client.
local function start(env)
  env.server:reset()
  local client = env.new_client{ timeout = 10 }
  return assert(client:create_chat{ chatbotId = BOT }), client
end

-- What the server stored, as the caller's reply must match it: one more
-- exchange (`stored` in all), the newest answer being the reply, no fault left.
local function check_stored(env, chat, reply, stored)
  local stats = env.server:stats()
  assert.are.equal(stored, stats.messages_received, "each message stored once")
  assert.are.equal(0, stats.faults_pending)
  local items = assert(chat:list_messages{ size = 100 }).items
  assert.are.equal(reply.id, items[#items].id)
  assert.are.equal(HOODIE, items[#items - 1].content)
end

local cases = { title = "recovered replies", mock = { chunk_delay_ms = 5 }, tls = false }

for _, f in ipairs(AFTER_STORE) do
  cases[#cases + 1] = { name = "ask returns the streamed answer after " .. f.name, run = function(env)
    local chat, client = start(env)
    fault_post(env, f.fault)
    local chunks = {}
    local reply, err = chat:ask(HOODIE, { currentUrl = PAGE, final_wait = 10, on_event = function(ev)
      if ev.type == "chunk" then chunks[#chunks + 1] = ev.data.content end
    end })
    assert.is_nil(err)
    assert.is_true(reply.recovered)
    assert.are.equal(f.kind, reply.recovered_from.kind)
    assert.is_true(reply.recovered_from.maybe_stored)
    assert.are.equal(table.concat(chunks), reply.content)
    assert.are.equal(env.transport, client.transport.name)
    check_stored(env, chat, reply, 1)
  end }

  cases[#cases + 1] = { name = "send_message{ reconcile = true } returns the stored answer after " .. f.name,
    run = function(env)
      local chat = start(env)
      assert(chat:send("Any jeans in 32?", { currentUrl = PAGE }))
      fault_post(env, f.fault)
      local reply, err = chat:send(HOODIE, { currentUrl = PAGE, reconcile = true })
      assert.is_nil(err)
      assert.is_true(reply.recovered)
      assert.are.equal(f.kind, reply.recovered_from.kind)
      assert.are.equal("answer", reply.type)
      check_stored(env, chat, reply, 2)  -- the earlier exchange and this one, once
    end }
end

cases[#cases + 1] = { name = "without reconcile, a send's error says whether the message may be stored",
  run = function(env)
    local chat = start(env)
    fault_post(env, { reset = "mid_body" })
    local _, cut = chat:send(HOODIE, { currentUrl = PAGE })
    fault_post(env, { status = 503 })
    local _, refused = chat:send(HOODIE, { currentUrl = PAGE, max_retries = 0 })
    assert.are.equal("connection", cut.kind)
    assert.is_true(cut.maybe_stored)
    assert.are.equal(503, refused.status)
    assert.is_false(refused.maybe_stored)
    assert.are.equal(1, env.server:stats().messages_received)
  end }

-- After an identical question was answered: neither ask nor reconcile may
-- return that older answer for a send that never reached the application.
cases[#cases + 1] = { name = "a failure that never reached the application is not recovered, from the stream or the history",
  run = function(env)
    local chat = start(env)
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    for _, fault in ipairs({ { status = 503 }, { status = 429 } }) do
      fault_post(env, fault)
      local asked, ask_err = chat:ask(HOODIE, { currentUrl = PAGE, max_retries = 0 })
      assert.is_nil(asked)
      assert.is_false(ask_err.maybe_stored)
      fault_post(env, fault)
      local sent, send_err = chat:send(HOODIE, { currentUrl = PAGE, max_retries = 0, reconcile = true })
      assert.is_nil(sent)
      assert.is_false(send_err.maybe_stored)
    end
    assert.are.equal(1, env.server:stats().messages_received)
  end }

return cases
