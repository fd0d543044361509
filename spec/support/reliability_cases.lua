-- Retries, timeouts, limits, logging, redaction, never-twice sends and TLS
-- against an emulator that misbehaves on command (its /__mock/faults
-- control API). Written once for both transports: spec/integration/reliability_spec.lua
-- runs each case with libcurl in busted, spec/integration/ngx_reliability_spec.lua runs
-- the same function inside a real nginx on cosockets (spec/support/both.lua).
-- The assertions live in the cases (luassert, which loads in nginx's
-- LuaJIT too), so both transports are held to exactly the same ones.
--
-- A case: { name, run = function(env), trusted = true when it needs the
-- https emulator's CA trusted by configuration, ngx = "why" when the ngx
-- transport differs by design (the case then asserts the documented
-- behaviour there), via = { curl = ..., ngx = ... } when each gets there
-- its own way }; scripts/reliability-table shows the last two.
-- env (spec/support/both.lua builds it):
--   env.transport          "curl", "ngx" or "socket" (spec/support/socket_transport.lua)
--   env.server             the emulator: url, fault(t), stats(), reset()
--   env.tls_url            the same emulator over https, with a certificate nobody trusts by default
--   env.dead_url           a loopback port nobody listens on
--   env.ca_file            that certificate's file
--   env.trust              client options that trust it (curl: ca_file; ngx: none, nginx.conf names it)
--   env.now()              seconds, monotonic enough for relative bounds
--   env.key                the emulator's key, which env.new_client uses
--   env.lines              what the clients of env.new_client logged
--   env.new_client(opts)   homie.new on the emulator, the test key, logging into env.lines
-- Runs on Lua 5.4 and LuaJIT.
local assert = require "luassert"
local fx = require "spec.support.fixtures"

local BOT, PAGE = fx.BOT, fx.PAGE
local POSTS, GETS = "POST /v1/chats/:id/messages", "GET /v1/chats/:id/messages"

-- A fresh emulator (faults and counters cleared) and a chat on it; what the
-- chat's creation logged is forgotten.
local function begin(env)
  env.server:reset()
  local chat = assert(env.new_client():create_chat{ chatbotId = BOT })
  for i = #env.lines, 1, -1 do env.lines[i] = nil end
  return chat
end

local function count(env, route) return env.server:stats().requests[route] or 0 end

-- A duration measured against the configured one: never early, and within
-- hi times it (relative, so a slow machine cannot be mistaken for a bug
-- unless it is 50% late).
local function within(took, configured, what)
  assert.is_true(took >= configured * 0.9 and took <= configured * 1.5,
    ("%s took %.3f s for a configured %.3f s"):format(what, took, configured))
end

local function retried_lines(env)
  local n = 0
  for _, l in ipairs(env.lines) do if l:find("retrying", 1, true) then n = n + 1 end end
  return n
end

local cases = { title = "reliability" }
local function case(name, run, extra)
  local c = extra or {}
  c.name, c.run = name, run
  cases[#cases + 1] = c
end

-- Faults -------------------------------------------------------------------

case("retries a 503 on a message send after Retry-After and stores it once", function(env)
  local chat = begin(env)
  local c = env.new_client()
  env.server:fault{ method = "POST", path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "1" } } }
  local t0 = env.now()
  local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
  local took = env.now() - t0
  assert.is_nil(err)
  assert.are.equal("answer", reply.type)
  within(took, 1, "waiting for Retry-After: 1")
  assert.are.equal(1, env.server:stats().messages_received)
  assert.are.equal(2, count(env, POSTS))
  assert.matches("retrying in 1%.00 s", env.lines[1])
end)

case("never retries a message send the application may have acted on", function(env)
  local chat = begin(env)
  local c = env.new_client()
  -- A status answers before the message is handled; a reset mid-body and a
  -- truncated body come after it was stored.
  local faults = { { { status = 500 }, 0 }, { { status = 502 }, 0 }, { { reset = "mid_body" }, 1 },
                   { { truncate = true }, 1 } }
  for i, f in ipairs(faults) do
    local before = env.server:stats().messages_received
    env.server:fault{ method = "POST", path = "/messages$", fault = f[1] }
    local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
    assert.is_nil(reply)
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    assert.is_true(err.maybe_stored)
    assert.are.equal(before + f[2], env.server:stats().messages_received)
    assert.are.equal(i, count(env, POSTS), "one POST per send")
  end
  assert.are.equal(0, env.server:stats().faults_pending)
end)

