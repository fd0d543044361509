-- bin/homie, the terminal client, as a user runs it: `homie chat` in a real
-- pseudo-terminal (tmux) against the emulator, the other commands by their
-- output and exit statuses.
local mock = require "spec.support.mock"
local tmux = require "spec.support.tmux"
local socket = require "socket"
local cjson = require "cjson"

local HOMIE = mock.root .. "/bin/homie"
-- The interpreter running this suite runs the script too: under `make asan`
-- that is the sanitizer-linked host, the only one that can load that build.
local LUA = (arg and arg[-1]) or "lua5.4"
if LUA:find("/", 1, true) and not LUA:find("^/") then LUA = mock.root .. "/" .. LUA end  -- some specs cd away
local PAGE = "https://store.com/products/blue-hoodie"
local QUESTION = "Does the blue hoodie come in size L?"
local ANSWER = "Yes! Size L is in stock: we have 12 of the Blue Hoodie left at 59.99 EUR."
local BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
local KEY = "homie-cli-spec-key"
-- The card row: name, price and currency right-aligned, stock, URL.
local CARD = "Blue Hoodie%s+59%.99 EUR%s+in stock %(12%)%s+https://store%.com/products/blue%-hoodie"

local shq = mock.shq
local RUN_HOMIE = shq(LUA) .. " " .. shq(HOMIE)

local function read_file(path) return assert(mock.read_file(path)) end

-- Runs bin/homie with args (a list) and env (a table of variables, every
-- other HOMIE_ variable unset); returns exit status, stdout, stderr.
-- `timeout` bounds every run.
local function homie(argv, env, stdin)
  local dir = io.popen("mktemp -d /tmp/homie-cli-spec.XXXXXX"):read("l")
  local vars = { "env -u HOMIE_API_KEY -u HOMIE_BASE_URL -u HOMIE_CHATBOT_ID -u NO_COLOR" }
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. shq(v) end
  local words = {}
  for i, a in ipairs(argv) do words[i] = shq(a) end
  local input = "/dev/null"
  if stdin then
    input = dir .. "/in"
    local f = assert(io.open(input, "wb")); f:write(stdin); f:close()
  end
  local cmd = ("%s timeout -k 5 60 %s %s <%s >%s/out 2>%s/err"):format(table.concat(vars, " "), RUN_HOMIE,
    table.concat(words, " "), shq(input), dir, dir)
  local _, _, code = os.execute(cmd)
  local out, err = read_file(dir .. "/out"), read_file(dir .. "/err")
  os.execute("rm -rf " .. shq(dir))
  return code, out, err
end

-- A fresh empty directory, for TMPDIR: the emulator that --mock starts
-- keeps its files there, so an empty directory afterwards proves it stopped.
local function empty_dir()
  return io.popen("mktemp -d /tmp/homie-cli-tmp.XXXXXX"):read("l")
end
local function entries(dir)
  local p = io.popen("ls -A " .. shq(dir))
  local s = p:read("a")
  p:close()
  return s
end

