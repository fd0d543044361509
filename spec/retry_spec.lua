local retry = require "homie.retry"

describe("retry.server_wait", function()
  it("reads Retry-After in seconds", function()
    assert.are.equal(3, retry.server_wait({ ["retry-after"] = "3" }))
    assert.are.equal(1.5, retry.server_wait({ ["retry-after"] = "1.5" }))
  end)
  it("prefers retry-after-ms", function()
    assert.are.equal(0.25, retry.server_wait({ ["retry-after-ms"] = "250", ["retry-after"] = "9" }))
  end)
  it("reads an HTTP date relative to now", function()
    local now = os.time()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", now + 7)
    local w = retry.server_wait({ ["retry-after"] = date }, now)
    assert.are.equal(7, w)
  end)
  it("caps what the server asks at 60 s", function()
    assert.are.equal(60, retry.server_wait({ ["retry-after"] = "3600" }))
  end)
  it("ignores garbage", function()
    assert.is_nil(retry.server_wait({ ["retry-after"] = "soon" }))
    assert.is_nil(retry.server_wait({}))
  end)
end)

describe("retry.backoff", function()
  it("doubles from 0.5 s and caps at 8 s, with at most a quarter of jitter", function()
    local none = function() return 0 end
    local full = function() return 1 end
    assert.are.equal(0.5, retry.backoff(1, none))
    assert.are.equal(1, retry.backoff(2, none))
    assert.are.equal(4, retry.backoff(4, none))
    assert.are.equal(8, retry.backoff(10, none))
    assert.are.equal(0.375, retry.backoff(1, full))
  end)
end)

describe("retry.decide", function()
  local function resp(status, headers) return { status = status, headers = headers or {} } end
  local http = { kind = "server" }
  it("retries the documented statuses for idempotent calls", function()
    for _, s in ipairs({ 408, 409, 429, 500, 502, 503, 504 }) do
      assert.is_number(retry.decide(http, 1, resp(s), nil, true), "status " .. s)
    end
    for _, s in ipairs({ 400, 401, 403, 404, 413, 422, 501 }) do
      assert.is_nil(retry.decide(http, 1, resp(s), nil, true), "status " .. s)
    end
  end)
  it("retries a message send only when the server did not act on it", function()
    assert.is_number(retry.decide(http, 1, resp(429), nil, false))
    assert.is_number(retry.decide(http, 1, resp(503), nil, false))
    assert.is_nil(retry.decide(http, 1, resp(500), nil, false))
    assert.is_nil(retry.decide(http, 1, resp(502), nil, false))
    local conn = { kind = "connection" }
    assert.is_number(retry.decide(conn, 1, nil, { kind = "connection", sent = false }, false))
    assert.is_nil(retry.decide(conn, 1, nil, { kind = "connection", sent = true }, false))
    assert.is_number(retry.decide(conn, 1, nil, { kind = "connection", sent = true }, true))
  end)
  it("uses the server's wait when it gives one", function()
    assert.are.equal(2, retry.decide(http, 1, resp(503, { ["retry-after"] = "2" }), nil, false))
  end)
  it("never retries a bad certificate or a protocol error", function()
    assert.is_nil(retry.decide({ kind = "connection" }, 1, nil, { kind = "connection", detail = "tls", sent = false }, true))
    assert.is_nil(retry.decide({ kind = "protocol" }, 1, nil, { kind = "protocol", sent = true }, true))
  end)
end)
