-- The SSE parser as Lua sees it (sse.parser, csrc/lsse.c over csrc/sse.c).
local sse = require "homie.sse"

-- Feeds `s` in pieces of `size` bytes (whole when nil) and returns every event.
local function parse(s, size, opts)
  local p = sse.parser(opts)
  local all = {}
  size = size or #s
  for i = 1, math.max(#s, 1), size do
    local evs = assert(p:feed(s:sub(i, i + size - 1)))
    for _, ev in ipairs(evs) do all[#all + 1] = ev end
  end
  p:finish()
  return all, p
end

-- Every chunking must give the same result as one chunk.
local function parse_every_way(s, opts)
  local want, p = parse(s, nil, opts)
  for size = 1, #s do
    local got, q = parse(s, size, opts)
    assert.same(want, got, "chunk size " .. size)
    assert.equal(p:last_event_id(), q:last_event_id())
    assert.equal(p:retry(), q:retry())
  end
  return want, p
end

describe("homie.sse parser", function()
  it("parses events with type, data and id", function()
    local evs, p = parse_every_way("id: 1\nevent: chunk\ndata: a\n\ndata: b\ndata: c\n\n")
    assert.same({
      { type = "chunk", data = "a", id = "1" },
      { type = "message", data = "b\nc", id = "1" },
    }, evs)
    assert.equal("1", p:last_event_id())
  end)

  it("treats CRLF, CR and LF alike, also when CR and LF are in different chunks", function()
    local want = { { type = "message", data = "a\nb" }, { type = "message", data = "c" } }
    assert.same(want, (parse_every_way("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n")))
    assert.same(want, (parse_every_way("data: a\rdata: b\r\rdata: c\r\r")))
    local p = sse.parser()
    assert.same({}, p:feed("data: x\r"))
    assert.same({}, p:feed("\n"))            -- the LF belongs to the CR before it
    assert.same({ { type = "message", data = "x" } }, p:feed("\r\n"))
  end)

  it("skips a BOM only at the very start, also when split", function()
    assert.same({ { type = "message", data = "x" } }, (parse_every_way("\239\187\191data: x\n\n")))
    assert.same({}, (parse_every_way("\239\187\191\239\187\191data: x\n\n")))
    local p = sse.parser()
    p:feed("\239"); p:feed("\187")
    assert.same({ { type = "message", data = "y" } }, p:feed("\191data: y\n\n"))
  end)

  it("handles comments, colons, spaces, bare field names and unknown fields", function()
    local evs = parse_every_way(": ping\ndata:  two spaces\ndata:x:y\ndata\nfoo: bar\nData: no\n\n")
    assert.same({ { type = "message", data = " two spaces\nx:y\n" } }, evs)
  end)

  describe("comments = true", function()
    local STREAM = ":first\r\n: second \ndata: a\n:in the event\ndata: b\n\n:\r:last\n"

    it("reports each comment's text after the colon, in stream order, however split", function()
      local items = parse_every_way(STREAM, { comments = true })
      assert.same({ "first", " second ", "in the event", { type = "message", data = "a\nb" }, "", "last" },
        items)
    end)

    it("calls each's fn(nil, text) for a comment and counts it", function()
      local got = {}
      local n = sse.parser{ comments = true }:each(STREAM, function(ty, data)
        got[#got + 1] = (ty or "comment") .. "=" .. data
      end)
      assert.equal(6, n)
      assert.same({ "comment=first", "comment= second ", "comment=in the event", "message=a\nb",
        "comment=", "comment=last" }, got)
    end)

    it("is off by default and when false: comments are skipped", function()
      assert.same({ { type = "message", data = "a\nb" } }, parse_every_way(STREAM))
      assert.same({ { type = "message", data = "a\nb" } }, parse_every_way(STREAM, { comments = false }))
    end)

    it("counts a comment against max_event_bytes like any line", function()
      local p = sse.parser{ comments = true, max_event_bytes = 8 }
      local evs, err, others = p:feed(":" .. ("x"):rep(20) .. "\n\n:short\ndata: ok\n\n")
      assert.is_nil(evs)
      assert.matches("max_event_bytes", err)
      assert.same({ "short", { type = "message", data = "ok" } }, others)
    end)
  end)

  describe("wire() (the relay's writer)", function()
    -- What the relay wrote from event tables before wire() existed: the
    -- stream's id (the event's, "" after a reset, else `fallback`), the
    -- type unless "message", a data line per line; CR, LF, NUL cut from
    -- id and type.
    local function clean(v) return (v:gsub("[%z\r\n]", "")) end
    local function reference(s, size, fallback)
      local p, out, saw = sse.parser(), {}, false
      for i = 1, math.max(#s, 1), size do
        for _, ev in ipairs(assert(p:feed(s:sub(i, i + size - 1)))) do
          local id = ev.id
          if id ~= nil then saw = true elseif saw then id = "" else id = fallback end
          if id ~= nil then out[#out + 1] = "id: " .. clean(id) .. "\n" end
          if ev.type ~= "message" and clean(ev.type) ~= "" then out[#out + 1] = "event: " .. clean(ev.type) .. "\n" end
          for line in (ev.data .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = "data: " .. line .. "\n" end
          out[#out + 1] = "\n"
        end
      end
      return table.concat(out)
    end
    local function wired(s, size, fallback)
      local p, out, saw, count = sse.parser(), {}, false, 0
      for i = 1, math.max(#s, 1), size do
        local bytes, n, had = p:wire(s:sub(i, i + size - 1), saw and "" or fallback)
        out[#out + 1], count, saw = bytes, count + n, saw or had
      end
      return table.concat(out), count
    end
    local STREAM = "\239\187\191data: first\r\n\r\nevent: chunk\rid: 7\rdata: a\rdata:b\r\n\r"
      .. ": comment\nretry: 10\nevent: message\ndata: plain\n\nid\ndata: reset\n\n"
      .. "event: t\0y\0pe\ndata: x\0y\ndata\n\nevent: \0\nid: 9\n\ndata: last\n\ndata: unterminated"

    it("writes what the table path wrote, however the input is split", function()
      for _, fallback in ipairs({ false, "from-browser", "bad\r\nid" }) do
        fallback = fallback or nil
        local want = reference(STREAM, #STREAM, fallback)
        assert.truthy(want:find("data: a\ndata: b\n", 1, true))
        for size = 1, #STREAM do
          local got, n = wired(STREAM, size, fallback)
          assert.equal(want, got, "chunk size " .. size)
          assert.equal(6, n)
        end
      end
    end)

    it("returns the events before an oversize one, then the error, and nothing after", function()
      local p = sse.parser{ max_event_bytes = 16 }
      local ok, err, bytes, n = p:wire("id: 1\ndata: fine\n\ndata: " .. ("x"):rep(40) .. "\n\ndata: after\n\n")
      assert.is_nil(ok)
      assert.matches("max_event_bytes", err)
      assert.equal("id: 1\ndata: fine\n\n", bytes)
      assert.equal(1, n)
    end)
  end)

  it("dispatches nothing for a block without data, but resets the type and keeps the id", function()
    local evs, p = parse_every_way("event: typing\nid: 5\n\ndata: x\n\n")
    assert.same({ { type = "message", data = "x", id = "5" } }, evs)
    assert.equal("5", p:last_event_id())
  end)

  it("ignores an id with NUL and resets on an empty id", function()
    local evs, p = parse_every_way("id: 1\ndata: a\n\nid: 2\0\ndata: b\n\nid\ndata: c\n\n")
    assert.same({
      { type = "message", data = "a", id = "1" },
      { type = "message", data = "b", id = "1" },
      { type = "message", data = "c" },
    }, evs)
    assert.is_nil(p:last_event_id())
  end)

  it("honours retry only when it is all digits", function()
    local _, p = parse_every_way("retry: 1000\nretry: 5s\nretry:\nretry: -1\n\n")
    assert.equal(1000, p:retry())
    assert.is_nil(sse.parser():retry())
  end)

  it("clamps a huge retry at 2^53 ms", function()
    local _, p = parse("retry: 99999999999999999999\n\n")
    assert.equal(9007199254740992, p:retry())
  end)

  it("ends the stream on finish and reset: what a raising callback left is not delivered after", function()
    for _, how in ipairs({ "finish", "reset" }) do
      local p = sse.parser()
      local ok = pcall(p.each, p, "data: 1\n\ndata: 2\n\n", function(_, d) if d == "1" then error("stop") end end)
      assert.is_false(ok)
      p[how](p)
      assert.same({}, p:feed(""), how)
      assert.same({ { type = "message", data = "3" } }, p:feed("data: 3\n\n"), how)
    end
  end)

  it("drops an unterminated event on finish, and keeps last id and retry", function()
    local p = sse.parser()
    assert.same({}, p:feed("retry: 7\nid: 1\n\nid: 2\ndata: half"))
    p:finish()
    assert.equal("1", p:last_event_id())
    assert.equal(7, p:retry())
    assert.same({ { type = "message", data = "new", id = "1" } }, p:feed("data: new\n\n"))
    -- Whole lines of an event that never got its blank line are dropped too.
    assert.same({}, p:feed("event: gone\ndata: gone\n"))
    p:finish()
    assert.same({}, p:feed("\n"))
    p:reset()
    assert.is_nil(p:last_event_id())
    assert.is_nil(p:retry())
  end)

  describe("max_event_bytes", function()
    it("returns nil, err, events and carries on with the next event", function()
      local p = sse.parser { max_event_bytes = 16 }
      local evs, err, got = p:feed("data: ok\n\ndata: 0123456789abcdef\ndata: more\n\ndata: next\n\n")
      assert.is_nil(evs)
      assert.matches("max_event_bytes %(16 bytes%)", err)
      assert.same({ { type = "message", data = "ok" }, { type = "message", data = "next" } }, got)
      assert.same({ { type = "message", data = "again" } }, p:feed("data: again\n\n"))
    end)

    it("reports the same error however the input is split", function()
      local s = "data: a\n\ndata: " .. ("x"):rep(40) .. "\n\ndata: b\n\n"
      for size = 1, #s do
        local p = sse.parser { max_event_bytes = 20 }
        local evs, errs = {}, 0
        for i = 1, #s, size do
          local got, _, partial = p:feed(s:sub(i, i + size - 1))
          if not got then errs = errs + 1; got = partial end
          for _, ev in ipairs(got) do evs[#evs + 1] = ev.data end
        end
        assert.same({ "a", "b" }, evs)
        assert.equal(1, errs)
      end
    end)

    it("delivers an event of exactly max_event_bytes and drops one byte more, however split", function()
      -- The bound counts the pending line: "data: " and ten bytes are 16.
      local s = "data: 0123456789\n\ndata: 0123456789a\n\ndata: z\n\n"
      for size = 1, #s do
        local p = sse.parser { max_event_bytes = 16 }
        local got, errs = {}, 0
        for i = 1, #s, size do
          local evs, _, partial = p:feed(s:sub(i, i + size - 1))
          if not evs then errs = errs + 1; evs = partial end
          for _, ev in ipairs(evs) do got[#got + 1] = ev.data end
        end
        assert.same({ "0123456789", "z" }, got, "chunk size " .. size)
        assert.equal(1, errs, "chunk size " .. size)
      end
    end)

    it("reports a line that never ends as soon as the bytes held for it pass the bound", function()
      local p = sse.parser { max_event_bytes = 100 }
      assert.same({}, p:feed("data: " .. ("x"):rep(50)))
      for _ = 1, 4 do assert.same({}, p:feed(("y"):rep(10))) end -- 96 bytes held
      local evs, err = p:feed(("y"):rep(10))
      assert.is_nil(evs)
      assert.matches("max_event_bytes %(100 bytes%)", err)
      -- The rest of that line and event are dropped; the next one arrives.
      assert.same({}, p:feed(("y"):rep(500)))
      assert.same({ { type = "message", data = "ok" } }, p:feed("\n\ndata: ok\n\n"))
    end)

    it("bounds an event at 1 MiB by default", function()
      local p = sse.parser()
      local fits = "data: " .. ("x"):rep(1048576 - 6) .. "\n\n"
      local evs = assert(p:feed(fits))
      assert.equal(1048576 - 6, #evs[1].data)
      local evs2, err = p:feed("data: " .. ("x"):rep(1048576 - 5) .. "\n\n")
      assert.is_nil(evs2)
      assert.matches("max_event_bytes %(1048576 bytes%)", err)
    end)

    it("says how many events came before the first dropped one", function()
      local long = ("x"):rep(40)
      local p = sse.parser { max_event_bytes = 20 }
      local evs, _, all, before = p:feed("data: a\n\ndata: " .. long .. "\n\ndata: b\n\ndata: " .. long
        .. "\n\ndata: c\n\n")
      assert.is_nil(evs)
      assert.same({ "a", "b", "c" }, { all[1].data, all[2].data, all[3].data })
      assert.equal(1, before)
      local n, _, count, before2 = p:each("data: " .. long .. "\n\ndata: d\n\n", function() end)
      assert.is_nil(n)
      assert.equal(1, count)
      assert.equal(0, before2)
    end)

    it("gives the error count form in each()", function()
      local p = sse.parser { max_event_bytes = 8 }
      local seen = {}
      local n, err, count = p:each("data: 0123456789\n\ndata: y\n\n", function(_, d) seen[#seen + 1] = d end)
      assert.is_nil(n)
      assert.matches("max_event_bytes", err)
      assert.equal(1, count)
      assert.same({ "y" }, seen)
    end)
  end)

  describe("each()", function()
    it("calls fn(type, data, id) per event and returns the count", function()
      local p = sse.parser()
      local got = {}
      local n = p:each("id: 9\nevent: chunk\ndata: a\n\ndata: b\n\n", function(t, d, id)
        got[#got + 1] = { t, d, id }
      end)
      assert.equal(2, n)
      assert.same({ { "chunk", "a", "9" }, { "message", "b", "9" } }, got)
    end)

    it("rethrows a callback error and delivers the rest of the chunk next time", function()
      local p = sse.parser()
      local got = {}
      local ok, err = pcall(p.each, p, "data: 1\n\ndata: 2\n\ndata: 3\n", function(_, d)
        got[#got + 1] = d
        if d == "1" then error("boom", 0) end
      end)
      assert.is_false(ok)
      assert.equal("boom", err)
      assert.same({ "1" }, got)
      local evs = p:feed("\ndata: 4\n\n")
      assert.same({ "2", "3", "4" }, { evs[1].data, evs[2].data, evs[3].data })
    end)

    it("refuses re-entry and close from inside the callback", function()
      local p = sse.parser()
      local inner
      p:each("data: x\n\n", function() inner = { pcall(p.feed, p, "data: y\n\n") } end)
      assert.is_false(inner[1])
      assert.matches("inside its own each", inner[2])
      p:each("data: x\n\n", function() inner = { pcall(p.close, p) } end)
      assert.is_false(inner[1])
      assert.same({ { type = "message", data = "z" } }, p:feed("data: z\n\n"))
    end)

    it("loses and repeats nothing when callbacks raise at random points", function()
      local parts = {}
      for i = 1, 200 do
        parts[i] = ("%sid: %d\r\ndata: %s\n: ping\n\n"):format(i % 3 == 0 and "event: chunk\n" or "", i, ("x"):rep(i % 17))
      end
      local s = table.concat(parts)
      local want = parse(s)
      math.randomseed(7)
      local p, got = sse.parser(), {}
      local function on(t, d, id)
        got[#got + 1] = { type = t, data = d, id = id }
        if math.random() < 0.3 then error("callback failed") end
      end
      local i = 1
      while i <= #s do
        local size = math.random(1, 60)
        pcall(p.each, p, s:sub(i, i + size - 1), on)
        i = i + size
      end
      while not pcall(p.each, p, "", on) do end -- drain what the errors left behind
      assert.equal(#want, #got)
      assert.same(want, got)
    end)

    it("allows reading last_event_id() and retry() from inside the callback", function()
      local p = sse.parser()
      local seen = {}
      p:each("retry: 5\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n", function(_, _, id)
        seen[#seen + 1] = { id, p:last_event_id(), p:retry() }
      end)
      assert.same({ { "1", "1", 5 }, { "2", "2", 5 } }, seen)
    end)
  end)

  describe("arguments and lifecycle", function()
    it("rejects unknown options and bad types, naming them", function()
      assert.has_error(function() sse.parser { max_event = 1 } end, "homie: unknown sse.parser option 'max_event'")
      assert.has_error(function() sse.parser { max_event_bytes = "1" } end)
      assert.has_error(function() sse.parser { max_event_bytes = 0 } end)
      assert.has_error(function() sse.parser { max_event_bytes = 1.5 } end)
      assert.has_error(function() sse.parser { comments = 1 } end,
        "homie: sse.parser: comments must be a boolean, got number")
      assert.has_error(function() sse.parser("x") end)
      local p = sse.parser()
      assert.has_error(function() p:feed(42) end)
      assert.has_error(function() p:feed() end)
      assert.has_error(function() p:each("data: x\n\n") end)
      assert.has_error(function() p.feed({}, "x") end)
    end)

    it("closes idempotently; a closed parser raises", function()
      local p = sse.parser()
      assert.matches("^homie.SSEParser %(", tostring(p))
      p:feed("data: half")
      p:close()
      p:close()
      assert.equal("homie.SSEParser (closed)", tostring(p))
      assert.has_error(function() p:feed("x") end, "homie: attempt to use a closed sse parser")
      assert.has_error(function() p:last_event_id() end)
    end)

    it("supports to-be-closed variables where the language has them", function()
      if _VERSION ~= "Lua 5.4" then return end
      local p = assert(load [[
        local sse = ...
        local q <close> = sse.parser()
        q:feed("data: x")
        return q
      ]])(sse)
      assert.equal("homie.SSEParser (closed)", tostring(p))
    end)

    it("has the named metatable, with one function for close, __gc and __close", function()
      local mt = getmetatable(sse.parser())
      assert.equal(debug.getregistry()["homie.SSEParser"], mt)
      assert.equal(mt.close, mt.__gc)
      assert.equal(mt.close, mt.__close)
    end)

    it("names the option when max_event_bytes is out of range", function()
      assert.has_error(function() sse.parser { max_event_bytes = 2 ^ 32 + 1 } end,
        "homie: sse.parser option 'max_event_bytes' must be a whole number from 1 to 2^32, got " .. tostring(2 ^ 32 + 1))
      assert.has_error(function() sse.parser { [1] = 2 } end, "homie: sse.parser option names must be strings, got number")
    end)
  end)

  it("parses a large event spanning many chunks", function()
    local big = ("0123456789"):rep(20000)
    local s = "event: message\nid: 42\ndata: " .. big .. "\n\n"
    local p = sse.parser()
    local n = 0
    for i = 1, #s, 4096 do
      local evs = p:feed(s:sub(i, i + 4095))
      for _, ev in ipairs(evs) do
        n = n + 1
        assert.equal(big, ev.data)
        assert.equal("42", ev.id)
      end
    end
    assert.equal(1, n)
  end)
end)

describe("homie.sse now", function()
  it("is a clock in seconds that never goes back", function()
    local t0 = sse.now()
    local prev = t0
    for _ = 1, 1000 do
      local t = sse.now()
      assert.is_true(t >= prev)
      prev = t
    end
    require("socket").sleep(0.02)
    local waited = sse.now() - t0
    assert.is_true(waited >= 0.015 and waited < 5, "slept 0.02 s, clock says " .. waited)
  end)
end)
