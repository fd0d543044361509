-- What every bin/homie command shares: the configuration (environment and
-- flags), the client, the emulator under --mock, and the outputs.
local args = require "homie.cli.args"
local term = require "homie.cli.term"
local mock = require "homie.cli.mock"
local render = require "homie.cli.render"

local M = {}
local Context = {}
Context.__index = Context

-- The docs' example chat bot: the emulator accepts any id, so --mock needs
-- none to be named.
local MOCK_CHATBOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
M.MOCK_CHATBOT = MOCK_CHATBOT
-- The page sent with each message when --url names none: a shop's front
-- page (the emulator's shop).
M.DEFAULT_PAGE = "https://store.com/"

-- env: { getenv = os.getenv, root = checkout root or nil }
function M.new(command, opts, env)
  local getenv = env.getenv
  local self = setmetatable({ command = command, opts = opts, getenv = getenv, root = env.root,
    stdout = env.stdout or io.stdout, stderr = env.stderr or io.stderr, stdin = env.stdin or io.stdin }, Context)
  self.tty = env.tty
  if self.tty == nil then self.tty = term.isatty(1) end
  self.stdin_tty = env.stdin_tty
  if self.stdin_tty == nil then self.stdin_tty = term.isatty(0) end
  self.paint = term.painter(self.tty and term.wants_colour(1, getenv))
  self.width = env.width
  if self.width == nil and self.tty then self.width = term.columns(getenv) end
  self.DEFAULT_PAGE = M.DEFAULT_PAGE
  return self
end

function Context:out(s) self.stdout:write(s); self.stdout:flush() end
function Context:note(s) self.stderr:write(s, "\n"); self.stderr:flush() end

local function env_value(getenv, name)
  local v = getenv(name)
  if v == "" then return nil end
  return v
end

-- The client, made on first use (starting the emulator under --mock).
-- Returns client or nil, err (a table with kind and message).
function Context:client()
  if self._client then return self._client end
  local o, getenv = self.opts, self.getenv
  local key, base  -- base: the emulator's, or the one the flags and environment name
  if o.mock then
    if o.staging or o.base_url then
      args.usage_error("--mock cannot be combined with --staging or --base-url", self.command)
    end
    -- A fresh key the emulator alone knows: HOMIE_API_KEY, which may be a
    -- real one, never goes near the emulator.
    key = mock.new_key()
    local m, why = mock.start(self.root, key)
    if not m then return nil, { kind = "emulator", message = why } end
    self.mock, base = m, m.url
  else
    key = env_value(getenv, "HOMIE_API_KEY")
    if o.staging and o.base_url then
      args.usage_error("--staging and --base-url name two different servers: pick one", self.command)
    end
    if not key then
      args.usage_error("no API key: set HOMIE_API_KEY (or try --mock, the local emulator)", self.command)
    end
    base = o.base_url or (not o.staging and env_value(getenv, "HOMIE_BASE_URL")) or nil
  end
  self.secret = key
  local homie = require "homie"
  -- --verbose or HOMIE_LOG=debug: the client's log line per attempt
  -- (method, path, status, time, request id) on stderr, the key redacted.
  local logger
  if o.verbose or env_value(getenv, "HOMIE_LOG") == "debug" then
    logger = function(line) self:note(render.redact(line, key)) end
  end
  -- getenv: the flags above already decided between HOMIE_BASE_URL and
  -- --staging; the library must not read the environment again.
  self._client = homie.new{ api_key = key, base_url = base, environment = o.staging and "staging" or nil,
    user_agent = "homie-cli", logger = logger, getenv = function() return nil end }
  if logger then logger("homie: server " .. self._client.base_url) end
  return self._client
end

-- The chat bot for a new chat: --chatbot, HOMIE_CHATBOT_ID, the emulator's
-- example under --mock; else a usage error.
function Context:chatbot()
  local id = self.opts.chatbot or env_value(self.getenv, "HOMIE_CHATBOT_ID")
  if not id and self.opts.mock then id = MOCK_CHATBOT end
  if not id then
    args.usage_error("a new chat needs a chat bot: --chatbot ID or HOMIE_CHATBOT_ID (or continue one with --chat ID)",
      self.command)
  end
  return id
end

-- A new chat, or --chat's. Returns chat, created (boolean) or nil, err.
function Context:open_chat(chat_id)
  local bot = not chat_id and self:chatbot()  -- a usage error before any work
  local client, err = self:client()
  if not client then return nil, err end
  if chat_id then return client:chat(chat_id), false end
  local chat
  chat, err = client:create_chat{ chatbotId = bot }
  if not chat then return nil, err end
  return chat, true
end

function Context:close()
  if self.mock then self.mock:stop() end
  self.mock = nil
end

return M
