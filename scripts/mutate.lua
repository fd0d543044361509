-- make mutate: mutation testing. Each mutant in scripts/mutants.lua breaks
-- one documented behaviour by replacing one exact snippet of one file; the
-- spec files it names must then fail. Mutants are applied one at a time to
-- a temporary copy of the repository (never to the working tree), the C
-- core is rebuilt when a C file changed, and the named checks run under a
-- hard time limit.
--
-- Results, per mutant:
--   killed      a named check failed (or crashed)
--   survived    every named check passed: a test is missing or too weak
--   hung        a check ran past MUTATE_TIMEOUT. Every spec has its own hard
--               limit (spec/support/limit.lua), so a hang means a C call that
--               never returned. It counts as killed only for a mutant that
--               declares `hang_ok` (why it can only hang), else it fails the
--               run: no spec may hang.
--   equivalent  not run; the entry says why no test can tell it apart
--   stale       its snippet is not in the file exactly once: the code moved,
--               update the entry (fails the run)
--   no build    the mutated C does not compile: fix the entry (fails the run)
--
-- Environment: MUTATE_SAMPLE=N runs N mutants, a window picked by the
-- commit's hash (MUTATE_WINDOW=k picks it by hand); MUTATE_ONLY=id,id
-- runs those; MUTATE_CHECK=1 only reports stale entries (no run);
-- MUTATE_TIMEOUT seconds per check (default 180); MUTATE_KEEP=1
-- keeps the temporary copy and its logs. Exit status 0 only when nothing
-- survived, hung without leave, went stale or failed to build.
local LUA = os.getenv("LUA") or "lua5.4"

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local function run(cmd)
  local ok, how, code = os.execute(cmd)
  if ok then return 0 end
  return how == "signal" and 128 + code or code
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function count(hay, needle)
  local n, i = 0, 1
  while true do
    local s, e = hay:find(needle, i, true)
    if not s then return n end
    n, i = n + 1, e + 1
  end
end

