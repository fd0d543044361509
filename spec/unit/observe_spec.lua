local observe = require "homie.observe"

describe("homie.observe", function()
  it("takes the trace id from a valid traceparent only", function()
    local tp = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
    assert.equal("4bf92f3577b34da6a3ce929d0e0e4736", observe.trace_id(tp))
    assert.is_nil(observe.trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))
    assert.is_nil(observe.trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"))
    assert.is_nil(observe.trace_id("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
    assert.is_nil(observe.trace_id("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"))
    assert.is_nil(observe.trace_id(nil))
  end)

  it("names routes by template, without ids or query", function()
    assert.equal("/v1/chats/{id}/messages", observe.route("/v1/chats/c_1/messages?limit=5"))
    assert.equal("/v1/chats/{id}/messages/events", observe.route("/v1/chats/x/messages/events"))
    assert.equal("/v1/chats", observe.route("/v1/chats"))
  end)

  it("never lets a failing hook break the caller", function()
    local logged
    observe.emit(function() error("boom") end, { type = "attempt" },
      function(fmt, ...) logged = fmt:format(...) end)
    assert.matches("observe hook failed: .*boom", logged)
    local got
    observe.emit(function(r) got = r end, { type = "ask" })
    assert.equal("ask", got.type)
    observe.emit(nil, { type = "ask" })  -- no hook: nothing happens
  end)
end)
