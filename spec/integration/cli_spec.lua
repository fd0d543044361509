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

    -- how: { server = (slow), width = (120), url = (PAGE; false: none) }
    local function start(extra, how)
      how = how or {}
      local vars = { "HOMIE_API_KEY=" .. shq(KEY), "HOMIE_BASE_URL=" .. shq((how.server or slow).url),
                     "HOMIE_CHATBOT_ID=" .. BOT }
      for k, v in pairs(extra or {}) do vars[#vars + 1] = k .. "=" .. shq(v) end
      local url = how.url == nil and PAGE or how.url
      term = tmux.start(("env -u NO_COLOR -u COLUMNS %s %s chat%s"):format(table.concat(vars, " "), RUN_HOMIE,
        url and (" --url " .. shq(url)) or ""), { width = how.width })
      return term:wait_for("you> ")
    end

    -- The chat's stored messages, through `homie history --json`.
    local function stored(screen, on)
      local chat_id = assert(screen:match("chat (%x+%-[%x%-]+)"))
      local code, out = homie({ "history", chat_id, "--json" }, api{ HOMIE_BASE_URL = (on or slow).url })
      assert.are.equal(0, code)
      return cjson.decode(out)
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

      term:type("2")  -- the second suggestion: about the hoodie in discussion
      term:wait_for("→ How does the sizing run%?")
      term:wait_for("homie> The Blue Hoodie runs true to size.-you> ")

      term:type("9")  -- no such suggestion: said, and nothing sent
      term:wait_for("no suggestion 9: pick 1 to 3")

      term:type("/history")
      screen = term:wait_for("you: How does the sizing run%?.-homie: The Blue Hoodie runs true to size.-you> ")
      assert.truthy(screen:find("you: " .. QUESTION, 1, true), screen)
      assert.are.equal(4, #stored(screen))

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

    it("leaves cleanly on Ctrl-C at the prompt, stopping the emulator --mock started (with a key of its own)", function()
      local tmp = empty_dir()
      -- A real key in HOMIE_API_KEY, set from a file so that no command
      -- line of the spec's own shows it either.
      local real = "sk-live-real-key-7391"
      local key_file = tmp .. ".key"
      local f = assert(io.open(key_file, "w")); f:write(real); f:close()
      finally(function() os.remove(key_file) end)
      term = tmux.start(("HOMIE_API_KEY=$(cat %s) TMPDIR=%s env -u HOMIE_BASE_URL %s chat --mock --url %s")
        :format(shq(key_file), shq(tmp), RUN_HOMIE, shq(PAGE)))
      term:wait_for("you> ", 20)
      assert.are_not.equal("", entries(tmp))  -- the emulator's files, while it runs
      -- No command line shows a key: neither HOMIE_API_KEY nor the emulator's.
      local ps = mock.sh("ps -eo args")
      assert.truthy(ps:find("nginx", 1, true), "ps lists the running emulator: " .. ps:sub(1, 200))
      assert.is_nil(ps:find(real, 1, true))
      assert.is_nil(ps:find("homie%-mock%-%x%x%x%x%x%x%x%x"))
      term:type(QUESTION)
      term:wait_for("3%. Do you have matching jeans%?.-you> ")
      term:send("C-c")
      assert.are.equal(0, term:exit_status())
      assert.are.equal("", entries(tmp))
      os.remove(tmp)
    end)

    it("edits the line (cursor keys move, nothing of them is sent) and recalls this session's lines", function()
      start(nil, { server = server })
      term:text("blue hodie")
      term:send("Left", "Left", "Left")
      term:text("o")
      term:send("Enter")
      term:wait_for("homie> The Blue Hoodie.-you> ")
      term:send("Up")  -- the line just sent comes back, to send again
      term:send("Enter")
      local screen = term:wait_for("homie> The Blue Hoodie.-homie> The Blue Hoodie.-you> ")
      local messages = stored(screen, server)
      assert.are.same({ "blue hoodie", "blue hoodie" }, { messages[1].content, messages[3].content })
      term:send("C-d")
      assert.are.equal(0, term:exit_status())
    end)

    it("Ctrl-C during an answer cancels that answer; the next question works; Ctrl-C at the prompt leaves", function()
      start()
      term:type(QUESTION)
      term:wait_for("homie> Yes!")
      term:send("C-c")
      local screen = term:wait_for("%(answer cancelled%)\nyou> ")
      assert.is_nil(screen:find(ANSWER, 1, true), "the whole answer was shown: nothing was cancelled")
      term:type("Do you have black jeans?")
      term:wait_for("homie> The Relaxed Black Jeans.-Relaxed Black Jeans%s+84%.00 EUR.-you> ", 30)
      term:send("C-c")
      assert.are.equal(0, term:exit_status())
    end)

    it("wraps to a 60-column terminal between words, URLs on their own line, from the default page", function()
      start({ NO_COLOR = "1" }, { server = server, width = 60, url = false })
      term:type(QUESTION)
      local screen = term:wait_for("3%. Do you have matching jeans%?.-you> ")
      assert.truthy(screen:find("page%s+https://store%.com/ "), screen)
      local lines = term:lines()
      -- Every line break is ours: the terminal wrapped no line (such a line
      -- would be one line of the joined screen, two here).
      local joined = {}
      for line in (screen .. "\n"):gmatch("([^\n]*)\n") do joined[#joined + 1] = line:gsub("%s+$", "") end
      for i, line in ipairs(lines) do lines[i] = line:gsub("%s+$", "") end
      while lines[#lines] == "" do lines[#lines] = nil end
      while joined[#joined] == "" do joined[#joined] = nil end
      assert.are.same(joined, lines)
      local text = {}
      for _, line in ipairs(lines) do
        assert.is_true(#line:gsub("[\128-\191]", "") <= 60, line)
        if line:find("^homie> ") then text[1] = line
        elseif text[1] and not text.done then
          if line:find("^  product") then text.done = true else text[#text + 1] = line end
        end
      end
      -- The answer's lines, joined at their breaks with one space, are the
      -- answer: no word was cut.
      assert.are.equal("homie> " .. ANSWER .. " A cosy everyday layer that pairs well with our Slim Fit Blue Jeans.",
        table.concat(text, " "))
      assert.truthy(screen:find("\n  Blue Hoodie  59%.99 EUR  in stock %(12%)\n    https://store%.com/products/blue%-hoodie\n"),
        screen)
      term:send("C-d")
      assert.are.equal(0, term:exit_status())
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

    it("send - reads the message from stdin; an empty message fails before a chat is made", function()
      local code, out, err = homie({ "send", "-", "--json" }, api(), "Do you have black jeans?\n")
      assert.are.equal(0, code, err)
      local reply = cjson.decode(out)
      assert.are.equal("Relaxed Black Jeans", reply.products[1].designation)
      local before = server:stats().requests
      for _, input in ipairs({ { "" }, { "-", "  \n" } }) do
        code, _, err = homie({ "send", input[1] }, api(), input[2])
        assert.are.equal(2, code)
        assert.truthy(err:find("the message is empty", 1, true), err)
      end
      assert.are.same(before, server:stats().requests)  -- no chat made, nothing sent
    end)

    it("--verbose and HOMIE_LOG=debug show each request on stderr, never the key; --version", function()
      local chat_id = new_chat_id()
      for _, how in ipairs({ { argv = { "history", chat_id, "--verbose" } },
                             { argv = { "history", chat_id }, env = { HOMIE_LOG = "debug" } } }) do
        local code, out, err = homie(how.argv, api(how.env))
        assert.are.equal(0, code, err)
        assert.truthy(out:find("you: hello", 1, true), out)
        assert.truthy(err:find("homie: server " .. server.url, 1, true), err)
        assert.truthy(err:find("homie: GET /v1/chats/" .. chat_id:gsub("%-", "%%-") .. "/messages %-> 200 in %d+ ms "
          .. "%[request id %x+%] attempt 1"), err)
        assert.is_nil(err:find(KEY, 1, true))
      end
      local code, _, err = homie({ "history", chat_id }, api())
      assert.are.equal(0, code)
      assert.are.equal("", err)  -- quiet without the switch
      local out
      code, out = homie({ "--version" }, {})
      assert.are.equal(0, code)
      assert.truthy(out:find("^homie %d+%.%d+%.%d+"), out)
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

    it("runs from a checkout in any directory, through a symlink, with no LUA_PATH", function()
      -- doc/cli.md: it runs straight from a checkout (after make). From /,
      -- neither "./lua" nor "./homie/*.so" is there: bin/homie must find
      -- the checkout's modules beside itself.
      local dir = empty_dir()
      os.execute(("ln -s %s %s/homie"):format(shq(HOMIE), shq(dir)))
      local p = io.popen(("cd / && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 %s %s/homie --version 2>&1")
        :format(shq(LUA), dir))
      local out = p:read("a")
      local _, _, code = p:close()
      os.execute("rm -rf " .. shq(dir))
      assert.are.equal(0, code, out)
      assert.truthy(out:find("^homie %d+%.%d+%.%d+"), out)
    end)
  end)

  describe("chat, from a pipe", function()
    it("works without --url (the default page) and writes no transient status lines", function()
      local code, out, err = homie({ "chat" }, api(), QUESTION .. "\n9\n")
      assert.are.equal(0, code, err)
      assert.truthy(out:find("page https://store.com/ ", 1, true), out)
      assert.truthy(out:find("you> " .. QUESTION .. "\n", 1, true), out)  -- the transcript
      assert.truthy(out:find("homie> " .. ANSWER, 1, true), out)
      assert.truthy(out:find("✓ Found 1 matching product(s)", 1, true), out)
      assert.truthy(out:find("no suggestion 9: pick 1 to 3", 1, true), out)
      for _, transient in ipairs({ "homie is typing", "searching products", "\r", "\27" }) do
        assert.is_nil(out:find(transient, 1, true), transient)
      end
    end)
  end)

  describe("mock", function()
    it("runs an emulator until Ctrl-C whose export lines serve every later command", function()
      local tmp = empty_dir()
      local term = tmux.start(("env -u HOMIE_API_KEY TMPDIR=%s %s mock"):format(shq(tmp), RUN_HOMIE))
      finally(function() term:stop() end)
      local screen = term:wait_for("export HOMIE_CHATBOT_ID=%S+", 20)
      local env = {}
      for k, v in screen:gmatch("export (HOMIE_[%u_]+)=(%S+)") do env[k] = v end
      assert.truthy(env.HOMIE_BASE_URL:find("^http://127%.0%.0%.1:%d+$"), env.HOMIE_BASE_URL)
      assert.truthy(env.HOMIE_API_KEY:find("^homie%-mock%-%x+$"), env.HOMIE_API_KEY)
      assert.are.equal(BOT, env.HOMIE_CHATBOT_ID)
      local ps = mock.sh("ps -eo args")
      assert.truthy(ps:find("nginx", 1, true), "ps lists the running emulator: " .. ps:sub(1, 200))
      assert.is_nil(ps:find(env.HOMIE_API_KEY, 1, true))
      local code, out = homie({ "send", QUESTION, "--json" }, env)
      assert.are.equal(0, code)
      local chat_id = cjson.decode(out).chatId
      code, out = homie({ "history", chat_id, "--json" }, env)  -- another command, the same chat
      assert.are.equal(0, code)
      assert.are.equal(2, #cjson.decode(out))
      code = homie({ "history", chat_id }, { HOMIE_BASE_URL = env.HOMIE_BASE_URL, HOMIE_API_KEY = "wrong" })
      assert.are.equal(5, code)  -- its own key only
      term:send("C-c")
      assert.are.equal(0, term:exit_status())
      assert.are.equal("", entries(tmp))
      os.remove(tmp)
    end)

    it("history and events refuse --mock and say what to do instead", function()
      for _, cmd in ipairs({ "history", "events" }) do
        local code, _, err = homie({ cmd, "00000000-0000-4000-8000-000000000000", "--mock" }, {})
        assert.are.equal(2, code)
        assert.truthy(err:find("knows no chat. Run `homie mock`", 1, true), err)
      end
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
      term:wait_for('homie: connected, following chat %x+.-"type":"message"}')
      term:send("C-c")
      assert.are.equal(130, term:exit_status())
    end)

    it("--verbose shows each stream request with its status, time and request id, never the key", function()
      local chat_id = new_chat_id()
      server:fault{ path = "/events$", fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
      local log = os.tmpname()
      finally(function() os.remove(log) end)
      os.execute(("env HOMIE_API_KEY=%s HOMIE_BASE_URL=%s timeout 3 %s events %s --last-event-id 0 --verbose >/dev/null 2>%s")
        :format(shq(KEY), shq(server.url), RUN_HOMIE, chat_id, shq(log)))
      local f = assert(io.open(log))
      local err = f:read("a")
      f:close()
      local path = ("/v1/chats/%s/messages/events"):format(chat_id):gsub("%-", "%%-")
      assert.truthy(err:find("homie: GET " .. path .. " %-> 503 in %d+ ms %[request id %x+%]"), err)
      assert.truthy(err:find("homie: GET " .. path .. " %-> 200 stream open in %d+ ms %[request id %x+%]"), err)
      assert.is_nil(err:find(KEY, 1, true))
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

      code, _, err = homie({ "history", chat_id }, api{ HOMIE_BASE_URL = "http://127.0.0.1:" .. mock.dead_port() })
      assert.are.equal(3, code)
      assert.truthy(err:find("^homie: connection %(no HTTP status%)"), err)
    end)

    it("usage mistakes exit 2 and name what was wrong", function()
      local code, _, err = homie({ "send", "hi", "--ulr", PAGE }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("unknown option '--ulr' for homie send; did you mean '--url'?", 1, true), err)
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
      code, _, err = homie({ "send", "hi", "--mock", "--base-url", server.url }, api())
      assert.are.equal(2, code)
      assert.truthy(err:find("--mock cannot be combined", 1, true), err)
    end)

    it("--base-url wins over HOMIE_BASE_URL", function()
      local own_chat = new_chat_id()
      local dead = "http://127.0.0.1:" .. mock.dead_port()
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
