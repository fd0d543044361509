-- homie.message: how a reply is shaped (README: "A product that only has
-- `uri` also gets `url`"), marked when recovered, and dated (createdAt).
local message = require "homie.message"

describe("homie.message", function()
  it("gives a product that only has uri a url, and leaves the others alone", function()
    local m = message.normalize{ products = { { uri = "/p/1" }, { uri = "/p/2", url = "https://s/p/2" }, "odd" } }
    assert.are.equal("/p/1", m.products[1].url)
    assert.are.equal("https://s/p/2", m.products[2].url)
    assert.are.equal("odd", m.products[3])
    assert.are.equal("x", message.normalize("x"))
  end)

  it("marks a recovered reply, keeping the failure that lost it", function()
    local err = { kind = "connection" }
    local m = message.recovered({ id = "a", products = { { uri = "/p" } } }, err)
    assert.is_true(m.recovered)
    assert.are.equal(err, m.recovered_from)
    assert.are.equal("/p", m.products[1].url)
  end)

  it("knows an answer by its type and id", function()
    assert.is_true(message.is_answer{ type = "answer", id = "a" })
    assert.is_false(message.is_answer{ type = "question", id = "a" })
    assert.is_false(message.is_answer{ type = "answer" })
    assert.is_false(message.is_answer("answer"))
  end)

  it("reads ISO-8601 times with fractions, z, a space and offsets, and nothing else", function()
    local at = 1751992331
    assert.are.equal(at, message.epoch("2025-07-08T16:32:11Z"))
    assert.are.equal(at, message.epoch("2025-07-08t16:32:11.250z"))
    assert.are.equal(at, message.epoch("2025-07-08 16:32:11Z"))
    assert.are.equal(at, message.epoch("2025-07-08T18:32:11+02:00"))
    assert.are.equal(at, message.epoch("2025-07-08T14:02:11-0230"))
    assert.are.equal(1709208000, message.epoch("2024-02-29T12:00:00Z"))
    for _, bad in ipairs({ "2025-07-08", "2025-07-08T16:32:11", "2025-07-08T16:32:11+2", "yesterday", 12 }) do
      assert.is_nil(message.epoch(bad), tostring(bad))
    end
  end)

  it("takes a message as stored since a send only inside the clock-skew window", function()
    local since, now = 1751992331, 1751992400
    local function at(t) return { createdAt = os.date("!%Y-%m-%dT%H:%M:%SZ", t) } end
    assert.is_true(message.stored_since(at(since), since, now))
    assert.is_true(message.stored_since(at(since - message.SKEW), since, now))
    assert.is_false(message.stored_since(at(since - message.SKEW - 1), since, now))
    assert.is_true(message.stored_since(at(now + message.SKEW), since, now))
    assert.is_false(message.stored_since(at(now + message.SKEW + 1), since, now))
    assert.is_true(message.stored_since({ createdAt = "garbled" }, since, now)) -- unreadable: cannot rule out
    assert.is_true(message.stored_since({}, since, now))
  end)
end)