case("a connection reset before the answer is reported, never re-sent", function(env)
  -- The client has a kept-alive connection: on such a connection libcurl
  -- would silently re-send a request the server closed on. Message sends
  -- therefore take a new connection, so the reset reaches the caller.
  local chat = begin(env)
  local c = env.new_client()
  assert(c:list_messages(chat.id))
  env.server:fault{ method = "POST", path = "/messages$", fault = { reset = "before_headers" } }
  local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
  assert.is_nil(reply)
  assert.are.equal("connection", err.kind)
  assert.are.equal(1, err.attempts)
  assert.are.equal(0, env.server:stats().messages_received)
  assert.are.equal(1, count(env, POSTS))
  -- The warm connection is still good for reads.
  assert(c:list_messages(chat.id))
end)

case("retries idempotent reads through 502, resets and cut bodies", function(env)
  local chat = begin(env)
  local c = env.new_client()
  env.server:fault{ method = "GET", path = "/messages$", times = 2, fault = { status = 502 } }
  assert(c:list_messages(chat.id))
  assert.are.equal(3, count(env, GETS))
  env.server:fault{ method = "GET", path = "/messages$", fault = { reset = "mid_body" } }
  assert(c:list_messages(chat.id))
  env.server:fault{ method = "GET", path = "/messages$", fault = { reset = "before_headers" } }
  assert(env.new_client():list_messages(chat.id))
  assert.are.equal(7, count(env, GETS))
  assert.are.equal(4, retried_lines(env))
end)

case("gives up after max_retries and reports the attempts", function(env)
  local chat = begin(env)
  local c = env.new_client{ max_retries = 1 }
  env.server:fault{ method = "GET", path = "/messages$", times = 3, fault = { status = 503, headers = { ["retry-after-ms"] = "10" } } }
  local _, err = c:list_messages(chat.id)
  assert.are.equal("server", err.kind)
  assert.are.equal(503, err.status)
  assert.are.equal(2, err.attempts)
  assert.is_true(err.retryable)
  assert.matches("after 2 attempts", tostring(err))
  assert.are.equal(2, count(env, GETS))
  assert.are.equal(1, env.server:stats().faults_pending)
end)

case("429 is a rate_limit error retried even for a message send", function(env)
  local chat = begin(env)
  local c = env.new_client{ max_retries = 0 }
  env.server:fault{ method = "POST", path = "/messages$", fault = { status = 429, headers = { ["Retry-After"] = "0" } } }
  local _, err = c:send_message(chat.id, "hi", { currentUrl = PAGE })
  assert.are.equal("rate_limit", err.kind)
  assert.is_true(err.retryable)
  assert.is_false(err.maybe_stored)
  env.server:fault{ method = "POST", path = "/messages$", fault = { status = 429, headers = { ["Retry-After"] = "0" } } }
  assert(env.new_client():send_message(chat.id, "hi", { currentUrl = PAGE }))
  assert.are.equal(3, count(env, POSTS))
  assert.are.equal(1, env.server:stats().messages_received)
end)

case("malformed and truncated JSON are protocol errors; slow drips still arrive", function(env)
  local chat = begin(env)
  local c = env.new_client{ max_retries = 0 }
  env.server:fault{ method = "GET", path = "/messages$", fault = { malformed = true } }
  local _, err = c:list_messages(chat.id)
  assert.are.equal("protocol", err.kind)
  assert.are.equal(200, err.status)
  env.server:fault{ method = "GET", path = "/messages$", fault = { truncate = true } }
  _, err = c:list_messages(chat.id)
  assert.are.equal("protocol", err.kind)
  env.server:fault{ method = "GET", path = "/messages$", fault = { drip_ms = 5 } }
  assert(c:list_messages(chat.id))
  env.server:fault{ method = "GET", path = "/messages$", fault = { delay_ms = 200 } }
  assert(c:list_messages(chat.id))
  assert.are.equal(0, env.server:stats().faults_pending)
end)

case("a body over max_body is a clean protocol error and the client stays usable", function(env)
  local chat = begin(env)
  local c = env.new_client{ max_body = 1024 }
  env.server:fault{ method = "GET", path = "/messages$", fault = { status = 200, body = ("x"):rep(4000) } }
  local _, err = c:list_messages(chat.id)
  assert.are.equal("protocol", err.kind)
  assert.matches("max_body", err.message)
  assert.are.equal(1, err.attempts)
  -- The same client goes on: the chat's empty page fits.
  assert(c:list_messages(chat.id))
end)

