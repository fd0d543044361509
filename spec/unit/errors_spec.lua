-- homie.Error as the README shows it: kinds, the string form, the helpers.
local homie = require "homie"
local errors = require "homie.errors"

describe("errors", function()
  it("408 is a timeout, every other 4xx without a kind of its own an invalid_request", function()
    assert.are.equal("timeout", errors.kind_of_status(408))
    assert.are.equal("invalid_request", errors.kind_of_status(418))
    assert.are.equal("server", errors.kind_of_status(599))
  end)

  it("prints kind, status, message, request id and attempts", function()
    local e = errors.new({ kind = "rate_limit", status = 429, message = "slow down",
      request_id = "req-1", attempts = 3 })
    assert.are.equal("homie: rate_limit (HTTP 429): slow down [request id req-1] after 3 attempts", tostring(e))
    assert.are.equal("homie: connection: refused", tostring(errors.new({ kind = "connection", message = "refused", attempts = 1 })))
  end)

  it("is not retryable unless it says so", function()
    assert.is_false(errors.new({ kind = "protocol", message = "x" }).retryable)
    assert.is_true(errors.new({ kind = "server", message = "x", retryable = true }).retryable)
  end)

  it("homie.is_error tells an error from any other value", function()
    assert.is_true(homie.is_error(errors.new({ kind = "server", message = "x" })))
    for _, v in ipairs({ {}, { kind = "server", message = "x" }, "homie: server", 1, false }) do
      assert.is_false(homie.is_error(v))
    end
    assert.is_false(homie.is_error(nil))
  end)
end)
