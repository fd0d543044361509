-- Nothing lost between a send and its stream, against the emulator: when
-- the POST's answer is cut after the message was stored (reset mid_body,
-- truncate, malformed), ask returns the streamed answer and
-- send_message{ reconcile = true } the one in the history, both marked
-- recovered, and the message is stored once. The transport is a parameter:
-- every case runs once per name in TRANSPORTS.
local homie = require "homie"
local mock = require "spec.support.mock"
local fx = require "spec.support.fixtures"

-- "ngx" joins once the real-nginx harness can run these cases.
local TRANSPORTS = { "curl" }

-- The faults that answer after the message is stored, and the kind of error
-- each leaves the send with.
local AFTER_STORE = {
  { fault = { reset = "mid_body" }, kind = "connection" },
  { fault = { truncate = true }, kind = "protocol" },
  { fault = { malformed = true }, kind = "protocol" },
}

for _, transport in ipairs(TRANSPORTS) do
  describe("recovered replies (" .. transport .. ")", function()
    local server, client

    local function received() return server:stats().messages_received end
    local function newest(chat)
      local first = assert(chat:list_messages{ size = 100 })
      return first.items[#first.items], first.items[#first.items - 1]
    end
    local function fault_post(fault)
      server:fault{ method = "POST", path = "^/v1/chats/[^/]+/messages$", fault = fault }
    end

    setup(function()
      server = mock.start{ chunk_delay_ms = 5 }
      client = homie.new{ api_key = server.api_key, base_url = server.url, transport = transport, timeout = 10 }
    end)
    teardown(function()
      client:close()
      server:stop()
    end)
    before_each(function() server:reset() end)

    for _, case in ipairs(AFTER_STORE) do
      local name = next(case.fault)
      it("ask returns the streamed answer after " .. name, function()
        local chat = assert(client:create_chat{ chatbotId = fx.BOT })
        local before = received()
        fault_post(case.fault)
        local chunks = {}
        local reply, err = chat:ask(fx.HOODIE, { currentUrl = fx.PAGE, final_wait = 10, on_event = function(ev)
          if ev.type == "chunk" then chunks[#chunks + 1] = ev.data.content end
        end })
        assert.is_nil(err)
        assert.is_true(reply.recovered)
        assert.are.equal(case.kind, reply.recovered_from.kind)
        assert.is_true(reply.recovered_from.maybe_stored)
        assert.are.equal(table.concat(chunks), reply.content)
        assert.are.equal(before + 1, received(), "stored once")
        local answer, question = newest(chat)
        assert.are.equal(answer.id, reply.id)
        assert.are.equal(fx.HOODIE, question.content)
        assert.are.equal(0, server:stats().faults_pending)
      end)

      it("send_message{ reconcile = true } returns the stored answer after " .. name, function()
        local chat = assert(client:create_chat{ chatbotId = fx.BOT })
        assert(chat:send("Any jeans in 32?", { currentUrl = fx.PAGE }))  -- history before it
        local before = received()
        fault_post(case.fault)
        local reply, err = chat:send(fx.HOODIE, { currentUrl = fx.PAGE, reconcile = true })
        assert.is_nil(err)
        assert.is_true(reply.recovered)
        assert.are.equal(case.kind, reply.recovered_from.kind)
        assert.are.equal(before + 1, received(), "stored once")
        local answer = newest(chat)
        assert.are.equal(answer.id, reply.id)
        assert.are.equal(answer.content, reply.content)
        assert.are.equal("answer", reply.type)
      end)
    end

    it("without reconcile, a send's error says whether the message may be stored", function()
      local chat = assert(client:create_chat{ chatbotId = fx.BOT })
      fault_post({ reset = "mid_body" })
      local none, err = chat:send(fx.HOODIE, { currentUrl = fx.PAGE })
      assert.is_nil(none)
      assert.is_true(err.maybe_stored)
      fault_post({ status = 503 })
      none, err = chat:send(fx.HOODIE, { currentUrl = fx.PAGE, max_retries = 0 })
      assert.is_nil(none)
      assert.is_false(err.maybe_stored)
      assert.are.equal(1, received())
    end)

    it("a failure that never reached the application is not recovered, from the stream or the history", function()
      local chat = assert(client:create_chat{ chatbotId = fx.BOT })
      assert(chat:send(fx.HOODIE, { currentUrl = fx.PAGE }))  -- an identical question, answered
      for _, fault in ipairs({ { status = 503 }, { status = 429 } }) do
        fault_post(fault)
        local none, err = chat:ask(fx.HOODIE, { currentUrl = fx.PAGE, max_retries = 0 })
        assert.is_nil(none)
        assert.is_false(err.maybe_stored)
        fault_post(fault)
        none, err = chat:send(fx.HOODIE, { currentUrl = fx.PAGE, max_retries = 0, reconcile = true })
        assert.is_nil(none)
        assert.is_false(err.maybe_stored)
      end
      assert.are.equal(1, received())
    end)
  end)
end