case("a refused connection is retried: the send provably never arrived", function(env)
  local c = env.new_client{ base_url = env.dead_url, max_retries = 1 }
  local t0 = env.now()
  local _, err = c:create_chat{ chatbotId = BOT, max_retries = 1 }
  assert.are.equal("connection", err.kind)
  assert.are.equal(2, err.attempts)
  assert.is_true(err.retryable)
  assert.is_false(err.maybe_stored)
  -- The backoff: 0.5 s, up to a quarter shorter (jitter).
  local took = env.now() - t0
  assert.is_true(took >= 0.5 * 0.75 * 0.9 and took <= 0.5 * 1.5, ("backed off %.3f s"):format(took))
  assert.are.equal(2, #env.lines)
end)

-- Event streams ----------------------------------------------------------------

-- Reads `chat`'s stream while the chat is sent a message, until the answer
-- (or an error); returns the events' ids and types, and the error.
local function read_while_sending(env, chat, opts)
  local events = chat:events(opts)
  assert(events:open(5))
  local results = env.new_client():gather({
    function()
      local got, ends = {}, env.now() + 10
      while env.now() < ends do
        local ev, err = events:next_event(1)
        if ev == false then return got, err end
        if ev then
          got[#got + 1] = { id = tonumber(ev.id), type = ev.type,
                            content = type(ev.data) == "table" and ev.data.content or nil }
          if ev.type == "message" and type(ev.data) == "table" and ev.data.type == "answer" then break end
        end
      end
      events:close()
      return got
    end,
    function() return chat:send(fx.HOODIE, { currentUrl = PAGE }) end,
  })
  assert(results[2][1], results[2][2])
  return results[1][1], results[1][2], events
end

case("a cut stream resumes with Last-Event-ID: every event once, in order", function(env)
  local chat = begin(env)
  env.server:fault{ path = "/events$", fault = { cut_after = 3 } }
  local got, err = read_while_sending(env, chat, { idle_timeout = 5 })
  assert.is_nil(err)
  assert.is_true(#got >= 8, "events before and after the cut")
  assert.are.equal("typing", got[1].type)
  assert.are.equal("message", got[#got].type)
  for i = 2, #got do assert.are.equal(got[i - 1].id + 1, got[i].id) end
  assert.are.equal(2, count(env, "GET /v1/chats/:id/messages/events"))
end)

case("a stream silent past idle_timeout is reconnected", function(env)
  local chat = begin(env)
  env.server:fault{ path = "/events$", fault = { stall_stream = true } }
  local t0 = env.now()
  local got, err, events = read_while_sending(env, chat, { idle_timeout = 0.4 })
  assert.is_nil(err)
  assert.are.equal("message", got[#got].type)
  assert.truthy(got[#got].content:find("Size L", 1, true), got[#got].content)
  assert.is_true(events.reconnects >= 1)
  assert.is_true(env.now() - t0 >= 0.4 * 0.9, "waited for idle_timeout")
  assert.is_true(count(env, "GET /v1/chats/:id/messages/events") >= 2)
end)

-- Timeouts and deadlines -----------------------------------------------------

-- Stalls the next `times` requests of `method` to the messages path of a
-- fresh chat; returns how long call(chat) took and what it returned.
local function stalled(env, method, times, call)
  local chat = begin(env)
  env.server:fault{ method = method, path = "/messages$", times = times, fault = { stall = true } }
  local t0 = env.now()
  local a, b = call(chat)
  return env.now() - t0, a, b
end

case("a server that never answers ends in a timeout at the configured time", function(env)
  local c = env.new_client{ timeout = 0.5, max_retries = 0 }
  local took, _, err = stalled(env, "GET", 1, function(chat) return c:list_messages(chat.id) end)
  within(took, 0.5, "a stalled read with timeout = 0.5")
  assert.are.equal("timeout", err.kind)
  assert.are.equal(1, err.attempts)
end)

case("a message send that times out is reported, never re-sent", function(env)
  local c = env.new_client{ timeout = 0.4 }
  local took, reply, err = stalled(env, "POST", 1, function(chat)
    return c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
  end)
  within(took, 0.4, "a stalled send with timeout = 0.4")
  assert.is_nil(reply)
  assert.are.equal("timeout", err.kind)
  assert.are.equal(1, err.attempts)
  assert.is_false(err.retryable)
  assert.is_true(err.maybe_stored)
  assert.are.equal(1, count(env, POSTS))
end)

case("deadline bounds a call including its retries", function(env)
  local c = env.new_client{ timeout = 30, max_retries = 5 }
  local took, _, err = stalled(env, "GET", 6, function(chat) return c:list_messages(chat.id, { deadline = 0.7 }) end)
  within(took, 0.7, "stalled reads with deadline = 0.7")
  assert.are.equal("timeout", err.kind)
end)

case("a per-attempt timeout is retried within the deadline", function(env)
  local c = env.new_client{ timeout = 0.3, max_retries = 5 }
  local took, page, err = stalled(env, "GET", 1, function(chat) return c:list_messages(chat.id, { deadline = 10 }) end)
  assert(page, err)
  assert.is_true(took >= 0.3 * 0.9, "the stall was waited out")
  assert.are.equal(2, count(env, GETS))
  assert.are.equal(1, retried_lines(env))
  assert.matches("%-> timeout .- attempt 1: retrying", env.lines[1])
end)

-- Logs and redaction ---------------------------------------------------------

case("logs each attempt with the request id, and never the key", function(env)
  local chat = begin(env)
  local c = env.new_client{ max_retries = 1 }
  env.server:fault{ method = "GET", path = "/messages$", fault = { status = 500 } }
  assert(c:list_messages(chat.id))
  assert.are.equal(2, #env.lines)
  assert.matches("GET /v1/chats/.-/messages %-> 500 .- attempt 1: retrying", env.lines[1])
  assert.matches("GET /v1/chats/.-/messages %-> 200 in %d+ ms %[request id %S+%] attempt 2", env.lines[2])
  for _, l in ipairs(env.lines) do assert.is_nil(l:find(env.key, 1, true), l) end
  -- HOMIE_LOG=debug's stderr lines: contract_spec's logging case.
end)

case("the key never appears in errors, tostring or logs", function(env)
  local chat = begin(env)
  local secret = "sk-live-very-secret-123"
  env.server:fault{ method = "GET", path = "/messages$", fault = { status = 500, body = { message = "bad key " .. secret } } }
  local c = env.new_client{ api_key = secret, max_retries = 0 }
  local _, err = c:list_messages(chat.id)
  local outputs = { tostring(err), err.message, tostring(c), table.concat(env.lines, "\n") }
  local ok, raised = pcall(env.new_client, { api_key = secret, timeout = "soon" })
  assert.is_false(ok)
  outputs[#outputs + 1] = raised
  outputs[#outputs + 1] = debug.traceback()
  for _, o in ipairs(outputs) do assert.is_nil(o:find(secret, 1, true), o) end
  assert.matches("%[redacted%]", err.message)
  assert.is_true(#env.lines >= 1)
end)

-- TLS --------------------------------------------------------------------------

local function tls_client(env, opts)
  opts = opts or {}
  opts.base_url = env.tls_url
  return env.new_client(opts)
end

case("refuses an unknown certificate by default, without retrying", function(env)
  local _, err = tls_client(env):create_chat{ chatbotId = BOT }
  assert.are.equal("connection", err.kind)
  assert.matches("TLS", err.message)
  assert.are.equal(1, err.attempts)
  assert.is_false(err.retryable)
  assert.is_false(err.maybe_stored)
end)

case("an event stream gives up on a bad certificate at once", function(env)
  local stream = tls_client(env):events(BOT)
  local ev, err = stream()
  assert.is_false(ev)
  assert.are.equal("connection", err.kind)
  assert.matches("TLS", err.message)
  assert.are.equal(0, stream.reconnects)
end)

case("trusts the certificate when the CA is configured", function(env)
  local opts = {}
  for k, v in pairs(env.trust) do opts[k] = v end
  assert(tls_client(env, opts):create_chat{ chatbotId = BOT })
end, { trusted = true, via = { curl = "ca_file", ngx = "lua_ssl_trusted_certificate in nginx.conf", socket = "ca_file" } })

case("insecure = true, named, accepts any certificate", function(env)
  assert(tls_client(env, { insecure = true }):create_chat{ chatbotId = BOT })
end)

case("ca_file names the CA to trust", function(env)
  local chat, err = tls_client(env, { ca_file = env.ca_file }):create_chat{ chatbotId = BOT }
  if env.transport == "ngx" then
    assert.is_nil(chat)
    assert.are.equal("connection", err.kind)
    assert.matches("lua_ssl_trusted_certificate", err.message)
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    assert.is_false(err.maybe_stored)
  else
    assert.is_nil(err)
    assert.truthy(chat.id)
  end
end, { ngx = "cosockets cannot take a per-request CA file: a call with ca_file over https fails at once "
  .. "(kind connection, not retried) naming lua_ssl_trusted_certificate, which is how nginx trusts a CA" })

return cases
