-- Runtime settings, passed by bin/homie-mock through environment variables
-- (declared with `env` in nginx.conf) so no value is ever spliced into config
-- text: keys may contain any character.
local M = {}

local loaded = false

local function load()
  if loaded then return end
  loaded = true
  M.keys = {}
  M.key_list = {}
  for key in (os.getenv("HOMIE_MOCK_API_KEYS") or "homie-test-key"):gmatch("[^\n]+") do
    M.keys[key] = true
    M.key_list[#M.key_list + 1] = key
  end
  M.heartbeat = tonumber(os.getenv("HOMIE_MOCK_HEARTBEAT")) or 15
  M.chunk_delay = (tonumber(os.getenv("HOMIE_MOCK_CHUNK_DELAY_MS")) or 30) / 1000
  M.max_stream_seconds = tonumber(os.getenv("HOMIE_MOCK_MAX_STREAM_SECONDS")) or 600
end

function M.get()
  load()
  return M
end

return M
