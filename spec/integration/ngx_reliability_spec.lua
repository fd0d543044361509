-- The reliability cases (spec/support/reliability_cases.lua) with the ngx
-- transport, inside a real nginx; spec/integration/reliability_spec.lua runs them with libcurl.
require("spec.support.both").run("spec.support.reliability_cases", "ngx",
  { describe = describe, it = it, setup = setup, teardown = teardown })
