-- Nothing lost between a send and its stream, against the emulator: when
-- the POST's answer is cut after the message was stored (reset mid_body,
-- truncate, malformed), ask returns the streamed answer and
-- send_message{ reconcile = true } the one in the history, both marked
-- recovered, and the message is stored once. The cases
-- (spec/support/recover_cases.lua) run on both transports: curl in this
-- process, ngx inside a real nginx; the assertions are the same.
local cjson = require "cjson"
local homie = require "homie"
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local cases = require "spec.support.recover_cases"

-- Each transport: start(server) returns run(case_name, i) -> the case's
-- result (JSON-decoded, so both transports hand over the same shapes), and
-- a stop function.
local TRANSPORTS = {
  { name = "curl", start = function(server)
      local client = homie.new{ api_key = server.api_key, base_url = server.url, transport = "curl", timeout = 10 }
      local env = { client = client, control = function(...) return server:control(...) end }
      return function(name, i) return cjson.decode(cjson.encode(cases[name](env, i))) end,
        function() client:close() end
    end },
  { name = "ngx", start = function(server)
      nginx.build()
      local app = nginx.start{ env = { MOCK_URL = server.url }, locations = { ["/r/case"] = [[
        local cjson = require "cjson"
        local homie = require "homie"
        local T = require "spec.support.ngx_t"
        local cases = require "spec.support.recover_cases"
        local client = homie.new{ api_key = T.KEY, base_url = T.mock_url(), timeout = 10 }
        local env = { client = client, control = function(method, path, body)
          local t = client.transport
          local resp = assert(t:request(T.req(t, method, path, { body = body and cjson.encode(body) or (method == "POST" and "{}" or nil) })))
          return cjson.decode(resp.body)
        end }
        T.reply(cases[ngx.var.arg_name](env, tonumber(ngx.var.arg_i)))
      ]] } }
      return function(name, i) return app:json("/r/case?name=" .. name .. "&i=" .. tostring(i or 0)) end,
        function() app:stop() end
    end },
}

for _, transport in ipairs(TRANSPORTS) do
  describe("recovered replies (" .. transport.name .. " transport)", function()
    local server, run, stop

    setup(function()
      server = mock.start{ chunk_delay_ms = 5 }
      run, stop = transport.start(server)
    end)
    teardown(function()
      if stop then stop() end
      server:stop()
    end)

    for i, case in ipairs(cases.AFTER_STORE) do
      it("ask returns the streamed answer after " .. case.name, function()
        local r = run("ask_after", i)
        assert.is_nil(r.err)
        assert.is_true(r.reply.recovered)
        assert.are.equal(case.kind, r.reply.from.kind)
        assert.is_true(r.reply.from.maybe_stored)
        assert.are.equal(r.streamed, r.reply.content)
        assert.are.equal(1, r.stored, "stored once")
        assert.are.equal(r.newest_answer, r.reply.id)
        assert.are.equal(cases.HOODIE, r.newest_question)
        assert.are.equal(0, r.pending)
        assert.are.equal(transport.name, r.transport)
      end)

      it("send_message{ reconcile = true } returns the stored answer after " .. case.name, function()
        local r = run("reconcile_after", i)
        assert.is_nil(r.err)
        assert.is_true(r.reply.recovered)
        assert.are.equal(case.kind, r.reply.from.kind)
        assert.are.equal("answer", r.reply.type)
        assert.are.equal(2, r.stored, "the earlier exchange and this one, once")
        assert.are.equal(r.newest_answer, r.reply.id)
        assert.are.equal(0, r.pending)
      end)
    end

    it("without reconcile, a send's error says whether the message may be stored", function()
      local r = run("maybe_stored")
      assert.are.equal("connection", r.cut.kind)
      assert.is_true(r.cut.maybe_stored)
      assert.are.equal(503, tonumber(r.refused.message:match("HTTP (%d+)")))
      assert.is_false(r.refused.maybe_stored)
      assert.are.equal(1, r.stored)
    end)

    it("a failure that never reached the application is not recovered, from the stream or the history", function()
      local r = run("not_reached")
      assert.are.equal(2, #r.tries)
      for _, try in ipairs(r.tries) do
        assert.is_false(try.asked)
        assert.is_false(try.ask_err.maybe_stored)
        assert.is_false(try.sent)
        assert.is_false(try.send_err.maybe_stored)
      end
      assert.are.equal(1, r.stored)
    end)
  end)
end
