-- The reliability cases (spec/support/reliability_cases.lua) with the
-- libcurl transport; spec/integration/ngx_reliability_spec.lua runs the same ones in nginx.
require("spec.support.both").run("spec.support.reliability_cases", "curl",
  { describe = describe, it = it, setup = setup, teardown = teardown })