local root = capture("cd " .. sh_quote(arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.. && pwd")
local mutants = dofile(root .. "/scripts/mutants.lua")

-- The modules (files under mutants.roots, see scripts/mutants.lua) with no
-- mutant that runs, and exemptions naming a file that is gone. Listed like
-- the mutation copy: tracked and untracked-but-not-ignored files.
local function uncovered()
  local mutated = {}
  for _, m in ipairs(mutants) do
    if not m.equivalent then mutated[m.file] = true end
  end
  local exempt = mutants.exempt or {}
  local missing, modules = {}, 0
  local list = capture("cd " .. sh_quote(root) .. " && { git ls-files -co --exclude-standard 2>/dev/null"
    .. " || find . -type f | sed 's|^[.]/||'; }")
  for path in list:gmatch("[^\n]+") do
    local f = io.open(root .. "/" .. path, "rb")
    local module = false
    for _, pattern in ipairs(mutants.roots or {}) do module = module or path:match(pattern) ~= nil end
    if f and module then
      modules = modules + 1
      if not mutated[path] and not exempt[path] then
        missing[#missing + 1] = "no mutant: " .. path .. " (add one, or exempt it with a reason)"
      end
    end
    if f then f:close() end
  end
  for path in pairs(exempt) do
    local f = io.open(root .. "/" .. path, "rb")
    if f then f:close() else missing[#missing + 1] = "exempt but gone: " .. path end
  end
  table.sort(missing)
  return missing, modules
end

-- MUTATE_CHECK=1: only check that every snippet is still in its file once,
-- and that every module has a mutant.
if os.getenv("MUTATE_CHECK") == "1" then
  local stale = 0
  for _, m in ipairs(mutants) do
    local f = io.open(root .. "/" .. m.file, "rb")
    local n = f and count(f:read("a"), m.from) or 0
    if f then f:close() end
    if n ~= 1 and not m.equivalent then
      stale = stale + 1
      print(("stale: %s (%s): snippet found %d times"):format(m.id, m.file, n))
    end
  end
  local missing, modules = uncovered()
  for _, line in ipairs(missing) do print(line) end
  print(("mutate: %d mutants, %d stale; %d modules, %d without a mutant")
    :format(#mutants, stale, modules, #missing))
  os.exit((stale == 0 and #missing == 0) and 0 or 1)
end

-- Which mutants run.
local chosen = {}
local only = os.getenv("MUTATE_ONLY")
local sample = tonumber(os.getenv("MUTATE_SAMPLE") or "")
if only and only ~= "" then
  local want = {}
  for id in only:gmatch("[^,%s]+") do want[id] = true end
  for _, m in ipairs(mutants) do if want[m.id] then chosen[#chosen + 1] = m end end
elseif sample and sample > 0 and sample < #mutants then
  -- A window chosen by the commit under test, never by the date: the same
  -- commit always runs the same mutants, so its CI answer cannot change from
  -- one day to the next. Successive commits spread over the whole list
  -- (`make mutate` runs all of it). MUTATE_WINDOW=k picks a window by hand.
  local window = tonumber(os.getenv("MUTATE_WINDOW") or "")
  if not window then
    local head = capture("cd " .. sh_quote(root) .. " && git rev-parse HEAD 2>/dev/null")
    window = tonumber(head:sub(1, 7), 16) or 0
  end
  local start = (window * sample) % #mutants
  for k = 0, sample - 1 do chosen[#chosen + 1] = mutants[(start + k) % #mutants + 1] end
else
  chosen = mutants
end

local timeout = tonumber(os.getenv("MUTATE_TIMEOUT") or "") or 180
local ids = {}
for _, m in ipairs(mutants) do
  assert(m.id and m.file and m.from and m.to and m.why, "mutant entry missing id/file/from/to/why")
  assert(not ids[m.id], "duplicate mutant id " .. m.id)
  ids[m.id] = true
  assert(m.equivalent or (m.specs and #m.specs > 0), m.id .. ": names no spec")
end

-- The temporary copy: tracked and untracked-but-not-ignored files, so an
-- uncommitted change is mutated as it is.
local tmp = capture("mktemp -d /tmp/homie-mutate.XXXXXX")
assert(tmp ~= "", "mktemp failed")
assert(run(("cd %s && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C %s -xf -")
  :format(sh_quote(root), sh_quote(tmp))) == 0, "copying the repository failed")
run("mkdir -p " .. sh_quote(tmp .. "/.mutate-logs"))
print(("mutate: %d of %d mutants, copy in %s"):format(#chosen, #mutants, tmp))

local function build()
  return run("cd " .. sh_quote(tmp) .. " && make -s build >/dev/null 2>&1") == 0
end
assert(build(), "the unmutated copy does not build")
-- The unmutated build, restored after each C mutant instead of rebuilding.
run(("cd %s && rm -rf .mutate-build && cp -a homie .mutate-build"):format(sh_quote(tmp)))

local function restore_build()
  run(("cd %s && rm -rf homie && cp -a .mutate-build homie && find homie -type f -exec touch {} +")
    :format(sh_quote(tmp)))
end

-- One check: a spec file (busted), or "make:TARGET".
local function check(m, spec, log)
  local cmd
  local target = spec:match("^make:(.+)$")
  if target then
    cmd = ("make -s %s"):format(sh_quote(target))
  else
    cmd = ("HOMIE_SPEC_LIMIT=%d %s /usr/bin/busted -o TAP %s %s"):format(
      m.spec_limit or 30, LUA, m.filter and ("--filter=" .. sh_quote(m.filter)) or "", sh_quote(spec))
  end
  return run(("cd %s && timeout -k 5 %d sh -c %s >>%s 2>&1"):format(
    sh_quote(tmp), timeout, sh_quote(cmd), sh_quote(log)))
end

local results, tally = {}, { killed = 0, survived = 0, hung = 0, equivalent = 0, stale = 0, ["no build"] = 0 }
local bad = 0
local t_all = os.time()
for i, m in ipairs(chosen) do
  local t0 = os.time()
  local result
  local detail = ""
  if m.equivalent then
    result, detail = "equivalent", m.equivalent
  else
    local path = tmp .. "/" .. m.file
    local original = read(path)
    local n = count(original, m.from)
    if n ~= 1 then
      result, detail = "stale", ("snippet found %d times in %s"):format(n, m.file)
    else
      local s, e = original:find(m.from, 1, true)
      write(path, original:sub(1, s - 1) .. m.to .. original:sub(e + 1))
      local is_c = m.file:match("%.[ch]$")
      if is_c and not build() then
        result, detail = "no build", "the mutated C does not compile"
      else
        local log = tmp .. "/.mutate-logs/" .. m.id .. ".log"
        result = "survived"
        for _, spec in ipairs(m.specs) do
          local rc = check(m, spec, log)
          if rc == 124 or rc == 137 then
            result = m.hang_ok and "killed" or "hung"
            detail = spec .. " hung" .. (m.hang_ok and (" (expected: " .. m.hang_ok .. ")") or "")
            break
          elseif rc ~= 0 then
            result, detail = "killed", "by " .. spec
            break
          end
        end
        if result ~= "killed" then
          detail = (detail ~= "" and detail .. "; " or "") .. "log: " .. log
        end
      end
      write(path, original)
      if is_c then restore_build() end
    end
  end
  tally[result] = tally[result] + 1
  if result ~= "killed" and result ~= "equivalent" then bad = bad + 1 end
  results[#results + 1] = { m = m, result = result, detail = detail, secs = os.time() - t0 }
  io.write(("[%d/%d] %-10s %-28s %3ds  %s\n"):format(i, #chosen, result, m.id, os.time() - t0, detail))
  io.flush()
end

print()
print(("%-28s %-34s %-10s %s"):format("mutant", "file", "result", "behaviour broken"))
for _, r in ipairs(results) do
  print(("%-28s %-34s %-10s %s"):format(r.m.id, r.m.file, r.result, r.m.why))
end
print()
print(("mutate: %d killed, %d survived, %d hung, %d equivalent, %d stale, %d no build; %d mutants in %d s")
  :format(tally.killed, tally.survived, tally.hung, tally.equivalent, tally.stale, tally["no build"],
    #chosen, os.time() - t_all))
if chosen == mutants then
  -- The whole list: also every module has a mutant (as MUTATE_CHECK=1 checks).
  local missing, modules = uncovered()
  for _, line in ipairs(missing) do print(line) end
  print(("mutate: %d modules, %d without a mutant"):format(modules, #missing))
  bad = bad + #missing
end
if os.getenv("MUTATE_KEEP") == "1" or bad > 0 then
  if os.getenv("MUTATE_KEEP") == "1" then print("mutate: copy kept in " .. tmp)
  else print("mutate: logs of the failures are in " .. tmp .. "/.mutate-logs") end
else
  run("rm -rf " .. sh_quote(tmp))
end
os.exit(bad == 0 and 0 or 1)
