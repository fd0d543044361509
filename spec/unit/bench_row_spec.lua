-- bench/row.lua: the one row format of `make bench` (bench/README.md,
-- "Rows"): which way is better, met, at floor or MISSED on the median round, the
-- spread of the rounds, and the count of misses CHECK=1 exits on.
local row = require "bench.row"

local function line(r)
  local text = row.render({ row.check(r) })
  return text:match("\n[^\n]*\n(.*)$")
end

describe("bench rows", function()
  it("judges the median round against the target, on the better side", function()
    local higher = { name = "r", rounds = { 9, 1, 5 }, peer = "p", peer_rounds = { 10, 10, 10 }, better = "higher" }
    higher.target = 0.5
    assert.are.equal("met", row.result(higher))
    higher.target = 0.6
    assert.are.equal("MISSED", row.result(higher))
    local lower = { name = "m", rounds = { 70, 60, 66 }, better = "lower", target = 64 }
    assert.are.equal("MISSED", row.result(lower))
    lower.target = 66
    assert.are.equal("met", row.result(lower))
    assert.are.equal("-", row.result({ name = "c", rounds = { 1 } }))
    assert.are.equal("MISSED", row.result({ name = "f", failed = "crashed" }))
  end)

  it("calls a miss 'at floor' only when its measured floor misses too and homie is within 10% of it", function()
    local r = { name = "list", rounds = { 72, 70, 74 }, peer = "transport", peer_rounds = { 100, 100, 100 },
      better = "higher", target = 0.8, floor = "transport + cjson", floor_rounds = { 75, 76, 74 } }
    assert.are.equal("at floor", row.result(row.check(r)))
    assert.matches("floor: transport %+ cjson, 0%.96x of it", line(r))
    r.floor_rounds = { 85, 84, 86 } -- the floor meets the target: no excuse
    assert.are.equal("MISSED", row.result(r))
    r.rounds, r.floor_rounds = { 78, 78, 78 }, { 82, 82, 82 } -- near a floor that meets it: still no excuse
    assert.are.equal("MISSED", row.result(r))
    r.floor_rounds = { 75, 76, 74 }
    r.rounds = { 66, 65, 67 } -- homie at 0.88x of a floor that misses
    assert.are.equal("MISSED", row.result(r))
    r.rounds = { 80, 81, 79 }
    assert.are.equal("met", row.result(r))
    r.rounds = { 76, 79, 77 } -- above its floor, still under the target
    assert.are.equal("at floor", row.result(r))
    local mem = { name = "mem", rounds = { 17 }, better = "lower", target = 16, floor = "libcurl alone", floor_rounds = { 16.5 } }
    assert.are.equal("at floor", row.result(row.check(mem)))
    mem.floor_rounds = { 15 } -- 17 is 0.88x of 15 the better way up
    assert.are.equal("MISSED", row.result(mem))
    mem.rounds = { 15.5 }
    assert.are.equal("met", row.result(mem))
    local _, missed = row.render({ row.check(r) })
    assert.are.equal(0, missed)
    assert.has_error(function() row.check{ name = "z", rounds = { 1 }, target = 1, better = "higher", floor_rounds = { 1 } } end)
    assert.has_error(function() row.check{ name = "z", rounds = { 1 }, floor = "f", floor_rounds = { 1 } } end)
  end)

  it("shows the ratio, the spread of the rounds and the result", function()
    local l = line{ name = "list", unit = "req/s", rounds = { 80, 90, 60 }, peer = "raw", peer_rounds = { 100, 100, 100 },
      better = "higher", target = 0.9 }
    assert.matches("list %(req/s%)", l)
    assert.matches("0%.80x", l)
    assert.matches("0%.60x%-0%.90x %(3%)", l)
    assert.matches(">= 0%.9x", l)
    assert.matches("MISSED", l)
  end)

  it("counts the misses, failed workloads included", function()
    local _, missed = row.render({
      row.check{ name = "a", rounds = { 1 }, better = "lower", target = 2 },
      row.check{ name = "b", rounds = { 3 }, better = "lower", target = 2 },
      row.check{ name = "c", failed = "no nginx" },
    })
    assert.are.equal(2, missed)
  end)

  it("collects the rows a bench script printed, and refuses malformed ones", function()
    local rows = row.collect('noise\nrow\t{"name":"x","rounds":[1,2],"better":"higher","target":1}\nmore noise\n')
    assert.are.equal(1, #rows)
    assert.are.equal("x", rows[1].name)
    assert.has_error(function() row.check{ name = "y", rounds = { 1 }, target = 1 } end)
    assert.has_error(function() row.check{ name = "z", rounds = { 1, 2 }, peer = "p", peer_rounds = { 1 } } end)
  end)
end)