describe("bin/homie", function()
  -- server answers at once; slow spaces its events 120 ms apart, so a
  -- screen can catch an answer half written.
  local server, slow
  setup(function()
    server = mock.start{ api_keys = { KEY }, chunk_delay_ms = 0 }
    slow = mock.start{ api_keys = { KEY }, chunk_delay_ms = 120 }
  end)
  teardown(function()
    server:stop()
    slow:stop()
  end)

  local function api(extra)
    local env = { HOMIE_API_KEY = KEY, HOMIE_BASE_URL = server.url, HOMIE_CHATBOT_ID = BOT }
    for k, v in pairs(extra or {}) do env[k] = v end
    return env
  end

  local function new_chat_id()
    local code, out = homie({ "send", "hello", "--url", PAGE, "--json" }, api())
    assert.are.equal(0, code)
    return cjson.decode(out).chatId
  end

  describe("chat, in a terminal", function()
    local term
    after_each(function() if term then term:stop() end end)

    local function start(extra)
      local vars = { "HOMIE_API_KEY=" .. shq(KEY), "HOMIE_BASE_URL=" .. shq(slow.url),
                     "HOMIE_CHATBOT_ID=" .. BOT }
      for k, v in pairs(extra or {}) do vars[#vars + 1] = k .. "=" .. shq(v) end
      term = tmux.start(("env -u NO_COLOR %s %s chat --url %s"):format(table.concat(vars, " "), RUN_HOMIE, shq(PAGE)))
      return term:wait_for("you> ")
    end

    it("streams the answer, shows steps, product cards and numbered suggestions", function()
      start()
      term:type(QUESTION)
      -- While Homie works: the typing indicator or the search step, then a
      -- part of the answer before the rest (chunks 150 ms apart).
      local seen_status, seen_partial = false, false
      local deadline = socket.gettime() + 20
      local screen
      repeat
        screen = term:screen()
        if screen:find("searching products…", 1, true) or screen:find("homie is typing…", 1, true) then
          seen_status = true
        end
        local shown = (screen:match("homie> ([^\n]*)") or ""):gsub("%s+$", "")
        if #shown > 0 and #shown < #ANSWER and ANSWER:sub(1, #shown) == shown then
          seen_partial = true
        end
        socket.sleep(0.02)
      until screen:find("3%. Do you have matching jeans%?") or socket.gettime() > deadline
      assert.is_true(seen_status, "no typing indicator or tool step was shown")
      assert.is_true(seen_partial, "the answer did not appear piece by piece")
      assert.truthy(screen:find("homie> " .. ANSWER, 1, true), screen)
      assert.truthy(screen:find("✓ Found 1 matching product(s)", 1, true), screen)
      assert.truthy(screen:find("product%s+price%s+stock%s+url"), screen)
      assert.truthy(screen:find(CARD), screen)
      assert.truthy(screen:find("1. What other colours does it come in?", 1, true), screen)
      assert.truthy(screen:find("2. How does the sizing run?", 1, true), screen)
      -- Colour on a terminal.
      assert.truthy(term:screen(true):find("\27%[[%d;]*m"), "no colour on a terminal")

      term:type("2")  -- the second suggestion
      term:wait_for("→ How does the sizing run%?")
      term:wait_for("homie> [^\n]*Trail Running Shoes.-you> ")

      term:type("/history")
      screen = term:wait_for("you: How does the sizing run%?.-homie: [^\n]*Trail Running Shoes.-you> ")
      assert.truthy(screen:find("you: " .. QUESTION, 1, true), screen)

      term:type("/quit")
      assert.are.equal(0, term:exit_status())
    end)

    it("honours NO_COLOR, and /url, /new and unknown commands", function()
      start{ NO_COLOR = "1" }
      term:type("/url https://store.com/products/trail-running-shoes")
      term:wait_for("page: https://store%.com/products/trail%-running%-shoes")
      term:type("/new")
      term:wait_for("new chat %x+%-")
      term:type("/history")
      term:wait_for("%(no messages yet%)")
      term:type("/frobnicate")
      term:wait_for("unknown command /frobnicate")
      assert.is_nil(term:screen(true):find("\27%[[%d;]*m"), "colour despite NO_COLOR")
      term:send("C-d")
      assert.are.equal(0, term:exit_status())
    end)

    it("leaves cleanly on Ctrl-C, stopping the emulator it started with --mock", function()
      local tmp = empty_dir()
      term = tmux.start(("env -u HOMIE_API_KEY -u HOMIE_BASE_URL TMPDIR=%s %s chat --mock --url %s")
        :format(shq(tmp), RUN_HOMIE, shq(PAGE)))
      term:wait_for("you> ", 20)
      assert.are_not.equal("", entries(tmp))  -- the emulator's files, while it runs
      term:type(QUESTION)
      term:wait_for("Blue Hoodie")
      term:send("C-c")
      assert.are.equal(0, term:exit_status())
      assert.are.equal("", entries(tmp))
      os.remove(tmp)
    end)
  end)

  describe("send", function()
    it("prints the reply, its product table and suggestions", function()
      local code, out, err = homie({ "send", QUESTION, "--url", PAGE }, api())
      assert.are.equal(0, code, err)
      assert.truthy(out:find(ANSWER, 1, true), out)
      assert.truthy(out:find(CARD), out)
      assert.truthy(out:find("  1. What other colours does it come in?", 1, true), out)
      assert.is_nil(out:find("\27", 1, true), "colour on a pipe")
      assert.truthy(err:find("new chat %x+%-"), err)
    end)

    it("--json prints the MessageDto, and --chat continues a chat", function()
      local chat_id = new_chat_id()
      local code, out = homie({ "send", QUESTION, "--url", PAGE, "--chat", chat_id, "--json" }, api())
      assert.are.equal(0, code)
      assert.are.equal(1, select(2, out:gsub("\n", "")))  -- one line
      local reply = cjson.decode(out)
      assert.are.equal(chat_id, reply.chatId)
      assert.are.equal("answer", reply.type)
      assert.are.equal("Blue Hoodie", reply.products[1].designation)
      assert.are.equal(12, reply.products[1].availability.quantity)
      assert.are.equal("How does the sizing run?", reply.suggestions[2])
    end)

    it("--mock runs against an emulator it starts and stops", function()
      local tmp = empty_dir()
      local code, out, err = homie({ "send", QUESTION, "--url", PAGE, "--mock" }, { TMPDIR = tmp })
      assert.are.equal(0, code, err)
      assert.truthy(out:find(CARD), out)
      assert.are.equal("", entries(tmp))
      os.remove(tmp)
    end)

    it("--mock outside a checkout, with no homie-mock to start, exits 12", function()
      -- As luarocks installs it: the script alone, the modules on LUA_PATH.
      local dir = empty_dir()
      os.execute(("cp %s %s/homie"):format(shq(HOMIE), shq(dir)))
      local cmd = ("cd / && env PATH=/usr/bin:/bin LUA_PATH=%s LUA_CPATH=%s %s %s/homie send hi --url x --mock 2>&1")
        :format(shq(mock.root .. "/lua/?.lua;" .. mock.root .. "/lua/?/init.lua;;"), shq(mock.root .. "/?.so;;"), shq(LUA), dir)
      local p = io.popen(cmd)
      local out = p:read("a")
      local _, _, code = p:close()
      os.execute("rm -rf " .. shq(dir))
      assert.are.equal(12, code)
      assert.truthy(out:find("--mock needs bin/homie-mock", 1, true), out)
    end)
  end)

  describe("history", function()
    it("prints a chat's messages, as text or JSON", function()
      local chat_id = new_chat_id()
      local code, out = homie({ "history", chat_id, "--json" }, api())
      assert.are.equal(0, code)
      local list = cjson.decode(out)
      assert.are.equal(2, #list)
      assert.are.same({ "question", "answer" }, { list[1].type, list[2].type })
      assert.are.equal("hello", list[1].content)
      assert.truthy(out:find('"suggestions":[]', 1, true), "an empty array must stay an array")
      code, out = homie({ "history", chat_id }, api())
      assert.are.equal(0, code)
      assert.truthy(out:find("you: hello\n", 1, true), out)
      assert.truthy(out:find("homie: ", 1, true), out)
    end)
  end)

  describe("events", function()
    -- Reads `homie events` line by line until `want` lines, then stops it.
    local function events(chat_id, extra, want)
      local argv = { RUN_HOMIE, "events", chat_id }
      for _, a in ipairs(extra) do argv[#argv + 1] = shq(a) end
      local p = io.popen(("echo $$; exec env HOMIE_API_KEY=%s HOMIE_BASE_URL=%s timeout 20 %s 2>/dev/null")
        :format(shq(KEY), shq(server.url), table.concat(argv, " ")))
      local pid = p:read("l")
      local lines = {}
      while #lines < want do
        local line = p:read("l")
        if not line then break end
        lines[#lines + 1] = cjson.decode(line)
      end
      os.execute("kill " .. pid .. " 2>/dev/null")
      p:close()
      return lines
    end

    it("prints one JSON line per event and resumes from --last-event-id", function()
      local chat_id = new_chat_id()  -- its events are stored: ids 1..N, the last the message
      local all = events(chat_id, { "--last-event-id", "0" }, 4)
      assert.are.equal(4, #all)
      assert.are.same({ "1", "typing", true }, { all[1].id, all[1].type, all[1].data.typing })
      assert.are.equal("product_search", all[2].data.toolName)
      local later = events(chat_id, { "--last-event-id", "2" }, 2)
      assert.are.same({ "3", "4" }, { later[1].id, later[2].id })
      assert.are.same(all[3], later[1])
    end)

    it("stops on Ctrl-C with status 130", function()
      local chat_id = new_chat_id()
      local term = tmux.start(("env HOMIE_API_KEY=%s HOMIE_BASE_URL=%s %s events %s --last-event-id 0")
        :format(shq(KEY), shq(server.url), RUN_HOMIE, chat_id))
      finally(function() term:stop() end)
      term:wait_for('"type":"message"}')
      term:send("C-c")
      assert.are.equal(130, term:exit_status())
    end)

    it("goes on across a dropped connection without losing an event", function()
      local chat_id = new_chat_id()
      server:fault{ path = "/events$", fault = { cut_after = 3 } }
      local got = events(chat_id, { "--last-event-id", "0" }, 6)
      for i = 1, 6 do assert.are.equal(tostring(i), got[i].id) end
    end)
  end)

  describe("errors", function()
    local chat_id
    setup(function() chat_id = new_chat_id() end)

    it("are one line with kind, status and request id, never the key, and a status per kind", function()
      local code, out, err = homie({ "history", chat_id }, api{ HOMIE_API_KEY = "sk-wrong-key-42" })
      local _
      assert.are.equal(5, code)
      assert.are.equal("", out)
      assert.truthy(err:match("^homie: authentication %(HTTP 401%): .* %[request id %x+%]\n$"), err)
      assert.is_nil(err:find("sk-wrong-key-42", 1, true))

      code, _, err = homie({ "history", "00000000-0000-4000-8000-000000000000" }, api())
      assert.are.equal(7, code)
      assert.truthy(err:find("not_found (HTTP 404)", 1, true), err)

      server:fault{ path = "/messages$", fault = { status = 403 } }
      code, _, err = homie({ "history", chat_id }, api())
      assert.are.equal(6, code, err)

      server:fault{ path = "/messages$", fault = { status = 422 } }
      code = homie({ "send", "hi", "--url", PAGE, "--chat", chat_id }, api())
      assert.are.equal(8, code)

      server:fault{ path = "/messages$", times = 3, fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
      code, _, err = homie({ "history", chat_id }, api())
      assert.are.equal(10, code)
      assert.truthy(err:find("server (HTTP 503)", 1, true), err)

      code, _, err = homie({ "history", chat_id }, api{ HOMIE_BASE_URL = "http://127.0.0.1:" .. mock.free_port() })
      assert.are.equal(3, code)
      assert.truthy(err:find("^homie: connection %(no HTTP status%)"), err)
    end)

    it("usage mistakes exit 2 and name what was wrong", function()
      local code, _, err = homie({ "send", "hi", "--ulr", PAGE }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("unknown option '--ulr' for homie send; did you mean '--url'?", 1, true), err)
      code, _, err = homie({ "send", "hi" }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("--url PAGE", 1, true), err)
      code, _, err = homie({ "history", "not-an-id" }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("^homie: chat_id must be an id"), err)
      code, _, err = homie({ "send", "hi", "--url", PAGE }, { HOMIE_CHATBOT_ID = BOT })
      assert.are.equal(2, code)
      assert.truthy(err:find("HOMIE_API_KEY", 1, true), err)
      code, _, err = homie({ "histroy" }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("did you mean 'history'?", 1, true), err)
      assert.are.equal(2, (homie({}, api())))
      code, _, err = homie({ "history", "x", "--staging", "--base-url", server.url }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("pick one", 1, true), err)
      code, _, err = homie({ "history", "x", "--mock", "--base-url", server.url }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("--mock cannot be combined", 1, true), err)
    end)

    it("--base-url wins over HOMIE_BASE_URL", function()
      local own_chat = new_chat_id()
      local dead = "http://127.0.0.1:" .. mock.free_port()
      local code = homie({ "history", own_chat, "--base-url", server.url }, api{ HOMIE_BASE_URL = dead })
      assert.are.equal(0, code)
    end)

    it("every command has --help", function()
      for _, cmd in ipairs({ "chat", "send", "history", "events" }) do
        local code, out = homie({ cmd, "--help" }, {})
        assert.are.equal(0, code)
        assert.truthy(out:find("^usage: homie " .. cmd), out)
        assert.truthy(out:find("--mock", 1, true), out)
      end
      local code, out = homie({ "--help" }, {})
      assert.are.equal(0, code)
      assert.truthy(out:find("Commands:", 1, true))
    end)
  end)
end)
