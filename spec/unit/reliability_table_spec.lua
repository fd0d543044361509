-- spec/README.md's table of the cases both transports run is the one the
-- case lists make: a case added, renamed or marked different shows there.
local t = require "spec.support.reliability_table"

describe("the reliability table of spec/README.md", function()
  it("lists every shared case as the case lists say (scripts/reliability-table --write refreshes it)", function()
    assert.are.equal(t.markdown(), t.current())
  end)

  it("is made only when the spec files run the cases on the transport they claim", function()
    assert.is_true(t.runs("spec/integration/ngx_reliability_spec.lua", "spec.support.reliability_cases", "ngx"))
    assert.is_false(t.runs("spec/integration/reliability_spec.lua", "spec.support.reliability_cases", "ngx"))
    assert.is_false(t.runs("spec/integration/reliability_spec.lua", "spec.support.recover_cases", "curl"))
  end)
end)
